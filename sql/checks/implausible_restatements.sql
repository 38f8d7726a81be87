-- check: no figure is restated by a factor of more than 10 (the same metric, segment and fiscal span in
-- two filings, one over ten times the other): a scale or unit error in one of them, not a restatement.
-- returns each such span with its smallest and largest figure and the filings that carry them.
select
    cik, metric, segment, fiscal_year, q_from, q_to,
    min(abs(value)) as smallest,
    max(abs(value)) as largest,
    arg_min(accn, abs(value)) as smallest_accn,
    arg_max(accn, abs(value)) as largest_accn
from core.span_facts
where value <> 0
group by cik, metric, segment, fiscal_year, q_from, q_to
having max(abs(value)) > 10 * min(abs(value))
order by cik, metric, fiscal_year, q_from, q_to
