-- marts.quarterly: capex, cash flow and cash-conversion metrics per company and discrete fiscal quarter (Q4 derived from the 10-K).
-- grain: cik x fiscal_year x fiscal_quarter; amounts in USD, ratios as fractions; provenance in core.metric_values
create or replace table marts.quarterly as
select * exclude (period_type)
from core.metrics_wide
where period_type = 'quarter'
order by ticker, cik, fiscal_year, fiscal_quarter
