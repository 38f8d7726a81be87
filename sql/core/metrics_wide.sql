-- core.metrics_wide: core.metric_values pivoted to one row per company and period, one column per
-- metric (USD; ratios as fractions), the period's length (days, and weeks: 13 or 14 a quarter of a
-- 52/53-week year), the reason for every missing metric and what does not compare like with like.
-- Feeds the marts.
-- grain: cik x period_type x fiscal_year x fiscal_quarter
create or replace table core.metrics_wide as
with periods as (
    -- one pass over the metrics: the period's span, reasons and every metric's value side by side
    -- (flows define a period's span: an instant like RPO only marks its end)
    select
        cik, period_type, fiscal_year, fiscal_quarter,
        min(period_start) filter (where kind = 'flow') as period_start,
        max(period_end) as period_end,
        any_value(calendar_quarter) as calendar_quarter,
        first(value) filter (where metric = 'revenue') as revenue,
        first(value) filter (where metric = 'operating_income') as operating_income,
        first(value) filter (where metric = 'capex') as capex,
        first(value) filter (where metric = 'ocf') as ocf,
        first(value) filter (where metric = 'fcf') as fcf,
        first(value) filter (where metric = 'fcf_after_finance_leases') as fcf_after_finance_leases,
        first(value) filter (where metric = 'd_and_a') as d_and_a,
        first(value) filter (where metric = 'net_income') as net_income,
        first(value) filter (where metric = 'finance_lease_principal') as finance_lease_principal,
        first(value) filter (where metric = 'finance_lease_additions') as finance_lease_additions,
        first(value) filter (where metric = 'rpo') as rpo,
        first(value) filter (where metric = 'ppe_proceeds') as ppe_proceeds,
        first(value) filter (where metric = 'financing_obligation_principal') as financing_obligation_principal,
        first(value) filter (where metric = 'capex_net') as capex_net,
        first(value) filter (where metric = 'fcf_net_of_proceeds') as fcf_net_of_proceeds,
        first(value) filter (where metric = 'fcf_less_principal_repayments') as fcf_less_principal_repayments,
        first(value) filter (where metric = 'fcf_less_equipment_finance_leases') as fcf_less_equipment_finance_leases,
        first(value) filter (where metric = 'capex_intensity') as capex_intensity,
        first(value) filter (where metric = 'fcf_margin') as fcf_margin,
        first(value) filter (where metric = 'ocf_to_net_income') as ocf_to_net_income,
        first(value) filter (where metric = 'fcf_to_net_income') as fcf_to_net_income,
        first(value) filter (where metric = 'capex_to_ocf') as capex_to_ocf,
        first(value) filter (where metric = 'capex_to_da') as capex_to_da,
        first(value) filter (where metric = 'revenue_yoy') as revenue_yoy,
        first(value) filter (where metric = 'capex_yoy') as capex_yoy,
        -- sorted after aggregating: an ordered aggregate keeps every row aside to sort (two thirds of this step)
        list_transform(list_sort(list({metric: metric, reason: null_reason}) filter (where value is null)),
                       lambda m: m.metric || ': ' || m.reason) as missing,
        list_transform(list_sort(list({metric: metric, reason: comparability}) filter (where comparability is not null)),
                       lambda m: m.metric || ': ' || m.reason) as comparability
    from core.metric_values
    group by cik, period_type, fiscal_year, fiscal_quarter
)

select
    c.ticker,
    p.cik,
    c.company,
    p.period_type,
    p.fiscal_year,
    p.fiscal_quarter,
    p.period_start,
    p.period_end,
    date_diff('day', p.period_start, p.period_end) + 1 as duration_days,
    round((date_diff('day', p.period_start, p.period_end) + 1) / 7) as weeks,
    p.calendar_quarter,
    p.* exclude (cik, period_type, fiscal_year, fiscal_quarter, period_start, period_end, calendar_quarter, missing,
                 comparability),
    coalesce(p.missing, []) as missing,
    coalesce(p.comparability, []) as comparability
from periods as p
left join core.companies as c on c.cik = p.cik
