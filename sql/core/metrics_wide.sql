-- core.metrics_wide: core.metric_values pivoted to one row per company and period, one column per
-- metric (USD; ratios as fractions), the period's length (days, and weeks: 13 or 14 a quarter of a
-- 52/53-week year), the reason for every missing metric and what does not compare like with like.
-- Feeds the marts.
-- grain: cik x period_type x fiscal_year x fiscal_quarter
create or replace table core.metrics_wide as
with periods as (
    -- flows define a period's span (an instant like RPO only marks its end)
    select
        cik, period_type, fiscal_year, fiscal_quarter,
        min(period_start) filter (where kind = 'flow') as period_start,
        max(period_end) as period_end,
        any_value(calendar_quarter) as calendar_quarter,
        list(metric || ': ' || null_reason order by metric) filter (where value is null) as missing,
        list(metric || ': ' || comparability order by metric) filter (where comparability is not null)
            as comparability
    from core.metric_values
    group by all
),

wide as (
    pivot (select cik, period_type, fiscal_year, fiscal_quarter, metric, value from core.metric_values)
    on metric in (
        'revenue', 'operating_income', 'capex', 'ocf', 'fcf', 'fcf_after_finance_leases', 'd_and_a', 'net_income',
        'finance_lease_principal', 'finance_lease_additions', 'rpo', 'ppe_proceeds', 'financing_obligation_principal', 'capex_net',
        'fcf_net_of_proceeds', 'fcf_less_principal_repayments', 'fcf_less_equipment_finance_leases', 'capex_intensity', 'fcf_margin', 'ocf_to_net_income',
        'fcf_to_net_income', 'capex_to_ocf', 'capex_to_da', 'revenue_yoy', 'capex_yoy'
    )
    using first(value)
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
    w.* exclude (cik, period_type, fiscal_year, fiscal_quarter),
    coalesce(p.missing, []) as missing,
    coalesce(p.comparability, []) as comparability
from periods as p
inner join wide as w
    on w.cik = p.cik and w.period_type = p.period_type and w.fiscal_year = p.fiscal_year
    and w.fiscal_quarter is not distinct from p.fiscal_quarter
left join core.companies as c on c.cik = p.cik
