-- core.metric_values: every metric per company and period, reported ones from core.base_metric_values
-- plus those computed from them (fcf, ratios, growth), each traceable to its filing and derivation.
-- comparability says when a value does not compare like with like: growth across periods of different
-- length (a 14-week quarter against a 13-week one), or a definition that differs by company
-- (depreciation without amortization).
-- grain: cik x metric x period_type (quarter | fiscal_year | ttm) x fiscal_year x fiscal_quarter
create or replace table core.metric_values as
with base as (
    select * from core.base_metric_values
),

formulas (metric, inputs, formula, derivation) as (
    values
        ('fcf', ['ocf', 'capex'], 'ocf - capex', 'sum'),
        ('fcf_after_finance_leases', ['ocf', 'capex', 'finance_lease_principal'],
            'ocf - capex - finance_lease_principal', 'sum'),
        ('capex_net', ['capex', 'ppe_proceeds'], 'capex - ppe_proceeds', 'sum'),
        ('fcf_net_of_proceeds', ['ocf', 'capex', 'ppe_proceeds'], 'ocf - (capex - ppe_proceeds)', 'sum'),
        ('fcf_less_principal_repayments', ['ocf', 'capex', 'ppe_proceeds', 'finance_lease_principal', 'financing_obligation_principal'],
            'ocf - (capex - ppe_proceeds) - finance_lease_principal - financing_obligation_principal', 'sum'),
        ('capex_intensity', ['capex', 'revenue'], 'capex / revenue', 'ratio'),
        ('fcf_margin', ['ocf', 'capex', 'revenue'], '(ocf - capex) / revenue', 'ratio'),
        ('ocf_to_net_income', ['ocf', 'net_income'], 'ocf / net_income, where net income > 0', 'ratio'),
        ('fcf_to_net_income', ['ocf', 'capex', 'net_income'], '(ocf - capex) / net_income, where net income > 0', 'ratio'),
        ('capex_to_ocf', ['capex', 'ocf'], 'capex / ocf, where ocf > 0', 'ratio'),
        ('capex_to_da', ['capex', 'd_and_a'], 'capex / d_and_a', 'ratio'),
        ('revenue_yoy', ['revenue'], 'revenue / revenue of the same period a year earlier - 1', 'ratio'),
        ('capex_yoy', ['capex'], 'capex / capex of the same period a year earlier - 1', 'ratio')
),

periods as (
    -- each period's length, and whether its d_and_a is depreciation only
    select
        cik, period_type, fiscal_year, fiscal_quarter,
        date_diff('day', min(period_start), max(period_end)) + 1 as duration_days,
        bool_or(metric = 'd_and_a' and tag = 'Depreciation') as depreciation_only
    from base
    where kind = 'flow'
    group by all
),

wide as (
    pivot base
    on metric in (
        'revenue', 'operating_income', 'capex', 'ocf', 'd_and_a', 'net_income', 'finance_lease_principal', 'rpo',
        'ppe_proceeds', 'financing_obligation_principal'
    )
    using first(value) as v, first(first_value) as f
    group by cik, period_type, fiscal_year, fiscal_quarter
),

with_fcf as (
    select
        *,
        ocf_v - capex_v as fcf_v,
        ocf_f - capex_f as fcf_f,
        ocf_v - (capex_v - ppe_proceeds_v) as fcf_net_of_proceeds_v,
        ocf_f - (capex_f - ppe_proceeds_f) as fcf_net_of_proceeds_f
    from wide
),

