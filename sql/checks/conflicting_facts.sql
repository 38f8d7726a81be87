-- check: one filing does not give two different values for the same concept, segment, unit and
-- period (a conflicting duplicate). returns the conflicts with their values.
select cik, accn, taxonomy, tag, segment, unit, period_start, period_end, list(distinct value) as values
from staging.periodic_facts
group by cik, accn, taxonomy, tag, segment, unit, period_start, period_end
having count(distinct value) > 1
