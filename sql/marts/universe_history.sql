-- marts.universe_history: every filer's trailing-twelve-month capex and revenue by calendar quarter (fiscal
-- quarters aligned by their midpoint), for the market's build-out over time; only filers reporting in US
-- dollars under US GAAP (marts.universe_latest gives the others' reason).
-- grain: cik x calendar_quarter; amounts in USD, ratios as fractions
create or replace table marts.universe_history as
with latest_per_quarter as (
    -- a calendar quarter that two fiscal quarters fall in keeps the later one. Chosen before the join: after
    -- it, DuckDB keeps every joined column of each group to the end (twice the time of the whole mart)
    select *
    from marts.ttm
    qualify row_number() over (partition by cik, calendar_quarter order by period_end desc) = 1
)

select
    t.cik, t.ticker, t.company, u.sic, u.hyperscaler, t.calendar_quarter, t.fiscal_year, t.fiscal_quarter,
    t.period_end, t.revenue, t.capex, t.capex_intensity, t.capex_yoy, t.revenue_yoy
from latest_per_quarter as t
inner join marts.universe_latest as u on u.cik = t.cik
where u.reporting is null or u.reporting = 'US GAAP, USD'
order by t.cik, t.calendar_quarter
