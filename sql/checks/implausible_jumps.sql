-- check: no quarter or fiscal year of a smooth line item (revenue, capex, depreciation, backlog) is ten
-- times or more, or a tenth or less, of the median of its neighbouring periods (up to two before and two
-- after, at least two of them): a scale or unit error in the only filing that reports it, which
-- implausible_restatements cannot see. The median keeps a bad figure from making its neighbours look bad,
-- and a series of two (a real ramp from a small base) is not judged. Material figures only (the figure or
-- the median at least USD 1 billion), so a small filer's real swings do not stop a build; zeros are
-- not compared. returns the period, the median it was compared with, and its filing.
with series as (
    select cik, metric, period_type, fiscal_year, fiscal_quarter, period_end, value, accn, derivation,
           row_number() over (partition by cik, metric, period_type order by period_end) as position
    from core.base_metric_values
    where metric in ('revenue', 'capex', 'd_and_a', 'rpo') and period_type in ('quarter', 'fiscal_year')
      and value is not null and value <> 0
),

neighbourhoods as (
    select s.cik, s.metric, s.period_type, s.position,
           median(abs(n.value)) as neighbour_median, count(*) as neighbours
    from series as s
    inner join series as n
        on n.cik = s.cik and n.metric = s.metric and n.period_type = s.period_type
        and n.position between s.position - 2 and s.position + 2 and n.position <> s.position
    group by all
)

select s.cik, s.metric, s.period_type, s.fiscal_year, s.fiscal_quarter, s.period_end, s.value,
       h.neighbour_median, h.neighbours, s.accn, s.derivation
from series as s
inner join neighbourhoods as h using (cik, metric, period_type, position)
where h.neighbours >= 2
  and greatest(abs(s.value), h.neighbour_median) >= 1e9
  and greatest(abs(s.value), h.neighbour_median) >= 10 * least(abs(s.value), h.neighbour_median)
order by s.cik, s.metric, s.period_end
