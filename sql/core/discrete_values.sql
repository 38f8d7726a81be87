-- core.discrete_values: each metric's value per discrete fiscal quarter and fiscal year, for the
-- consolidated company (segment '') and for each reported segment, with its concept, filing and
-- derivation. The period math lives here. grain: cik x metric x segment x period_type x fiscal_year x fiscal_quarter
create or replace table core.discrete_values as
with quarter_candidates as (
    -- the discrete quarter as filed (income statements report 3-month figures)
    select
        cik, metric, segment, priority, taxonomy, tag, fiscal_year, q_to as fiscal_quarter,
        'reported' as derivation, 1 as derivation_rank,
        value, accn, form, filed, first_value, first_accn, first_filed,
        format('{}:{} {}..{}', taxonomy, tag, coalesce(period_start, period_end), period_end) as components
    from core.metric_spans
    where q_from = q_to

    union all

    -- cash flows are year-to-date in 10-Qs: Q2 = 6M - Q1, Q3 = 9M - 6M, Q4 = FY - 9M, within one year
    select
        cur.cik, cur.metric, cur.segment, cur.priority, cur.taxonomy, cur.tag, cur.fiscal_year, cur.q_to,
        if(cur.q_to = 4, 'fy_minus_9m', 'ytd_difference'), 2,
        cur.value - prev.value, cur.accn, cur.form, cur.filed,
        cur.first_value - prev.first_value, cur.first_accn, greatest(cur.first_filed, prev.first_filed),
        format('{}:{} {}..{} ({}) minus {}..{} ({})', cur.taxonomy, cur.tag,
               cur.period_start, cur.period_end, cur.accn, prev.period_start, prev.period_end, prev.accn)
    from core.metric_spans as cur
    inner join core.metric_spans as prev
        on prev.cik = cur.cik and prev.metric = cur.metric and prev.segment = cur.segment
        and prev.taxonomy = cur.taxonomy
        and prev.tag = cur.tag and prev.fiscal_year = cur.fiscal_year
        and prev.q_from = 1 and prev.q_to = cur.q_to - 1
    where cur.kind = 'flow' and cur.q_from = 1 and cur.q_to >= 2
),

year_candidates as (
    select
        cik, metric, segment, priority, taxonomy, tag, fiscal_year,
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
        cik, metric, segment, fiscal_year, taxonomy, tag,
        row_number() over (
            partition by cik, metric, segment, fiscal_year order by count(*) desc, min(priority)
        ) as tag_rank
    from (
        select distinct cik, metric, segment, fiscal_year, fiscal_quarter, taxonomy, tag, priority
        from quarter_candidates
        union all
        select cik, metric, segment, fiscal_year, 0, taxonomy, tag, priority from year_candidates
    )
    group by cik, metric, segment, fiscal_year, taxonomy, tag
),

-- other concepts fill only the periods the year's concept lacks; a reported figure beats a derived one
chosen_quarters as (
    select c.*
    from quarter_candidates as c
    inner join tag_choice as t using (cik, metric, segment, fiscal_year, taxonomy, tag)
    qualify row_number() over (
        partition by c.cik, c.metric, c.segment, c.fiscal_year, c.fiscal_quarter
        order by t.tag_rank, c.derivation_rank
    ) = 1
),

chosen_years as (
    select c.*
    from year_candidates as c
    inner join tag_choice as t using (cik, metric, segment, fiscal_year, taxonomy, tag)
    qualify row_number() over (partition by c.cik, c.metric, c.segment, c.fiscal_year order by t.tag_rank) = 1
)

select 'quarter' as period_type, * exclude (derivation_rank) from chosen_quarters
union all by name
select 'fiscal_year' as period_type, cast(null as integer) as fiscal_quarter, * exclude (derivation_rank)
from chosen_years
