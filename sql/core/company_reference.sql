-- core.company_reference: the bundled company list (reference/companies.csv, registered as
-- company_rows): fiscal year end as the company states it, and which are hyperscalers. grain: ticker
create or replace table core.company_reference as
select
    ticker,
    cik,
    name,
    fiscal_year_end,
    default_universe = 'true' as default_universe,
    hyperscaler = 'true' as hyperscaler
from company_rows
