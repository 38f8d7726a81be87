-- hyperscaler_totals (view): Microsoft, Amazon, Alphabet, Meta and Oracle added up per calendar
-- quarter, counting only those that reported revenue and capex for it (listed in `companies`).
-- grain: calendar_quarter; amounts in USD, ratios as fractions
create or replace view main.hyperscaler_totals as
with reporting as (
    select q.*
    from marts.quarterly as q
    inner join core.company_reference as r on r.cik = q.cik and r.ticker = q.ticker
    where r.hyperscaler and q.revenue is not null and q.capex is not null
)

select
    calendar_quarter,
    list(ticker order by ticker) as companies,
    count(*) as company_count,
    sum(revenue) as revenue,
    sum(capex) as capex,
    sum(ocf) as ocf,
    sum(fcf) as fcf,
    sum(capex) / sum(revenue) as capex_intensity,
    if(count(ocf) = count(*), sum(fcf) / sum(revenue), null) as fcf_margin
from reporting
group by calendar_quarter
order by calendar_quarter
