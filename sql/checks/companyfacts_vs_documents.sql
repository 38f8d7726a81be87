-- check: a consolidated fact reported both in companyfacts and in the parsed filing document (same
-- accession, concept, unit and period) has the same value in both. returns every disagreement.
select
    d.cik, d.accn, d.concept, d.unit, d.period_start, d.period_end,
    d.value as document_value, f.value as companyfacts_value, d.fact_id
from core.filing_facts as d
inner join core.facts as f
    on f.cik = d.cik and f.accn = d.accn and f.taxonomy = d.prefix and f.tag = d.tag and f.unit = d.unit
    and f.period_end = d.period_end and f.period_start is not distinct from d.period_start
where cardinality(d.dimensions) = 0
  and abs(f.value - d.value) > 1e-9 * greatest(abs(f.value), 1)
order by d.cik, d.accn, d.concept, d.period_end
