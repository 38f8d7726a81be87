-- core.filings: insert one company's filings (registered as incoming_filings), typed.
-- grain: cik x accn
insert into core.filings
select
    cik, accn, form,
    try_cast(report_date as date) as report_date,
    try_cast(filed as date) as filed,
    primary_document, url, raw_sha256,
    try_cast(fiscal_year as integer) as fiscal_year,
    fiscal_period,
    cast(facts as integer) as facts,
    status
from incoming_filings
