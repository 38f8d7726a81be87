-- report: every value in the marts with where it came from (for the workbook's Sources sheet).
-- grain: cik x metric x period_type x fiscal_year x fiscal_quarter
select
    c.ticker, v.metric, v.period_type, v.fiscal_year, v.fiscal_quarter, v.period_end, v.value,
    v.tag as concept_or_formula, v.derivation, v.form, v.accn, v.filed, v.filing_url, v.components,
    -- a derived value names every filing it rests on, and says when they are on different bases
    array_to_string(v.source_accns, ', ') as source_filings, v.mixed_bases, v.restated, v.first_value
from core.metric_values as v
left join core.companies as c using (cik)
where v.value is not null
order by c.ticker, v.metric, v.period_type, v.fiscal_year, v.fiscal_quarter
