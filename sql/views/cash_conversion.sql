-- cash_conversion (view): does capex leave cash? Trailing-twelve-month operating cash flow, free cash
-- flow and their ratios to net income and revenue, per company and fiscal quarter.
-- grain: ticker x fiscal_year x fiscal_quarter; amounts in USD, ratios as fractions
create or replace view main.cash_conversion as
select
    ticker,
    company,
    calendar_quarter,
    fiscal_year,
    fiscal_quarter,
    period_end,
    net_income as ttm_net_income,
    ocf as ttm_ocf,
    capex as ttm_capex,
    fcf as ttm_fcf,
    fcf_after_finance_leases as ttm_fcf_after_finance_leases,
    ocf_to_net_income,
    fcf_to_net_income,
    fcf_margin,
    capex_to_ocf
from marts.ttm
order by ticker, period_end
