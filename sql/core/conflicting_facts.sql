-- core.conflicting_facts: one filing giving two values for the same concept, segment, unit and period
-- (a conflicting duplicate, e.g. a table and a note that disagree), and the value the period math keeps
-- by a stated rule: the more precise figure (declared decimals, else trailing zeros), then the smaller
-- one; never the order rows happen to arrive in, so identical runs publish identical values.
-- grain: cik x accn x taxonomy x tag x segment x unit x period
create or replace table core.conflicting_facts as
with conflicted as (
    -- a cheap pass over every fact finds the few keys with two values; only those are listed below
    select cik, accn, taxonomy, tag, segment, unit, period_start, period_end
    from staging.periodic_facts
    group by all
    having min(value) <> max(value)
)

select
    cik, accn, any_value(f.form) as form, any_value(f.filed) as filed,
    taxonomy, tag, segment, unit, period_start, period_end,
    list(distinct f.value order by f.value) as "values",
    first(f.value order by f.precision, f.value) as kept_value,
    'the more precise figure, then the smaller' as rule
from staging.periodic_facts as f
semi join conflicted as c
    on c.cik = f.cik and c.accn = f.accn and c.taxonomy = f.taxonomy and c.tag = f.tag and c.segment = f.segment
    and c.unit = f.unit and c.period_start is not distinct from f.period_start and c.period_end = f.period_end
group by cik, accn, taxonomy, tag, segment, unit, period_start, period_end
