-- question: Since when has anyone spent more than 15 % of revenue on capex (trailing twelve months)?
select ticker, count(*) filter (where ttm_intensity > 0.15) as quarters, min(calendar_quarter) filter (where ttm_intensity > 0.15) as first
from capex_intensity group by ticker order by ticker
