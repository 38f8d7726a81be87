-- report: capex as a share of revenue per company, latest fiscal year and latest trailing twelve
-- months, each with the filing its capex comes from (for the HTML report). grain: cik
with latest_year as (
    select a.cik, a.fiscal_year, a.period_end, a.capex, a.revenue, a.capex_intensity, v.filing_url, v.accn
    from marts.annual as a
    left join core.metric_values as v
        on v.cik = a.cik and v.metric = 'capex' and v.period_type = 'fiscal_year' and v.fiscal_year = a.fiscal_year
    where a.capex_intensity is not null
    qualify row_number() over (partition by a.cik order by a.period_end desc) = 1
),

latest_ttm as (
    select t.cik, t.period_end, t.capex, t.revenue, t.capex_intensity, v.filing_url, v.accn
    from marts.ttm as t
    left join core.metric_values as v
        on v.cik = t.cik and v.metric = 'capex' and v.period_type = 'quarter'
        and v.fiscal_year = t.fiscal_year and v.fiscal_quarter = t.fiscal_quarter
    where t.capex_intensity is not null
    qualify row_number() over (partition by t.cik order by t.period_end desc) = 1
)

select
    c.ticker,
    c.company,
    coalesce(r.hyperscaler, false) as hyperscaler,
    y.fiscal_year,
    y.capex as year_capex,
    y.capex_intensity as year_intensity,
    y.filing_url as year_url,
    y.accn as year_accn,
    t.period_end as ttm_end,
    t.capex as ttm_capex,
    t.capex_intensity as ttm_intensity,
    t.filing_url as ttm_url,
    t.accn as ttm_accn
from core.companies as c
left join core.company_reference as r on r.cik = c.cik and r.ticker = c.ticker
left join latest_year as y on y.cik = c.cik
left join latest_ttm as t on t.cik = c.cik
where c.cik in (select cik from followed_companies)  -- not the bulk archive's other filers
order by hyperscaler desc, c.ticker
