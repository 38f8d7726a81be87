-- report: who capexwatch screen could not rank, and why, counted: same parameters as reports/screen.
-- grain: reason
with chosen as (
    select
        *,
        case $by
            when 'capex_intensity' then if($period = 'ttm', ttm_capex_intensity, capex_intensity)
            when 'capex_growth' then if($period = 'ttm', ttm_capex_yoy, capex_yoy)
            when 'capex' then if($period = 'ttm', ttm_capex, capex)
        end as measure,
        if($period = 'ttm', ttm_revenue, revenue) as period_revenue
    from marts.universe_latest
)

select
    case
        when $sics is not null and sic is null then 'no industry code (no submissions feed stored)'
        when $sics is not null and not list_contains($sics, sic) then 'another industry'
        -- the row's reason speaks of the trailing twelve months where it says so
        when measure is null then coalesce(if($period = 'year' and reason like 'no trailing twelve months%', null, reason),
                                           'no ' || $by || if($period = 'year', ' for the latest fiscal year',
                                                              ' for the trailing twelve months'))
        else 'revenue below the minimum, or unknown'
    end as left_out,
    count(*) as filers
from chosen
where $sics is not null and (sic is null or not list_contains($sics, sic))
   or measure is null
   or ($min_revenue is not null and (period_revenue < $min_revenue or period_revenue is null))
group by all
order by filers desc, left_out
