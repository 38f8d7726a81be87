-- core.companies: record one company's refresh outcome; a company without data keeps its earlier facts.
-- grain: cik
insert or replace into core.companies
select
    $cik as cik,
    $ticker as ticker,
    $company as company,
    $status as status,
    $source as source,
    $raw_sha256 as raw_sha256,
    $fetched_at as fetched_at,
    (select count(*) from core.facts where cik = $cik) as facts,
    (select count(*) from core.rejected_facts where cik = $cik) as rejected_facts,
    (select max(filed) from core.facts where cik = $cik) as latest_filed,
    current_timestamp as refreshed_at
