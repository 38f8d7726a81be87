-- report: one line per followed company: coverage, latest discrete quarter, capex intensity.
-- grain: cik
with latest as (
    select *
    from marts.quarterly
    where revenue is not null or capex is not null
    qualify row_number() over (partition by cik order by period_end desc) = 1
)

select
    c.ticker,
    c.company,
    c.status,
    l.fiscal_year,
    l.fiscal_quarter,
    l.calendar_quarter,
    l.period_end,
    l.capex,
    l.revenue,
    l.capex_intensity,
    t.capex_intensity as capex_intensity_ttm
from core.companies as c
left join latest as l using (cik)
left join marts.ttm as t
    on t.cik = l.cik and t.fiscal_year = l.fiscal_year and t.fiscal_quarter = l.fiscal_quarter
order by c.status, c.ticker
