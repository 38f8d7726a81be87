-- core.base_metric_values: the reported metrics (revenue, capex, ocf, ...) per discrete fiscal quarter,
-- fiscal year and trailing twelve months, each with its concept, filings and derivation, or the reason
-- it is missing (which of the spans it needs was not reported). restated: the value of record differs
-- from the first reported by more than rounding (tolerance); mixed_bases: see core.discrete_values.
-- grain: cik x metric x period_type x fiscal_year x fiscal_quarter (null for fiscal_year)
create or replace table core.base_metric_values as
with chosen_quarters as (
    select * from core.discrete_values where segment = '' and period_type = 'quarter'
),

chosen_years as (
    select * from core.discrete_values where segment = '' and period_type = 'fiscal_year'
),

metrics as (
    select distinct metric, kind from core.concept_map
),

spans as (
    -- which spans of each year were reported at all, whatever the concept
    select cik, metric, fiscal_year, list(q_from * 10 + q_to) as reported
    from core.metric_spans
    where segment = ''
    group by all
),

quarters as (
    select
        q.cik, m.metric, m.kind, 'quarter' as period_type, q.fiscal_year, q.fiscal_quarter,
        q.period_start, q.period_end, q.calendar_quarter,
        c.value, c.taxonomy, c.tag, c.accn, c.form, c.filed, c.derivation, c.components, c.source_accns,
        c.first_value, c.first_accn, c.first_filed, c.tolerance, c.restated, c.mixed_bases,
        case
            when c.metric is not null then null
            when s.reported is null then 'not reported under any candidate concept for this fiscal year'
            when q.fiscal_quarter = 1 then 'first quarter not reported'
            when q.fiscal_quarter = 4 and m.kind = 'instant' then 'fiscal year-end balance not reported'
            when m.kind = 'instant' then format('balance at the end of Q{} not reported', q.fiscal_quarter)
            when q.fiscal_quarter = 4 and not list_contains(s.reported, 14)
                then 'Q4 not derivable: the fiscal year is not reported'
            when q.fiscal_quarter = 4 then 'Q4 not derivable: the nine months to Q3 are not reported'
            when not list_contains(s.reported, 10 + q.fiscal_quarter)
                then format('not reported: neither the quarter nor the {} months year-to-date',
                            3 * q.fiscal_quarter)
            else format('not derivable: the {} months year-to-date to Q{} are not reported',
                        3 * (q.fiscal_quarter - 1), q.fiscal_quarter - 1)
        end as null_reason
    from core.fiscal_quarters as q
    cross join metrics as m
    left join chosen_quarters as c
        on c.cik = q.cik and c.metric = m.metric
        and c.fiscal_year = q.fiscal_year and c.fiscal_quarter = q.fiscal_quarter
    left join spans as s on s.cik = q.cik and s.metric = m.metric and s.fiscal_year = q.fiscal_year
),

years as (
    select
        y.cik, m.metric, m.kind, 'fiscal_year' as period_type, y.fiscal_year,
        cast(null as integer) as fiscal_quarter, y.period_start, y.period_end,
        y.calendar_quarter,
        c.value, c.taxonomy, c.tag, c.accn, c.form, c.filed, c.derivation, c.components, c.source_accns,
        c.first_value, c.first_accn, c.first_filed, c.tolerance, c.restated, c.mixed_bases,
        if(c.metric is null, 'not reported under any candidate concept for this fiscal year', null) as null_reason
    from core.fiscal_years as y
    cross join metrics as m
    left join chosen_years as c
        on c.cik = y.cik and c.metric = m.metric and c.fiscal_year = y.fiscal_year
    where not y.in_progress
),

last_four as (
    -- the last four discrete quarters, provided they are four consecutive quarters with values
    select
        *,
        count(value) over w4 as quarters_with_value,
        min(fiscal_year * 4 + fiscal_quarter) over w4 as first_quarter_index,
        first(period_start) over w4 as ttm_start,
        sum(value) over w4 as ttm_value,
        sum(first_value) over w4 as ttm_first_value,
        sum(tolerance) over w4 as ttm_tolerance,
        bool_or(mixed_bases) over w4 as ttm_mixed_bases,
        list_distinct(flatten(list(source_accns) over w4)) as ttm_source_accns,
        max(filed) over w4 as ttm_filed
    from quarters
    window w4 as (
        partition by cik, metric order by fiscal_year, fiscal_quarter rows between 3 preceding and current row
    )
),

ttm as (
    select
        cik, metric, kind, 'ttm' as period_type, fiscal_year, fiscal_quarter,
        -- twelve months back from the quarter's end where the four quarters are not all known (Oracle's
        -- first quarter on file would otherwise span back to the start of an older one)
        case when kind = 'instant' then period_start when consecutive then ttm_start
             else cast(period_end - interval 1 year + interval 1 day as date) end as period_start,
        period_end, calendar_quarter,
        case when kind = 'instant' then value when complete then ttm_value end as value,
        taxonomy, tag, accn, form, filed,
        case when kind = 'instant' then derivation when complete then 'sum' end as derivation,
        if(kind = 'flow', 'sum of the four discrete quarters ending here', components) as components,
        case when kind = 'instant' then first_value when complete then ttm_first_value end as first_value,
        first_accn, first_filed,
        case when kind = 'instant' then source_accns when complete then ttm_source_accns end as source_accns,
        case when kind = 'instant' then tolerance when complete then ttm_tolerance end as tolerance,
        case when kind = 'instant' then restated
             when complete then abs(ttm_value - ttm_first_value) > ttm_tolerance end as restated,
        case when kind = 'instant' then mixed_bases when complete then ttm_mixed_bases end as mixed_bases,
        case
            when kind = 'instant' then null_reason
            when not complete then format('TTM needs four consecutive discrete quarters; {} of 4 available',
                                          if(consecutive, quarters_with_value, 0))
        end as null_reason
    from (
        select
            *,
            (fiscal_year * 4 + fiscal_quarter) - first_quarter_index = 3 as consecutive,
            quarters_with_value = 4 and (fiscal_year * 4 + fiscal_quarter) - first_quarter_index = 3 as complete
        from last_four
    )
)

select * from quarters
union all by name
select * from years
union all by name
select * from ttm
