-- core.span_facts: every USD fact of a metric's candidate concepts, placed on the fiscal span it covers.
-- A span runs from fiscal quarter q_from to q_to of one year: 1-1 is the first quarter, 1-3 nine months
-- year-to-date, 1-4 the fiscal year; instants have q_from = q_to. priority is the concept's place in the
-- concept map (a company's own list replaces the default one). Segments (segment 'axis=member') are
-- placed like the consolidated figures (segment '').
-- grain: one fact per filing x metric x segment x concept x span
create or replace table core.span_facts as
with companies as (
    select distinct cik from core.fiscal_years
),

candidates as (
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
    -- from a quarter's start, or the fiscal year's (a year-to-date span needs no known first quarter)
    select f.*, b.fiscal_year, coalesce(a.fiscal_quarter, 1) as q_from, b.fiscal_quarter as q_to
    from facts as f
    inner join core.fiscal_quarters as b on b.cik = f.cik and b.period_end = f.period_end
    left join core.fiscal_quarters as a
        on a.cik = f.cik and a.fiscal_year = b.fiscal_year and a.period_start = f.period_start
    left join core.fiscal_years as y
        on y.cik = f.cik and y.fiscal_year = b.fiscal_year and y.period_start = f.period_start
    where f.kind = 'flow' and (a.fiscal_quarter is not null or y.fiscal_year is not null)
      and not (coalesce(a.fiscal_quarter, 1) = 1 and b.fiscal_quarter = 4)
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
)

select * from quarter_spans
union all by name
select * from year_spans
union all by name
select * from instant_spans