computed as (
    select
        cur.cik, cur.period_type, cur.fiscal_year, cur.fiscal_quarter,
        cur.fcf_v, cur.fcf_f,
        cur.fcf_v - cur.finance_lease_principal_v as fcf_after_finance_leases_v,
        cur.fcf_f - cur.finance_lease_principal_f as fcf_after_finance_leases_f,
        cur.capex_v - cur.ppe_proceeds_v as capex_net_v,
        cur.capex_f - cur.ppe_proceeds_f as capex_net_f,
        cur.fcf_net_of_proceeds_v, cur.fcf_net_of_proceeds_f,
        cur.fcf_net_of_proceeds_v - cur.finance_lease_principal_v - cur.financing_obligation_principal_v
            as fcf_less_principal_repayments_v,
        cur.fcf_net_of_proceeds_f - cur.finance_lease_principal_f - cur.financing_obligation_principal_f
            as fcf_less_principal_repayments_f,
        cur.capex_v / nullif(cur.revenue_v, 0) as capex_intensity_v,
        cur.capex_f / nullif(cur.revenue_f, 0) as capex_intensity_f,
        cur.fcf_v / nullif(cur.revenue_v, 0) as fcf_margin_v,
        cur.fcf_f / nullif(cur.revenue_f, 0) as fcf_margin_f,
        if(cur.net_income_v > 0, cur.ocf_v / cur.net_income_v, null) as ocf_to_net_income_v,
        if(cur.net_income_f > 0, cur.ocf_f / cur.net_income_f, null) as ocf_to_net_income_f,
        if(cur.net_income_v > 0, cur.fcf_v / cur.net_income_v, null) as fcf_to_net_income_v,
        if(cur.net_income_f > 0, cur.fcf_f / cur.net_income_f, null) as fcf_to_net_income_f,
        if(cur.ocf_v > 0, cur.capex_v / cur.ocf_v, null) as capex_to_ocf_v,
        if(cur.ocf_f > 0, cur.capex_f / cur.ocf_f, null) as capex_to_ocf_f,
        cur.capex_v / nullif(cur.d_and_a_v, 0) as capex_to_da_v,
        cur.capex_f / nullif(cur.d_and_a_f, 0) as capex_to_da_f,
        if(prev.revenue_v > 0, cur.revenue_v / prev.revenue_v - 1, null) as revenue_yoy_v,
        if(prev.revenue_f > 0, cur.revenue_f / prev.revenue_f - 1, null) as revenue_yoy_f,
        if(prev.capex_v > 0, cur.capex_v / prev.capex_v - 1, null) as capex_yoy_v,
        if(prev.capex_f > 0, cur.capex_f / prev.capex_f - 1, null) as capex_yoy_f
    from with_fcf as cur
    left join with_fcf as prev
        on prev.cik = cur.cik and prev.period_type = cur.period_type
        and prev.fiscal_year = cur.fiscal_year - 1
        and prev.fiscal_quarter is not distinct from cur.fiscal_quarter
),

computed_long as (
    unpivot computed
    on (fcf_v, fcf_f) as fcf,
       (fcf_after_finance_leases_v, fcf_after_finance_leases_f) as fcf_after_finance_leases,
       (capex_net_v, capex_net_f) as capex_net,
       (fcf_net_of_proceeds_v, fcf_net_of_proceeds_f) as fcf_net_of_proceeds,
       (fcf_less_principal_repayments_v, fcf_less_principal_repayments_f) as fcf_less_principal_repayments,
       (capex_intensity_v, capex_intensity_f) as capex_intensity,
       (fcf_margin_v, fcf_margin_f) as fcf_margin,
       (ocf_to_net_income_v, ocf_to_net_income_f) as ocf_to_net_income,
       (fcf_to_net_income_v, fcf_to_net_income_f) as fcf_to_net_income,
       (capex_to_ocf_v, capex_to_ocf_f) as capex_to_ocf,
       (capex_to_da_v, capex_to_da_f) as capex_to_da,
       (revenue_yoy_v, revenue_yoy_f) as revenue_yoy,
       (capex_yoy_v, capex_yoy_f) as capex_yoy
    into name metric value value, first_value
),

inputs as (
    -- per derived metric and period: its latest-filed input (for provenance) and any missing inputs
    select
        b.cik, b.period_type, b.fiscal_year, b.fiscal_quarter, f.metric,
        min(b.period_start) as period_start,
        max(b.period_end) as period_end,
        any_value(b.calendar_quarter) as calendar_quarter,
        first(b.accn order by b.filed desc nulls last) as accn,
        first(b.form order by b.filed desc nulls last) as form,
        max(b.filed) as filed,
        first(b.first_accn order by b.first_filed desc nulls last) as first_accn,
        max(b.first_filed) as first_filed,
        list(b.metric) filter (where b.value is null) as missing_inputs,  -- sorted where read: cheaper
        bool_or(b.restated) as restated,
        bool_or(b.mixed_bases) as mixed_bases
    from formulas as f
    inner join base as b on list_contains(f.inputs, b.metric)
    group by all
),

