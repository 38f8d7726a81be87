-- marts.universe_latest: every filer in one row, for screens across the market: its latest fiscal year and
-- its latest trailing twelve months (revenue, capex, operating cash flow, free cash flow, capex intensity,
-- FCF margin, capex growth), the period each refers to, its industry (SIC code) where SEC's submissions
-- are stored (core.filer_profiles), and the reason where figures are missing. A filer that reports under
-- IFRS or in a currency other than US dollars gets that reason and no figures, never a stray USD fact.
-- grain: cik; amounts in USD, ratios as fractions
create or replace table marts.universe_latest as
with basis as (
    select cik, reporting, basis_reason from core.reporting_basis
),

latest_year as (
    select *
    from marts.annual
    where revenue is not null or capex is not null
    qualify row_number() over (partition by cik order by period_end desc) = 1
),

latest_ttm as (
    select *
    from marts.ttm
    where revenue is not null or capex is not null
    qualify row_number() over (partition by cik order by period_end desc) = 1
),

filers as (
    select
        c.cik,
        -- a filer outside the ticker map: the first ticker its submissions list
        coalesce(nullif(c.ticker, ''), p.tickers[1]) as ticker,
        coalesce(c.company, p.company) as company,
        p.sic,
        p.sic_description,
        coalesce(r.hyperscaler, false) as hyperscaler,
        b.reporting,
        case
            when b.basis_reason is not null then b.basis_reason
            when y.cik is null and t.cik is null and q.cik is not null then 'single quarters only, no fiscal year or '
                || 'trailing twelve months' || if(c.status <> 'loaded', ' (companyfacts: ' || c.status || ')', '')
            when y.cik is null and t.cik is null then 'no revenue or capex reported'
                || if(c.status <> 'loaded', ' (companyfacts: ' || c.status || ')', '')
            when t.cik is null then 'no trailing twelve months: quarters missing'
        end as reason,
        b.basis_reason is null as usable,
        y.fiscal_year, y.period_end as fiscal_year_end,
        y.revenue, y.capex, y.ocf, y.fcf, y.capex_intensity, y.fcf_margin, y.capex_yoy,
        t.calendar_quarter as ttm_calendar_quarter, t.period_end as ttm_period_end,
        t.revenue as ttm_revenue, t.capex as ttm_capex, t.ocf as ttm_ocf, t.fcf as ttm_fcf,
        t.capex_intensity as ttm_capex_intensity, t.fcf_margin as ttm_fcf_margin, t.capex_yoy as ttm_capex_yoy,
        -- why a headline figure is empty, in the mart's own words
        list_concat(
            list_filter(coalesce(y.missing, []), lambda m: split_part(m, ':', 1) in ('revenue', 'capex', 'ocf', 'fcf')),
            list_transform(list_filter(coalesce(t.missing, []), lambda m: split_part(m, ':', 1) in ('revenue', 'capex', 'ocf', 'fcf')),
                           lambda m: 'TTM ' || m)) as missing
    from core.companies as c
    left join core.filer_profiles as p on p.cik = c.cik
    left join (select cik, bool_or(hyperscaler) as hyperscaler from core.company_reference group by cik) as r
        on r.cik = c.cik
    left join (select distinct cik from marts.quarterly where revenue is not null or capex is not null) as q
        on q.cik = c.cik
    left join basis as b on b.cik = c.cik
    left join latest_year as y on y.cik = c.cik
    left join latest_ttm as t on t.cik = c.cik
    where c.status <> 'removed'
)

select
    cik, ticker, company, sic, sic_description, hyperscaler, reporting, reason,
    -- figures only where the basis is US GAAP in dollars
    if(usable, fiscal_year, null) as fiscal_year,
    if(usable, fiscal_year_end, null) as fiscal_year_end,
    if(usable, revenue, null) as revenue,
    if(usable, capex, null) as capex,
    if(usable, ocf, null) as ocf,
    if(usable, fcf, null) as fcf,
    if(usable, capex_intensity, null) as capex_intensity,
    if(usable, fcf_margin, null) as fcf_margin,
    if(usable, capex_yoy, null) as capex_yoy,
    if(usable, ttm_calendar_quarter, null) as ttm_calendar_quarter,
    if(usable, ttm_period_end, null) as ttm_period_end,
    if(usable, ttm_revenue, null) as ttm_revenue,
    if(usable, ttm_capex, null) as ttm_capex,
    if(usable, ttm_ocf, null) as ttm_ocf,
    if(usable, ttm_fcf, null) as ttm_fcf,
    if(usable, ttm_capex_intensity, null) as ttm_capex_intensity,
    if(usable, ttm_fcf_margin, null) as ttm_fcf_margin,
    if(usable, ttm_capex_yoy, null) as ttm_capex_yoy,
    if(usable, missing, []) as missing
from filers
order by ticker, cik
