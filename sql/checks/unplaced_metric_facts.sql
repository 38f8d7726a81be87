-- check: facts of a metric's candidate concepts that the period math cannot use: a unit other than
-- USD, or a period that is not a fiscal quarter, half-year, nine months or year of the company.
-- returns them with the reason (a warning: the figure is left out, not guessed at; core.unplaced_metric_facts).
select cik, metric, taxonomy, tag, unit, period_start, period_end, duration_days, value, accn, reason
from core.unplaced_metric_facts
order by cik, metric, period_end
