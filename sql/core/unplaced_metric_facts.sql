-- core.unplaced_metric_facts: facts of a metric's candidate concepts that the period math cannot use (a
-- unit other than USD, or a period that is none of the company's fiscal quarters, half-years, nine months
-- or years), each with the reason; left out of the metrics, never guessed at. Built company by company
-- with the chain, so that the warning check on it reads a table rather than every periodic fact.
-- grain: one periodic fact of a candidate concept
create or replace table core.unplaced_metric_facts as
with candidates as (
    select distinct coalesce(m.cik, f.cik) as cik, m.metric, m.taxonomy, m.tag, m.kind
    from core.concept_map as m
    -- every company with facts (a cheaper list than the periodic facts' own, and no shorter)
    cross join (select distinct cik from core.facts union select distinct cik from core.filing_facts) as f
    where m.cik is null or m.cik = f.cik
),

facts as (
    select k.metric, k.kind, f.*
    from staging.periodic_facts as f
    inner join candidates as k using (cik, taxonomy, tag)
    where f.segment = ''
)

select cik, metric, taxonomy, tag, unit, period_start, period_end, duration_days, value, accn,
       case
           when unit <> 'USD' then 'unit ' || unit || ' where USD is expected'
           when duration_days between 80 and 100 then 'a three-month period that is none of the company''s fiscal '
               || 'quarters as its 10-Q year-to-date periods delimit them'
           else 'period of ' || duration_days || ' days: not a fiscal quarter, half-year, nine months or year'
       end as reason
from facts
where unit <> 'USD'
   or (kind = 'flow' and not exists (
        select 1 from core.span_facts as s
        where s.cik = facts.cik and s.taxonomy = facts.taxonomy and s.tag = facts.tag and s.segment = ''
          and s.period_end = facts.period_end and s.period_start = facts.period_start))
