-- report: the followed companies: fiscal year end, what was loaded, the latest filing and period,
-- and how many quarters and fiscal years the marts hold. grain: cik
with latest_filing as (
    -- ordered by filing date; a filing whose date is unknown offline (Apple's Q2 FY2026 10-Q) was filed
    -- after the period it reports, so it is placed there rather than before every dated filing
    select cik, form, accn, filed
    from (
        select cik, form, accn, filed, max(period_end) as report_date from staging.periodic_facts group by all
        union all
        select cik, form, accn, filed, report_date from core.filings where status = 'parsed'
    )
    qualify row_number() over (
        partition by cik order by coalesce(filed, report_date + interval 1 day) desc nulls last, accn desc) = 1
),

coverage as (
    select cik, max(period_end) as latest_period_end, count(*) filter (where revenue is not null) as quarters
    from marts.quarterly group by cik
),

years as (
    select cik, max(period_end) as latest_year_end, count(*) filter (where revenue is not null) as fiscal_years
    from marts.annual group by cik
),

documents as (
    select cik, count(*) filter (where status = 'parsed') as documents from core.filings group by cik
)

select
    c.ticker,
    c.company,
    c.cik,
    r.fiscal_year_end,
    c.status as companyfacts,
    coalesce(d.documents, 0) as filing_documents,
    f.form || ' ' || f.accn || coalesce(' filed ' || f.filed, ' (filed date unknown offline)') as latest_filing,
    greatest(q.latest_period_end, y.latest_year_end) as latest_period_end,
    coalesce(q.quarters, 0) as quarters,
    coalesce(y.fiscal_years, 0) as fiscal_years
from core.companies as c
left join core.company_reference as r on r.cik = c.cik and r.ticker = c.ticker
left join latest_filing as f on f.cik = c.cik
left join coverage as q on q.cik = c.cik
left join years as y on y.cik = c.cik
left join documents as d on d.cik = c.cik
where c.cik in (select cik from followed_companies)  -- not the bulk archive's other filers
order by c.ticker
