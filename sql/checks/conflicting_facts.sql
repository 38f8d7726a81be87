-- check (warning): conflicting duplicates within one filing, each with the value kept and the rule that
-- chose it (core.conflicting_facts); published and listed, so an analyst can see every such choice.
select cik, accn, taxonomy, tag, segment, unit, period_start, period_end, "values", kept_value, rule
from core.conflicting_facts
order by cik, accn, taxonomy, tag, period_end
