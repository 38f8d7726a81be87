-- check: core.metric_values has one row per company x metric x period. returns duplicated keys.
-- a first pass groups one hash of each key, cheaper than the key's five columns (6 M rows at 2,400 companies);
-- only the rows whose hash repeats are grouped again by the key itself (two keys sharing a hash part there)
with repeated as (
    select hash(cik, metric, period_type, fiscal_year, fiscal_quarter) as key_hash
    from core.metric_values
    group by key_hash
    having count(*) > 1
)

select cik, metric, period_type, fiscal_year, fiscal_quarter, count(*) as rows
from core.metric_values
where hash(cik, metric, period_type, fiscal_year, fiscal_quarter) in (select key_hash from repeated)
group by all
having count(*) > 1
