-- report: one followed company's depreciation outlook (capexwatch outlook), each scenario's projected
-- quarters with the parameters behind them, or the one row saying why it is not projected.
-- params: $company (ticker or CIK)
select
    ticker, cik, scenario, 'FY' || fiscal_year || ' Q' || fiscal_quarter as quarter, projected_da, locked_in_da,
    projected_ttm_da, da_to_ttm_revenue, da_increase_to_operating_income, capex_per_quarter, short_life_years,
    long_life_years, lag_quarters, short_share, fit_mape, lives_source, projected_da_with_finance_leases,
    fit_mape_with_finance_leases, source_with_finance_leases, projected_da_net_capex, fit_mape_net_capex,
    source_net_capex, reason
from marts.depreciation_outlook
where upper(ticker) = upper($company) or (regexp_full_match($company, '\d{1,10}') and cik = lpad($company, 10, '0'))
order by scenario, step
