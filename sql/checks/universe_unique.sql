-- check: marts.universe_latest has one row per filer (cik), as the screens and marts.universe_history assume.
-- returns the repeated filers.
select cik, count(*) as rows
from marts.universe_latest
group by cik
having count(*) > 1
