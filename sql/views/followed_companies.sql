-- followed_companies (view): the companies capexwatch follows through their own refresh (the
-- configured universe: their companyfacts, filing documents and submissions feed), as opposed to the
-- filers that only the nightly bulk archive brought in. The main report, `summary` and `companies`
-- list these; the market's marts, `capexwatch screen` and the who-is-building page cover every filer.
-- grain: cik
create or replace view main.followed_companies as
select c.cik, c.ticker, c.company
from core.companies as c
where c.source is null                          -- followed, nothing to load yet (no offline data)
   or c.source not like 'bulk archive %'        -- loaded by its own refresh
   or c.cik in (select cik from core.filings)   -- followed, its companyfacts last taken from the archive
order by c.ticker, c.cik
