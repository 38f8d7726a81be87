-- check: core.metric_values has one row per company x metric x period. returns duplicated keys.
select cik, metric, period_type, fiscal_year, fiscal_quarter, count(*) as rows
from core.metric_values
group by all
having count(*) > 1
