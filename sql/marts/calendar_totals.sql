-- marts.calendar_totals: the followed companies added up per calendar quarter (fiscal quarters aligned
-- by midpoint), all of them and the hyperscalers alone, counting only companies that reported both
-- revenue and capex for that quarter. grain: company_group x calendar_quarter; USD, ratios as fractions
create or replace table marts.calendar_totals as
with reporting as (
    select q.*, coalesce(r.hyperscaler, false) as hyperscaler
    from marts.quarterly as q
    left join core.company_reference as r on r.cik = q.cik and r.ticker = q.ticker
    where q.revenue is not null and q.capex is not null
),

grouped as (
    select 'all followed' as company_group, * from reporting
    union all
    select 'hyperscalers', * from reporting where hyperscaler
),

totals as (
    select
        company_group,
        calendar_quarter,
        list(ticker order by ticker) as companies,
        count(*) as company_count,
        sum(revenue) as revenue,
        sum(capex) as capex,
        sum(ocf) as ocf,
        sum(fcf) as fcf,
        count(ocf) = count(*) as ocf_complete
    from grouped
    group by company_group, calendar_quarter
)

select
    *,
    capex / revenue as capex_intensity,
    if(ocf_complete, fcf / revenue, null) as fcf_margin,
    if(ocf_complete and ocf > 0, capex / ocf, null) as capex_to_ocf
from totals
order by company_group, calendar_quarter
