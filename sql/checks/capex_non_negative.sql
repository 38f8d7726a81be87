-- check: capex is cash paid for property and equipment, positive by convention. returns negative values.
select cik, period_type, fiscal_year, fiscal_quarter, value, tag, accn, derivation
from core.metric_values
where metric = 'capex' and value < 0
