-- report: one line per followed company: coverage, latest period (a discrete quarter with both capex and
-- revenue where there is one, else a fiscal year), capex intensity. grain: cik
with filings as (
    -- the newest filing known (from a submissions feed) whose document could not be read, if it is
    -- newer than every document that was: the figures shown are older than the company's filings
    select
        cik,
        count(*) filter (where status = 'parsed') as documents,
        arg_max(form || ' filed ' || filed, filed) filter (where status <> 'parsed') as newest_unread,
        max(filed) filter (where status <> 'parsed') > coalesce(max(filed) filter (where status = 'parsed'), date '0001-01-01')
            as unread_is_newer
    from core.filings
    group by cik
),

latest_quarter as (
    select q.*, t.capex_intensity as capex_intensity_ttm
    from marts.quarterly as q
    left join marts.ttm as t using (cik, fiscal_year, fiscal_quarter)
    where q.revenue is not null and q.capex is not null  -- else the line would mix a quarter with a year
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
    coalesce(c.company, 'CIK ' || c.cik) as company,  -- a bulk filer's companyfacts may carry no name
    c.status as companyfacts,
    coalesce(f.documents, 0) as filing_documents,
    if(f.unread_is_newer, f.newest_unread, null) as newest_unread,
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
where c.cik in (select cik from followed_companies)  -- not the bulk archive's other filers
order by coalesce(q.period_end, y.period_end) is null, c.ticker
