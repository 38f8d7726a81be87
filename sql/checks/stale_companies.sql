-- check: each followed company's latest discrete quarter ended within 150 days of $as_of (a quarter
-- plus the 10-K filing window); companies with no data at all count as stale. returns the stale ones.
with latest as (
    select cik, max(period_end) as latest_period_end
    from marts.quarterly
    where revenue is not null or capex is not null
    group by cik
)

select c.ticker, c.cik, c.status, l.latest_period_end,
       date_diff('day', l.latest_period_end, cast($as_of as date)) as days_old
from core.companies as c
left join latest as l using (cik)
where l.latest_period_end is null
   or date_diff('day', l.latest_period_end, cast($as_of as date)) > 150
order by c.ticker
