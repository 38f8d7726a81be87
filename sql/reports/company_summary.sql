-- report: one line per followed company: coverage, latest period (a discrete quarter where there
-- is one, else a fiscal year from filing documents), capex intensity. grain: cik
with filings as (
    select cik, count(*) filter (where status = 'parsed') as documents
    from core.filings
    group by cik
),

latest_quarter as (
    select q.*, t.capex_intensity as capex_intensity_ttm
    from marts.quarterly as q
    left join marts.ttm as t using (cik, fiscal_year, fiscal_quarter)
    where q.revenue is not null or q.capex is not null
    qualify row_number() over (partition by q.cik order by q.period_end desc) = 1
),

latest_year as (
    select *
    from marts.annual
    where revenue is not null or capex is not null
    qualify row_number() over (partition by cik order by period_end desc) = 1
)

select
    c.ticker,
    c.company,
    c.status,
    coalesce(f.documents, 0) as documents,
    coalesce(q.fiscal_year, y.fiscal_year) as fiscal_year,
    q.fiscal_quarter,
    coalesce(q.calendar_quarter, y.calendar_quarter) as calendar_quarter,
    coalesce(q.period_end, y.period_end) as period_end,
    coalesce(q.capex, y.capex) as capex,
    coalesce(q.revenue, y.revenue) as revenue,
    coalesce(q.capex_intensity, y.capex_intensity) as capex_intensity,
    q.capex_intensity_ttm
from core.companies as c
left join filings as f using (cik)
left join latest_quarter as q using (cik)
left join latest_year as y using (cik)
order by coalesce(q.period_end, y.period_end) is null, c.ticker
