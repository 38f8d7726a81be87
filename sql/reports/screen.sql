-- report: the market ranked (capexwatch screen): every filer of marts.universe_latest with a value for the
-- chosen measure ($by: capex_intensity, capex_growth or capex) over the chosen period ($period: ttm, the
-- latest trailing twelve months, or year, the latest fiscal year), within the industry codes given
-- ($sics, null for all) and at or above the revenue given ($min_revenue, null for any); highest first
-- (equal values share a rank), the first $top. grain: cik
with chosen as (
    select
        ticker, company, cik, sic, hyperscaler,
        if($period = 'ttm', ttm_calendar_quarter, 'FY' || fiscal_year) as period,
        if($period = 'ttm', ttm_revenue, revenue) as revenue,
        if($period = 'ttm', ttm_capex, capex) as capex,
        if($period = 'ttm', ttm_capex_intensity, capex_intensity) as capex_intensity,
        if($period = 'ttm', ttm_capex_yoy, capex_yoy) as capex_growth,
        if($period = 'ttm', ttm_fcf_margin, fcf_margin) as fcf_margin
    from marts.universe_latest
    where $sics is null or list_contains($sics, sic)
),

ranked as (
    select
        *,
        case $by when 'capex_intensity' then capex_intensity when 'capex_growth' then capex_growth
                 when 'capex' then capex end as measure
    from chosen
    where $min_revenue is null or revenue >= $min_revenue
)

select
    rank() over (order by measure desc) as rank,
    ticker, company, sic, hyperscaler, period, revenue, capex, capex_intensity, capex_growth, fcf_margin
from ranked
where measure is not null
order by rank, cik
limit $top
