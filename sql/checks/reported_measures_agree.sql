-- check: where a company prints a measure in its own table that capexwatch also computes from XBRL
-- (Amazon's free cash flow and free cash flow less principal repayments), the two agree to within
-- USD 1 million (the tables are in millions). returns every disagreement.
select r.cik, r.accn, r.metric, r.fiscal_year, r.value as table_value, v.value as computed_value
from core.reported_measures as r
inner join core.metric_values as v
    on v.cik = r.cik and v.metric = r.metric and v.period_type = 'fiscal_year' and v.fiscal_year = r.fiscal_year
where v.value is null or abs(v.value - r.value) > 1e6
