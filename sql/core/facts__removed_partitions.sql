-- core.facts: the companies core.companies holds whose partition record (registered as partition_records)
-- says 'removed' (`capexwatch companies remove` leaves that record; a record that is merely absent, say
-- a mistyped partitions folder, removes nothing). grain: cik
select cik
from partition_records
where status = 'removed'
  and cik in (select cik from core.companies)
order by cik
