-- marts.calendar_totals: the followed companies added up per calendar quarter (fiscal quarters aligned
-- by midpoint), counting only companies that reported both revenue and capex for that quarter.
-- grain: calendar_quarter; amounts in USD, ratios as fractions
create or replace table marts.calendar_totals as
with reporting as (
    select *
    from marts.quarterly
    where revenue is not null and capex is not null
),

totals as (
    select
        calendar_quarter,
        list(ticker order by ticker) as companies,
        count(*) as company_count,
        sum(revenue) as revenue,
        sum(capex) as capex,
        sum(ocf) as ocf,
        sum(fcf) as fcf,
        count(ocf) = count(*) as ocf_complete
    from reporting
    group by calendar_quarter
)

select
    *,
    capex / revenue as capex_intensity,
    if(ocf_complete, fcf / revenue, null) as fcf_margin,
    if(ocf_complete and ocf > 0, capex / ocf, null) as capex_to_ocf
from totals
order by calendar_quarter
