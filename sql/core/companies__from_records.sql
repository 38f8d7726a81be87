-- core.companies: record the companies just loaded ($ciks) from their partition records (registered as
-- partition_records), with what core.facts now holds for them. grain: cik
insert or replace into core.companies
with counts as (
    select cik, count(*) as facts, max(filed) as latest_filed
    from core.facts
    where cik in (select unnest($ciks))
    group by cik
),

rejected as (
    select cik, count(*) as rejected_facts
    from core.rejected_facts
    where cik in (select unnest($ciks))
    group by cik
)

select
    r.cik,
    r.ticker,
    r.company,
    r.status,
    r.source,
    r.raw_sha256,
    r.fetched_at,
    coalesce(counts.facts, 0) as facts,
    coalesce(rejected.rejected_facts, 0) as rejected_facts,
    counts.latest_filed,
    current_timestamp as refreshed_at,
    r.repeated_fact_keys::boolean as repeated_fact_keys  -- null in a record written before it was kept
from partition_records r
left join counts using (cik)
left join rejected using (cik)
where r.cik in (select unnest($ciks))
