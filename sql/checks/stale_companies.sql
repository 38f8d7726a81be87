-- check: each followed company's latest discrete quarter ended within 150 days of $as_of (a quarter
-- plus the 10-K filing window); companies with no quarter count as stale, with what data they do have
-- (companyfacts, filing documents, a latest fiscal year). returns the stale ones.
with latest_quarter as (
    select cik, max(period_end) as latest_quarter_end
    from marts.quarterly
    where revenue is not null or capex is not null
    group by cik
),

latest_year as (
    select cik, max(period_end) as latest_year_end
    from marts.annual
    where revenue is not null or capex is not null
    group by cik
),

documents as (
    select cik, count(*) filter (where status = 'parsed') as filing_documents
    from core.filings
    group by cik
)

select
    c.ticker,
    c.cik,
    c.status as companyfacts,
    coalesce(d.filing_documents, 0) as filing_documents,
    q.latest_quarter_end,
    y.latest_year_end,
    date_diff('day', q.latest_quarter_end, cast($as_of as date)) as days_old
from core.companies as c
left join latest_quarter as q using (cik)
left join latest_year as y using (cik)
left join documents as d using (cik)
where q.latest_quarter_end is null
   or date_diff('day', q.latest_quarter_end, cast($as_of as date)) > 150
order by c.ticker
