-- marts.ttm: capex, cash flow and cash-conversion metrics per company and trailing twelve months ending with each fiscal quarter (sum of four discrete quarters).
-- grain: cik x fiscal_year x fiscal_quarter; amounts in USD, ratios as fractions; provenance in core.metric_values
create or replace table marts.ttm as
select * exclude (period_type)
from core.metrics_wide
where period_type = 'ttm'
order by ticker, cik, fiscal_year, fiscal_quarter
