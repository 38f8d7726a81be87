-- core.discrete_values: each metric's value per discrete fiscal quarter and fiscal year, for the
-- consolidated company (segment '') and for each reported segment, with its concept, filings and
-- derivation. The period math lives here: a quarter is reported (three months), or the difference of
-- two year-to-date spans (Q2 = 6M - Q1, Q3 = 9M - 6M, Q4 = FY - 9M), each span the latest-filed figure
-- of its line item whatever concept carried it. mixed_bases: one of the two spans was restated since it
-- was first reported and the other was not, so the difference mixes a restated and an original basis
-- (first_value is the difference of the first-reported figures, a consistent basis).
-- grain: cik x metric x segment x period_type x fiscal_year x fiscal_quarter
create or replace table core.discrete_values as
with reported as (
    -- every span as filed; a quarter (three months, or a balance at its end) or a fiscal year is used as is
    select
        cik, metric, segment, fiscal_year, q_to as fiscal_quarter,
        'reported' as derivation, 1 as derivation_rank,
        value, taxonomy, tag, accn, form, filed, first_value, first_accn, first_filed, tolerance, restated,
        false as mixed_bases, [accn] as source_accns,
        format('{}:{} {}..{} ({})', taxonomy, tag, coalesce(period_start, period_end), period_end, accn) as components,
        kind, q_from, q_to
    from core.metric_spans
),

reported_quarters as (
    select * exclude (kind, q_from, q_to) from reported where q_from = q_to
),

year_to_date_pairs as (
    -- each year-to-date span with the one a quarter shorter; the later filing names the difference
    -- (the longer span's, unless the shorter was filed later, as a restatement); a filing whose date
    -- is unknown offline keeps its unknown date rather than borrow the other's
    select
        cur.*,
        prev.value as prev_value, prev.first_value as prev_first_value, prev.taxonomy as prev_taxonomy,
        prev.tag as prev_tag, prev.period_start as prev_start, prev.period_end as prev_end,
        prev.accn as prev_accn, prev.form as prev_form, prev.filed as prev_filed,
        prev.first_accn as prev_first_accn, prev.first_filed as prev_first_filed,
        prev.tolerance as prev_tolerance, prev.restated as prev_restated,
        coalesce(prev.filed > cur.filed, false) as prev_is_latest,
        coalesce(prev.first_filed > cur.first_filed, false) as prev_is_first
    from core.metric_spans as cur
    inner join core.metric_spans as prev
        on prev.cik = cur.cik and prev.metric = cur.metric and prev.segment = cur.segment
        and prev.fiscal_year = cur.fiscal_year and prev.q_from = 1 and prev.q_to = cur.q_to - 1
    where cur.kind = 'flow' and cur.q_from = 1 and cur.q_to >= 2
),

derived_quarters as (
    select
        cik, metric, segment, fiscal_year, q_to as fiscal_quarter,
        if(q_to = 4, 'fy_minus_9m', 'ytd_difference') as derivation, 2 as derivation_rank,
        value - prev_value as value, taxonomy, tag,
        if(prev_is_latest, prev_accn, accn) as accn,
        if(prev_is_latest, prev_form, form) as form,
        if(prev_is_latest, prev_filed, filed) as filed,
        first_value - prev_first_value as first_value,
        if(prev_is_first, prev_first_accn, first_accn) as first_accn,
        if(prev_is_first, prev_first_filed, first_filed) as first_filed,
        tolerance + prev_tolerance as tolerance,
        abs((value - prev_value) - (first_value - prev_first_value)) > tolerance + prev_tolerance as restated,
        restated <> prev_restated as mixed_bases,
        list_distinct([accn, prev_accn]) as source_accns,
        format('{}:{} {}..{} ({}) minus {}:{} {}..{} ({})', taxonomy, tag, period_start, period_end, accn,
               prev_taxonomy, prev_tag, prev_start, prev_end, prev_accn) as components
    from year_to_date_pairs
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
    select * exclude (fiscal_quarter, derivation_rank, kind, q_from, q_to)
    from reported
    where (kind = 'flow' and q_from = 1 and q_to = 4) or (kind = 'instant' and q_to = 4)
)

select 'quarter' as period_type, * exclude (derivation_rank) from quarters
union all by name
select 'fiscal_year' as period_type, cast(null as integer) as fiscal_quarter, * from years