derived as (
    select
        i.cik, c.metric, 'derived' as kind, i.period_type, i.fiscal_year, i.fiscal_quarter,
        i.period_start, i.period_end, i.calendar_quarter,
        c.value, null as taxonomy, f.formula as tag, i.accn, i.form, i.filed,
        f.derivation, f.formula as components, c.first_value, i.first_accn, i.first_filed,
        i.restated and c.value is not null as restated, i.mixed_bases and c.value is not null as mixed_bases,
        case
            when c.value is not null then null
            when len(i.missing_inputs) > 0 then 'missing input: ' || array_to_string(list_sort(i.missing_inputs), ', ')
            when c.metric like '%_yoy' then 'no positive value for the same period a year earlier'
            else 'denominator not positive'
        end as null_reason,
        case
            when c.value is null then null
            when c.metric like '%_yoy' and abs(cur.duration_days - prev.duration_days) > 3
                then format('{} days against {} days a year earlier', cur.duration_days, prev.duration_days)
        end as comparability
    from computed_long as c
    inner join formulas as f using (metric)
    inner join inputs as i
        on i.cik = c.cik and i.metric = c.metric and i.period_type = c.period_type
        and i.fiscal_year = c.fiscal_year and i.fiscal_quarter is not distinct from c.fiscal_quarter
    left join periods as cur
        on cur.cik = c.cik and cur.period_type = c.period_type and cur.fiscal_year = c.fiscal_year
        and cur.fiscal_quarter is not distinct from c.fiscal_quarter
    left join periods as prev
        on prev.cik = c.cik and prev.period_type = c.period_type and prev.fiscal_year = c.fiscal_year - 1
        and prev.fiscal_quarter is not distinct from c.fiscal_quarter
),

table_values as (
    -- measures a company prints only in its own tables (no XBRL concept), e.g. Amazon's free cash flow
    -- less equipment finance leases; those that can be computed from XBRL are cross-checked instead
    select
        r.cik, r.metric, 'flow' as kind, 'fiscal_year' as period_type, r.fiscal_year,
        cast(null as integer) as fiscal_quarter, y.period_start, y.period_end, y.calendar_quarter,
        first(r.value order by f.filed desc nulls last) as value,
        'table row: ' || any_value(r.row_label) as tag,
        first(r.accn order by f.filed desc nulls last) as accn,
        first(f.form order by f.filed desc nulls last) as form,
        max(f.filed) as filed,
        'reported' as derivation,
        'untagged table in the filing document' as components,
        first(r.value order by f.filed nulls last) as first_value,
        first(r.accn order by f.filed nulls last) as first_accn,
        min(f.filed) as first_filed
    from core.reported_measures as r
    inner join core.filings as f using (cik, accn)
    inner join core.fiscal_years as y on y.cik = r.cik and y.fiscal_year = r.fiscal_year
    where r.metric not in (select metric from formulas) and r.metric not in (select metric from core.concept_map)
    group by r.cik, r.metric, r.fiscal_year, y.period_start, y.period_end, y.calendar_quarter
),

final as (
    select * from base
    union all by name
    select * from derived
    union all by name
    select * from table_values
)

select
    f.* exclude (restated, comparability),
    'https://www.sec.gov/Archives/edgar/data/' || cast(cast(f.cik as bigint) as varchar) || '/'
        || replace(f.accn, '-', '') || '/' || f.accn || '-index.htm' as filing_url,
    -- beyond rounding for reported metrics (core.metric_spans), any restated input for computed ones
    coalesce(f.restated, f.value is distinct from f.first_value) as restated,
    coalesce(f.comparability, if(
        f.metric in ('d_and_a', 'capex_to_da') and f.value is not null and p.depreciation_only,
        'd_and_a is depreciation only (us-gaap:Depreciation), without amortization', null
    )) as comparability
from final as f
left join periods as p
    on p.cik = f.cik and p.period_type = f.period_type and p.fiscal_year = f.fiscal_year
    and p.fiscal_quarter is not distinct from f.fiscal_quarter
