-- core.metric_spans: each metric's value for each fiscal span it was reported for, across all of its
-- candidate concepts (a line item keeps its history when the filer changes the tag): the latest-filed
-- figure is the value of record, the earliest-filed the first reported (within one filing the concept
-- map's order decides; two figures of one filing and concept follow core.conflicting_facts' rule: the
-- more precise, then the smaller, so that no run depends on row order), each with its
-- concept and filing. tolerance: half a unit of the coarser precision of the two; restated: they
-- differ by more than that (rounding to millions is not a restatement).
-- grain: cik x metric x segment x fiscal_year x q_from x q_to
create or replace table core.metric_spans as
with spans as (
    select
        cik, metric, segment, kind, fiscal_year, q_from, q_to,
        any_value(period_start) as period_start,
        any_value(period_end) as period_end,
        first({'value': value, 'taxonomy': taxonomy, 'tag': tag, 'accn': accn, 'form': form, 'filed': filed,
               'precision': precision}
              order by filed desc, priority, accn desc, precision, value) as latest,
        first({'value': value, 'concept': taxonomy || ':' || tag, 'accn': accn, 'filed': filed, 'precision': precision}
              order by filed, priority, accn, precision, value) as earliest,
        count(distinct taxonomy || ':' || tag) as concepts
    from core.span_facts
    group by cik, metric, segment, kind, fiscal_year, q_from, q_to
)

select
    cik, metric, segment, kind, fiscal_year, q_from, q_to, period_start, period_end,
    latest.value, latest.taxonomy, latest.tag, latest.accn, latest.form, latest.filed,
    earliest.value as first_value, earliest.concept as first_concept, earliest.accn as first_accn,
    earliest.filed as first_filed, concepts,
    0.5 * greatest(latest.precision, earliest.precision) as tolerance,
    abs(latest.value - earliest.value) > 0.5 * greatest(latest.precision, earliest.precision) as restated
from spans
