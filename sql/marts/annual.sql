-- marts.annual: capex, cash flow and cash-conversion metrics per company and fiscal year (fiscal_quarter is null).
-- grain: cik x fiscal_year; amounts in USD, ratios as fractions; provenance in core.metric_values
create or replace table marts.annual as
select * exclude (period_type)
from core.metrics_wide
where period_type = 'fiscal_year'
order by ticker, cik, fiscal_year, fiscal_quarter
