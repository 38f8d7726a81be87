-- core.conflicting_facts: one filing giving two values for the same concept, segment, unit and period
-- (a conflicting duplicate, e.g. a table and a note that disagree), and the value the period math keeps
-- by a stated rule: the more precise figure (declared decimals, else trailing zeros), then the smaller
-- one; never the order rows happen to arrive in, so identical runs publish identical values.
-- grain: cik x accn x taxonomy x tag x segment x unit x period
create or replace table core.conflicting_facts as
select
    cik, accn, any_value(form) as form, any_value(filed) as filed,
    taxonomy, tag, segment, unit, period_start, period_end,
    list(distinct value order by value) as "values",
    first(value order by precision, value) as kept_value,
    'the more precise figure, then the smaller' as rule
from staging.periodic_facts
group by cik, accn, taxonomy, tag, segment, unit, period_start, period_end
having count(distinct value) > 1
