-- core.discrete_values: each metric's value per discrete fiscal quarter and fiscal year, for the
-- consolidated company (segment '') and for each reported segment, with its concept, filings and
-- derivation. The period math lives here: a quarter is reported (three months), or the difference of
-- two year-to-date spans (Q2 = 6M - Q1, Q3 = 9M - 6M, Q4 = FY - 9M), each span the latest-filed figure
-- of its line item whatever concept carried it. mixed_bases: one of the two spans was restated since it
-- was first reported and the other was not, so the difference mixes a restated and an original basis
-- (first_value is the difference of the first-reported figures, a consistent basis).
-- grain: cik x metric x segment x period_type x fiscal_year x fiscal_quarter
create or replace table core.discrete_values as
with reported_quarters as (
    select
        cik, metric, segment, fiscal_year, q_to as fiscal_quarter,
        'reported' as derivation, 1 as derivation_rank,
        value, taxonomy, tag, accn, form, filed, first_value, first_accn, first_filed, tolerance, restated,
        false as mixed_bases, [accn] as source_accns,
        format('{}:{} {}..{} ({})', taxonomy, tag, coalesce(period_start, period_end), period_end, accn) as components
    from core.metric_spans
    where q_from = q_to
),

derived_quarters as (
    select
        cur.cik, cur.metric, cur.segment, cur.fiscal_year, cur.q_to as fiscal_quarter,
        if(cur.q_to = 4, 'fy_minus_9m', 'ytd_difference') as derivation, 2 as derivation_rank,
        cur.value - prev.value as value, cur.taxonomy, cur.tag,
        if(prev.filed > cur.filed, prev.accn, cur.accn) as accn,
        if(prev.filed > cur.filed, prev.form, cur.form) as form,
        greatest(cur.filed, prev.filed) as filed,
        cur.first_value - prev.first_value as first_value,
        if(prev.first_filed > cur.first_filed, prev.first_accn, cur.first_accn) as first_accn,
        greatest(cur.first_filed, prev.first_filed) as first_filed,
        cur.tolerance + prev.tolerance as tolerance,
        abs((cur.value - prev.value) - (cur.first_value - prev.first_value)) > cur.tolerance + prev.tolerance
            as restated,
        cur.restated <> prev.restated as mixed_bases,
        list_distinct([cur.accn, prev.accn]) as source_accns,
        format('{}:{} {}..{} ({}) minus {}:{} {}..{} ({})', cur.taxonomy, cur.tag, cur.period_start,
               cur.period_end, cur.accn, prev.taxonomy, prev.tag, prev.period_start, prev.period_end,
               prev.accn) as components
    from core.metric_spans as cur
    inner join core.metric_spans as prev
        on prev.cik = cur.cik and prev.metric = cur.metric and prev.segment = cur.segment
        and prev.fiscal_year = cur.fiscal_year and prev.q_from = 1 and prev.q_to = cur.q_to - 1
    where cur.kind = 'flow' and cur.q_from = 1 and cur.q_to >= 2
),

-- a quarter as reported beats one derived from year-to-date figures
quarters as (
    select *
    from (select * from reported_quarters union all by name select * from derived_quarters)
    qualify row_number() over (
        partition by cik, metric, segment, fiscal_year, fiscal_quarter order by derivation_rank
    ) = 1
),

years as (
    select
        cik, metric, segment, fiscal_year,
        'reported' as derivation,
        value, taxonomy, tag, accn, form, filed, first_value, first_accn, first_filed, tolerance, restated,
        false as mixed_bases, [accn] as source_accns,
        format('{}:{} {}..{} ({})', taxonomy, tag, coalesce(period_start, period_end), period_end, accn) as components
    from core.metric_spans
    where (kind = 'flow' and q_from = 1 and q_to = 4) or (kind = 'instant' and q_to = 4)
)

select 'quarter' as period_type, * exclude (derivation_rank) from quarters
union all by name
select 'fiscal_year' as period_type, cast(null as integer) as fiscal_quarter, * from years
