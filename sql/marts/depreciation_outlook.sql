-- marts.depreciation_outlook: what today's capex does to tomorrow's depreciation, per followed company
-- and scenario, for the next 12 quarters (pipelines/lib/depreciation.py: each quarter's capex enters
-- service after a fitted lag and is depreciated straight-line, a fitted share over the disclosed life of
-- servers and network equipment, the rest over that of buildings). Scenarios: the disclosed lives or
-- servers at four years (a change of estimate from the first projected quarter), capex continuing at its
-- TTM level or no new capex. locked_in_da is what the capex already spent will add whatever comes
-- next. The same scenario is also projected from two other inputs, each fitted again: capex plus the
-- property and equipment acquired under finance leases, and capex net of proceeds (Amazon's), where the
-- company reports them (source_* says how much, or why not). Each row names its scenario and
-- parameters; a company whose history is too short has one row with the reason. grain: cik x scenario x step (step 1 = the quarter after the last reported)
create or replace table marts.depreciation_outlook as
select
    cik::varchar as cik, ticker::varchar as ticker, scenario::varchar as scenario, step::integer as step,
    fiscal_year::integer as fiscal_year, fiscal_quarter::integer as fiscal_quarter,
    origin_period_end::date as origin_period_end,
    projected_da::double as projected_da, locked_in_da::double as locked_in_da,
    projected_ttm_da::double as projected_ttm_da, da_to_ttm_revenue::double as da_to_ttm_revenue,
    da_increase_to_operating_income::double as da_increase_to_operating_income,
    capex_per_quarter::double as capex_per_quarter, short_life_years::double as short_life_years,
    long_life_years::double as long_life_years, lives_source::varchar as lives_source,
    lag_quarters::integer as lag_quarters, short_share::double as short_share,
    other_da_per_quarter::double as other_da_per_quarter, fit_mape::double as fit_mape,
    latest_ttm_revenue::double as latest_ttm_revenue,
    latest_ttm_operating_income::double as latest_ttm_operating_income, latest_ttm_da::double as latest_ttm_da,
    projected_da_with_finance_leases::double as projected_da_with_finance_leases,
    fit_mape_with_finance_leases::double as fit_mape_with_finance_leases,
    source_with_finance_leases::varchar as source_with_finance_leases,
    projected_da_net_capex::double as projected_da_net_capex, fit_mape_net_capex::double as fit_mape_net_capex,
    source_net_capex::varchar as source_net_capex,
    reason::varchar as reason
from depreciation_outlook_rows
order by cik, scenario, step
