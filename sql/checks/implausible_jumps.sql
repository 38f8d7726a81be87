-- check: no quarter or fiscal year of a smooth line item (revenue, capex, depreciation, backlog) is more
-- than ten times, or less than a tenth of, every neighbouring period of the same company (the one before
-- and the one after, where there is one): a scale or unit error in the only filing that reports it, which
-- implausible_restatements cannot see. Material figures only (the larger side at least USD 1 billion), so
-- a small filer's real swings do not stop a build. returns the period, its neighbours and its filing.
with series as (
    select
        cik, metric, period_type, fiscal_year, fiscal_quarter, period_end, value, accn, derivation,
        lag(value) over w as previous_value,
        lead(value) over w as next_value
    from core.base_metric_values
    where metric in ('revenue', 'capex', 'd_and_a', 'rpo') and period_type in ('quarter', 'fiscal_year')
      and value is not null
    window w as (partition by cik, metric, period_type order by period_end)
),

ratios as (
    -- how many times larger the bigger of the two figures is, against each neighbour (null: none; DuckDB's
    -- greatest() skips nulls, hence the explicit test)
    select
        *,
        if(previous_value is null, null,
           greatest(abs(value), abs(previous_value)) / nullif(least(abs(value), abs(previous_value)), 0)) as to_previous,
        if(next_value is null, null,
           greatest(abs(value), abs(next_value)) / nullif(least(abs(value), abs(next_value)), 0)) as to_next
    from series
)

select cik, metric, period_type, fiscal_year, fiscal_quarter, period_end, value, previous_value, next_value,
       accn, derivation
from ratios
where coalesce(to_previous, to_next) is not null
  and coalesce(to_previous > 10, true) and coalesce(to_next > 10, true)
  and greatest(abs(value), coalesce(abs(previous_value), 0), coalesce(abs(next_value), 0)) >= 1e9
  -- same direction against both neighbours: a spike or a dip, not a step that the next period confirms
  and (previous_value is null or next_value is null
       or sign(abs(value) - abs(previous_value)) = sign(abs(value) - abs(next_value)))
order by cik, metric, period_end
