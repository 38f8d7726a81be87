-- core.facts: the companies whose partition record (registered as partition_records) differs from what
-- core.companies holds, and whether the record brings facts; removed companies are not loaded again.
-- grain: cik
select r.cik, r.status = 'loaded' as has_facts
from partition_records r
left join core.companies c using (cik)
where r.status is distinct from 'removed'
  and (c.cik is null
   or r.status is distinct from c.status
   or r.raw_sha256 is distinct from c.raw_sha256
   or r.ticker is distinct from c.ticker)
order by r.cik
