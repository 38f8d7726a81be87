-- marts.depreciation_backtest: how good the depreciation outlook is. For every followed company and
-- every quarter with enough history, the model is fitted on what was reported up to that quarter and
-- projects 4 and 8 quarters ahead with capex continuing at its TTM level; its mean absolute percentage
-- error against the D&A later reported is set beside two naive forecasts (D&A held at its last quarter;
-- D&A growing at its rate of the last four quarters) and beside the model given the capex actually spent
-- (what the model itself misses, apart from the capex forecast), and beside the model built from the
-- other inputs where the company reports them in every quarter it needs (capex plus finance-lease
-- additions; capex net of proceeds). The verdict says whether the model beats both baselines; a
-- company without enough history has its reason.
-- grain: cik x horizon (quarters ahead)
create or replace table marts.depreciation_backtest as
with points as (
    select cik::varchar as cik, horizon::integer as horizon, origin_period_end::date as origin_period_end,
           reported_da::double as reported_da, model::double as model,
           model_with_capex_spent::double as model_with_capex_spent, flat::double as flat, trend::double as trend,
           model_with_finance_leases::double as model_with_finance_leases, model_net_capex::double as model_net_capex
    from depreciation_backtest_points
),

errors as (
    select
        cik, horizon, count(*) as origins, min(origin_period_end) as first_origin,
        max(origin_period_end) as last_origin,
        avg(abs(model / reported_da - 1)) as mape_model,
        avg(abs(model_with_capex_spent / reported_da - 1)) as mape_model_with_capex_spent,
        avg(abs(flat / reported_da - 1)) as mape_flat,
        avg(abs(trend / reported_da - 1)) as mape_trend,
        -- null unless every origin has the input (avg would skip the origins without it)
        if(count(model_with_finance_leases) = count(*), avg(abs(model_with_finance_leases / reported_da - 1)), null)
            as mape_model_with_finance_leases,
        if(count(model_net_capex) = count(*), avg(abs(model_net_capex / reported_da - 1)), null) as mape_model_net_capex
    from points
    group by cik, horizon
),

companies as (
    select distinct cik, ticker, reason from marts.depreciation_outlook
)

select
    c.cik, c.ticker, e.horizon, e.origins, e.first_origin, e.last_origin,
    e.mape_model, e.mape_model_with_capex_spent, e.mape_flat, e.mape_trend, e.mape_model_with_finance_leases,
    e.mape_model_net_capex,
    case
        when e.horizon is null then coalesce(c.reason, 'too little history to backtest: a quarter needs the 12 '
            || 'quarters of D&A before it (and the capex before those) and the D&A reported 4 quarters after it')
        when e.mape_model < e.mape_flat and e.mape_model < e.mape_trend then 'beats both baselines'
        when e.mape_model < e.mape_flat then 'beats D&A held flat, not D&A on its trend'
        when e.mape_model < e.mape_trend then 'beats D&A on its trend, not D&A held flat'
        else 'beats neither baseline'
    end as verdict
from companies as c
left join errors as e using (cik)
order by c.cik, e.horizon
