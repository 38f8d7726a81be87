-- core.facts: the companies core.companies holds whose partition record (registered as partition_records) is
-- gone, as `capexwatch companies remove` leaves them. grain: cik
select cik
from core.companies
where cik not in (select cik from partition_records where cik is not null)
order by cik
