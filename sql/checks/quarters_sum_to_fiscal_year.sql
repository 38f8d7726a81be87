-- check: where a fiscal year and all four of its discrete quarters exist, the quarters add up to the
-- year (tolerance 0.1 % or USD 5 million, for figures rounded in the filings). A year whose figures were
-- restated after they were first reported is left out: its restated figures come from later filings
-- that need not re-report every quarter (core.metric_spans.restated shows them). returns the violations.
with quarters as (
    select cik, metric, fiscal_year, count(value) as quarters_with_value, sum(value) as quarter_sum
    from core.base_metric_values
    where period_type = 'quarter' and kind = 'flow'
    group by cik, metric, fiscal_year
),

restated_years as (
    select distinct cik, metric, fiscal_year
    from core.metric_spans
    where restated and segment = ''
)

select q.cik, q.metric, q.fiscal_year, q.quarter_sum, y.value as fiscal_year_value,
       q.quarter_sum - y.value as difference
from quarters as q
inner join core.base_metric_values as y
    on y.cik = q.cik and y.metric = q.metric and y.fiscal_year = q.fiscal_year
    and y.period_type = 'fiscal_year'
where q.quarters_with_value = 4
  and y.value is not null
  and abs(q.quarter_sum - y.value) > greatest(0.001 * abs(y.value), 5e6)
  and not exists (
      select 1 from restated_years as r
      where r.cik = q.cik and r.metric = q.metric and r.fiscal_year = q.fiscal_year
  )
order by q.cik, q.metric, q.fiscal_year
