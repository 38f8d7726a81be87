-- core.base_metric_values: the reported metrics (revenue, capex, ocf, ...) per discrete fiscal quarter,
-- fiscal year and trailing twelve months, each with its concept, filing and derivation, or the reason
-- it is missing. grain: cik x metric x period_type x fiscal_year x fiscal_quarter (null for fiscal_year)
create or replace table core.base_metric_values as
with quarter_candidates as (
    -- the discrete quarter as filed (income statements report 3-month figures)
    select
        cik, metric, priority, taxonomy, tag, fiscal_year, q_to as fiscal_quarter,
        'reported' as derivation, 1 as derivation_rank,
        value, accn, form, filed, first_value, first_accn, first_filed,
        format('{}:{} {}..{}', taxonomy, tag, coalesce(period_start, period_end), period_end) as components
    from core.metric_spans
    where q_from = q_to

    union all

    -- cash flows are year-to-date in 10-Qs: Q2 = 6M - Q1, Q3 = 9M - 6M, Q4 = FY - 9M, within one year
    select
        cur.cik, cur.metric, cur.priority, cur.taxonomy, cur.tag, cur.fiscal_year, cur.q_to,
        if(cur.q_to = 4, 'fy_minus_9m', 'ytd_difference'), 2,
        cur.value - prev.value, cur.accn, cur.form, cur.filed,
        cur.first_value - prev.first_value, cur.first_accn, greatest(cur.first_filed, prev.first_filed),
        format('{}:{} {}..{} ({}) minus {}..{} ({})', cur.taxonomy, cur.tag,
               cur.period_start, cur.period_end, cur.accn, prev.period_start, prev.period_end, prev.accn)
    from core.metric_spans as cur
    inner join core.metric_spans as prev
        on prev.cik = cur.cik and prev.metric = cur.metric and prev.taxonomy = cur.taxonomy
        and prev.tag = cur.tag and prev.fiscal_year = cur.fiscal_year
        and prev.q_from = 1 and prev.q_to = cur.q_to - 1
    where cur.kind = 'flow' and cur.q_from = 1 and cur.q_to >= 2
),

year_candidates as (
    select
        cik, metric, priority, taxonomy, tag, fiscal_year,
        'reported' as derivation, 1 as derivation_rank,
        value, accn, form, filed, first_value, first_accn, first_filed,
        format('{}:{} {}..{}', taxonomy, tag, coalesce(period_start, period_end), period_end) as components
    from core.metric_spans
    where (kind = 'flow' and q_from = 1 and q_to = 4) or (kind = 'instant' and q_to = 4)
),

tag_choice as (
    -- one concept per company, metric and fiscal year, so that its quarters add up to its year: the
    -- concept covering most of the year's periods, ties broken by the concept map's order
    select
        cik, metric, fiscal_year, taxonomy, tag,
        row_number() over (
            partition by cik, metric, fiscal_year order by count(*) desc, min(priority)
        ) as tag_rank
    from (
        select distinct cik, metric, fiscal_year, fiscal_quarter, taxonomy, tag, priority from quarter_candidates
        union all
        select cik, metric, fiscal_year, 0, taxonomy, tag, priority from year_candidates
    )
    group by cik, metric, fiscal_year, taxonomy, tag
),

-- other concepts fill only the periods the year's concept lacks; a reported figure beats a derived one
chosen_quarters as (
    select c.*
    from quarter_candidates as c
    inner join tag_choice as t using (cik, metric, fiscal_year, taxonomy, tag)
    qualify row_number() over (
        partition by c.cik, c.metric, c.fiscal_year, c.fiscal_quarter order by t.tag_rank, c.derivation_rank
    ) = 1
),

chosen_years as (
    select c.*
    from year_candidates as c
    inner join tag_choice as t using (cik, metric, fiscal_year, taxonomy, tag)
    qualify row_number() over (partition by c.cik, c.metric, c.fiscal_year order by t.tag_rank) = 1
),

metrics as (
    select distinct metric, kind from core.concept_map
),

quarters as (
    select
        q.cik, m.metric, m.kind, 'quarter' as period_type, q.fiscal_year, q.fiscal_quarter,
        q.period_start, q.period_end, q.calendar_quarter,
        c.value, c.taxonomy, c.tag, c.accn, c.form, c.filed, c.derivation, c.components,
        c.first_value, c.first_accn, c.first_filed,
        case
            when c.metric is not null then null
            when not exists (
                select 1 from core.metric_spans as s
                where s.cik = q.cik and s.metric = m.metric and s.fiscal_year = q.fiscal_year
            ) then 'not reported under any candidate concept for this fiscal year'
            when q.fiscal_quarter = 1 then 'first quarter not reported'
            when q.fiscal_quarter = 4 then 'Q4 not derivable: needs the fiscal year and nine-month values under one concept'
            else 'not derivable: needs the discrete quarter or both year-to-date values under one concept'
        end as null_reason
    from core.fiscal_quarters as q
    cross join metrics as m
    left join chosen_quarters as c
        on c.cik = q.cik and c.metric = m.metric
        and c.fiscal_year = q.fiscal_year and c.fiscal_quarter = q.fiscal_quarter
),

years as (
    select
        y.cik, m.metric, m.kind, 'fiscal_year' as period_type, y.fiscal_year,
        cast(null as integer) as fiscal_quarter, y.period_start, y.period_end,
        -- the calendar quarter in which the fiscal year closes
        year(y.period_end - interval 45 day) || 'Q' || quarter(y.period_end - interval 45 day) as calendar_quarter,
        c.value, c.taxonomy, c.tag, c.accn, c.form, c.filed, c.derivation, c.components,
        c.first_value, c.first_accn, c.first_filed,
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
        max(filed) over w4 as ttm_filed
    from quarters
    window w4 as (
        partition by cik, metric order by fiscal_year, fiscal_quarter rows between 3 preceding and current row
    )
),

ttm as (
    select
        cik, metric, kind, 'ttm' as period_type, fiscal_year, fiscal_quarter,
        if(kind = 'flow', ttm_start, period_start) as period_start, period_end, calendar_quarter,
        case when kind = 'instant' then value when complete then ttm_value end as value,
        taxonomy, tag, accn, form, filed,
        case when kind = 'instant' then derivation when complete then 'sum' end as derivation,
        if(kind = 'flow', 'sum of the four discrete quarters ending here', components) as components,
        case when kind = 'instant' then first_value when complete then ttm_first_value end as first_value,
        first_accn, first_filed,
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
