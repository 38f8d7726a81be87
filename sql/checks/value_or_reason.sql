-- check: every company x metric x period has a value or a recorded reason for its absence.
-- returns the rows with neither.
select cik, metric, period_type, fiscal_year, fiscal_quarter
from core.metric_values
where value is null and null_reason is null
