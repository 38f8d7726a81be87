-- staging.periodic_facts: facts from periodic reports only (10-K, 10-Q and their amendments), so that
-- values repeated in proxy statements, 8-Ks or prospectuses never mix in; from companyfacts and from
-- the consolidated (dimensionless) facts of the filing documents. grain: one fact per filing.
create or replace view staging.periodic_facts as
select distinct
    cik, taxonomy, tag, unit, period_start, period_end, duration_days,
    value, accn, form, filed, fy, fp
from (
    select cik, taxonomy, tag, unit, period_start, period_end, duration_days, value, accn, form, filed, fy, fp
    from core.facts
    union all
    select cik, prefix, tag, unit, period_start, period_end, duration_days, value, accn, form, filed, fy, fp
    from core.filing_facts
    where cardinality(dimensions) = 0
)
where form in ('10-K', '10-K/A', '10-Q', '10-Q/A')
  and value is not null
