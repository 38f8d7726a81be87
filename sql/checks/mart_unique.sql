-- check: a mart ($table) has one row per company x fiscal_year x fiscal_quarter. returns duplicated keys.
select cik, fiscal_year, fiscal_quarter, count(*) as rows
from query_table($table)
group by all
having count(*) > 1
