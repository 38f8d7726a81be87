-- core.conflicting_facts: one filing giving two values for the same concept, segment, unit and period
-- (a conflicting duplicate, e.g. a table and a note that disagree), and the value the period math keeps
-- by a stated rule: the more precise figure (declared decimals, else trailing zeros), then the smaller
-- one; never the order rows happen to arrive in, so identical runs publish identical values.
-- grain: cik x accn x taxonomy x tag x segment x unit x period
create or replace table core.conflicting_facts as
-- the companies whose facts can conflict: those whose companyfacts name a filing's concept, unit and period
-- twice or may (the flattening counts it: core.companies.repeated_fact_keys, null when not known) and those with
-- filing documents, whose facts meet companyfacts'; any other company's facts are not read at all
with candidates as (
    select cik from core.companies where repeated_fact_keys is not false
    union
    select cik from core.filing_facts
),

-- not materialized: read twice, the facts cost less than buffering every one with all its columns for
-- the second reader (which, with no conflict found, reads none of them)
keyed as not materialized (
    select *, hash(cik, accn, taxonomy, tag, segment, unit, period_start, period_end) as key_hash
    from staging.periodic_facts
    where cik in (select cik from candidates)
),

conflicted as (
    -- a cheap pass over every candidate's fact, on one hash of the key, finds the few keys with two values; only
    -- their facts are grouped below, by the key itself (a hash shared by two keys is sorted out there)
    select key_hash
    from keyed
    group by key_hash
    having min(value) <> max(value)
)

select
    cik, accn, any_value(f.form) as form, any_value(f.filed) as filed,
    taxonomy, tag, segment, unit, period_start, period_end,
    list(distinct f.value order by f.value) as "values",
    first(f.value order by f.precision, f.value) as kept_value,
    'the more precise figure, then the smaller' as rule
from keyed as f
semi join conflicted using (key_hash)
group by cik, accn, taxonomy, tag, segment, unit, period_start, period_end
having count(distinct f.value) > 1
