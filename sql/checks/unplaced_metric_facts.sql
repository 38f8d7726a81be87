-- check: facts of a metric's candidate concepts that the period math cannot use: a unit other than
-- USD, or a period that is not a fiscal quarter, half-year, nine months or year of the company.
-- returns them with the reason (a warning: the figure is left out, not guessed at).
with candidates as (
    select distinct coalesce(m.cik, f.cik) as cik, m.metric, m.taxonomy, m.tag, m.kind
    from core.concept_map as m
    cross join (select distinct cik from staging.periodic_facts) as f
    where m.cik is null or m.cik = f.cik
),

facts as (
    select k.metric, k.kind, f.*
    from staging.periodic_facts as f
    inner join candidates as k using (cik, taxonomy, tag)
    where f.segment = ''
)

select cik, metric, taxonomy, tag, unit, period_start, period_end, duration_days, value, accn,
       if(unit <> 'USD', 'unit ' || unit || ' where USD is expected', 'period of ' || duration_days || ' days') as reason
from facts
where unit <> 'USD'
   or (kind = 'flow' and not exists (
        select 1 from core.span_facts as s
        where s.cik = facts.cik and s.taxonomy = facts.taxonomy and s.tag = facts.tag and s.segment = ''
          and s.period_end = facts.period_end and s.period_start = facts.period_start))
order by cik, metric, period_end
