-- check: where a fiscal year and all four of its discrete quarters exist, the quarters add up to the year
-- (core.fiscal_year_reconciliation: tolerance 0.1 % or USD 5 million). A year that does not add up
-- because a later filing restated it without re-reporting every quarter is explained there and passes;
-- returns the differences that nothing explains.
select cik, metric, fiscal_year, quarter_sum, fiscal_year_value, difference
from core.fiscal_year_reconciliation
where not adds_up and explanation is null
order by cik, metric, fiscal_year
