-- core.metric_spans: each metric's value for each fiscal span it was reported for, across all of its
-- candidate concepts (a line item keeps its history when the filer changes the tag): the latest-filed
-- figure is the value of record, the earliest-filed the first reported (within one filing the concept
-- map's order decides; two figures of one filing and concept, which no_conflicting_facts refuses to
-- publish, are ordered by precision, then value, so that no run depends on row order), each with its
-- concept and filing. tolerance: half a unit of the coarser precision of the two; restated: they
-- differ by more than that (rounding to millions is not a restatement).
-- grain: cik x metric x segment x fiscal_year x q_from x q_to
create or replace table core.metric_spans as
with spans as (
    select
        cik, metric, segment, kind, fiscal_year, q_from, q_to,
        any_value(period_start) as period_start,
        any_value(period_end) as period_end,
        first(value order by filed desc, priority, accn desc, precision, value) as value,
        first(taxonomy order by filed desc, priority, accn desc, precision, value) as taxonomy,
        first(tag order by filed desc, priority, accn desc, precision, value) as tag,
        first(accn order by filed desc, priority, accn desc, precision, value) as accn,
        first(form order by filed desc, priority, accn desc, precision, value) as form,
        max(filed) as filed,
        first(precision order by filed desc, priority, accn desc, precision, value) as precision,
        first(value order by filed, priority, accn, precision, value) as first_value,
        first(taxonomy || ':' || tag order by filed, priority, accn, precision, value) as first_concept,
        first(accn order by filed, priority, accn, precision, value) as first_accn,
        min(filed) as first_filed,
        first(precision order by filed, priority, accn, precision, value) as first_precision,
        count(distinct taxonomy || ':' || tag) as concepts
    from core.span_facts
    group by cik, metric, segment, kind, fiscal_year, q_from, q_to
)

select
    * exclude (precision, first_precision),
    0.5 * greatest(precision, first_precision) as tolerance,
    abs(value - first_value) > 0.5 * greatest(precision, first_precision) as restated
from spans
