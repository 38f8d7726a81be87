-- report: each company's latest twelve months of capex against operating cash flow: the latest TTM
-- where it has quarters, else its latest fiscal year (for the charts). grain: ticker
with latest as (
    select ticker, 'TTM to ' || period_end as period, period_end, capex, ocf, 1 as preference
    from marts.ttm where capex is not null and ocf is not null
    union all
    select ticker, 'FY' || fiscal_year, period_end, capex, ocf, 2
    from marts.annual where capex is not null and ocf is not null
)

select ticker, period, capex, ocf
from latest
qualify row_number() over (partition by ticker order by preference, period_end desc) = 1
order by ticker
