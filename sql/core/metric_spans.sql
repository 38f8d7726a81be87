-- core.metric_spans: each candidate concept's value for each fiscal span it was reported for, both the
-- latest-filed and the first-reported value. A span runs from fiscal quarter q_from to q_to of one year:
-- 1-1 is the first quarter, 1-3 nine months year-to-date, 1-4 the fiscal year; instants have q_from = q_to.
-- Segments (segment 'axis=member') get the same treatment as the consolidated figures (segment '').
-- grain: cik x metric x segment x taxonomy x tag x fiscal_year x q_from x q_to
create or replace table core.metric_spans as
with companies as (
    select distinct cik from core.fiscal_years
),

candidates as (
    -- a company's override list for a metric replaces the default list
    select c.cik, m.metric, m.kind, m.priority, m.taxonomy, m.tag
    from companies as c
    inner join core.concept_map as m
        on m.cik = c.cik
        or (m.cik is null and not exists (
            select 1 from core.concept_map as o where o.cik = c.cik and o.metric = m.metric
        ))
),

facts as (
    select k.metric, k.kind, k.priority, f.*
    from staging.periodic_facts as f
    inner join candidates as k using (cik, taxonomy, tag)
    where f.unit = 'USD'
),

quarter_spans as (
    select f.*, a.fiscal_year, a.fiscal_quarter as q_from, b.fiscal_quarter as q_to
    from facts as f
    inner join core.fiscal_quarters as a on a.cik = f.cik and a.period_start = f.period_start
    inner join core.fiscal_quarters as b
        on b.cik = f.cik and b.fiscal_year = a.fiscal_year and b.period_end = f.period_end
    where f.kind = 'flow' and not (a.fiscal_quarter = 1 and b.fiscal_quarter = 4)
),

year_spans as (
    -- matched on the fiscal year itself, so years without known quarter boundaries still count
    select f.*, y.fiscal_year, 1 as q_from, 4 as q_to
    from facts as f
    inner join core.fiscal_years as y
        on y.cik = f.cik and y.period_start = f.period_start and y.period_end = f.period_end
    where f.kind = 'flow'
),

instant_spans as (
    select f.*, q.fiscal_year, q.fiscal_quarter as q_from, q.fiscal_quarter as q_to
    from facts as f
    inner join core.fiscal_quarters as q on q.cik = f.cik and q.period_end = f.period_end
    where f.kind = 'instant' and f.period_start is null
),

spans as (
    select * from quarter_spans
    union all by name
    select * from year_spans
    union all by name
    select * from instant_spans
)

select
    cik, metric, segment, kind, priority, taxonomy, tag, fiscal_year, q_from, q_to,
    any_value(period_start) as period_start,
    any_value(period_end) as period_end,
    first(value order by filed desc, accn desc) as value,
    first(accn order by filed desc, accn desc) as accn,
    first(form order by filed desc, accn desc) as form,
    max(filed) as filed,
    first(value order by filed, accn) as first_value,
    first(accn order by filed, accn) as first_accn,
    min(filed) as first_filed,
    count(distinct value) > 1 as restated
from spans
group by cik, metric, segment, kind, priority, taxonomy, tag, fiscal_year, q_from, q_to
