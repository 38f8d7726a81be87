-- staging.periodic_facts: facts from periodic reports only (10-K, 10-Q and their amendments), so that
-- values repeated in proxy statements, 8-Ks or prospectuses never mix in; from companyfacts and from the
-- filing documents: their consolidated facts (segment '') and those of one business segment or product
-- line (segment 'axis=member'). grain: one fact per filing and segment.
create or replace view staging.periodic_facts as
with document_facts as (
    select
        cik, prefix as taxonomy, tag,
        if(cardinality(dimensions) = 0, '', map_keys(dimensions)[1] || '=' || map_values(dimensions)[1]) as segment,
        unit, period_start, period_end, duration_days, value, accn, form, filed, fy, fp
    from core.filing_facts
    where cardinality(dimensions) = 0
       or (cardinality(dimensions) = 1
           and map_keys(dimensions)[1] in ('us-gaap:StatementBusinessSegmentsAxis', 'srt:ProductOrServiceAxis'))
)

select distinct
    cik, taxonomy, tag, segment, unit, period_start, period_end, duration_days,
    value, accn, form, filed, fy, fp
from (
    select cik, taxonomy, tag, '' as segment, unit, period_start, period_end, duration_days,
           value, accn, form, filed, fy, fp
    from core.facts
    union all
    select * from document_facts
)
where form in ('10-K', '10-K/A', '10-Q', '10-Q/A')
  and value is not null
