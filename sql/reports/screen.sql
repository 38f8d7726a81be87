-- report: the market ranked (capexwatch screen, the report's who-is-building page): every filer of
-- marts.universe_latest with the chosen measure ($by: capex_intensity, capex_growth or capex) over the
-- chosen period ($period: ttm, the latest trailing twelve months, or year, the latest fiscal year), and
-- either its rank (highest first, equal values sharing one) or, in left_out, why it is not ranked:
-- outside the industry codes given ($sics, null for all), no value for the measure, or revenue below
-- $min_revenue (null for any). grain: cik
with chosen as (
    select
        ticker, company, cik, sic, hyperscaler, reason,
        if($period = 'ttm', ttm_calendar_quarter, 'FY' || fiscal_year) as period,
        if($period = 'ttm', ttm_revenue, revenue) as revenue,
        if($period = 'ttm', ttm_capex, capex) as capex,
        if($period = 'ttm', ttm_capex_intensity, capex_intensity) as capex_intensity,
        if($period = 'ttm', ttm_capex_yoy, capex_yoy) as capex_growth,
        if($period = 'ttm', ttm_fcf_margin, fcf_margin) as fcf_margin
    from marts.universe_latest
),

measured as (
    select
        *,
        case $by when 'capex_intensity' then capex_intensity when 'capex_growth' then capex_growth
                 when 'capex' then capex end as measure
    from chosen
),

judged as (
    select
        *,
        case
            when $sics is not null and sic is null then 'no industry code (no submissions feed stored)'
            when $sics is not null and not list_contains($sics, sic) then 'another industry'
            -- the row's reason speaks of the trailing twelve months where it says so
            when measure is null then coalesce(if($period = 'year' and reason like 'no trailing twelve months%', null, reason),
                                               'no ' || $by || if($period = 'year', ' for the latest fiscal year',
                                                                  ' for the trailing twelve months'))
            when $min_revenue is not null and (revenue < $min_revenue or revenue is null)
                then 'revenue below the minimum, or unknown'
        end as left_out
    from measured
)

select
    rank() over (partition by left_out is null order by measure desc) as rank,
    ticker, company, sic, hyperscaler, period, revenue, capex, capex_intensity, capex_growth, fcf_margin, cik,
    left_out
from judged
order by left_out is not null, rank, cik
