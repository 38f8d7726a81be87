-- hyperscaler_totals (view): Microsoft, Amazon, Alphabet, Meta and Oracle added up per calendar
-- quarter, counting only those that reported revenue and capex for it (listed in `companies`).
-- grain: calendar_quarter; amounts in USD, ratios as fractions
create or replace view main.hyperscaler_totals as
select * exclude (company_group)
from marts.calendar_totals
where company_group = 'hyperscalers'
order by calendar_quarter
