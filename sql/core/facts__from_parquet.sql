-- core.facts, core.rejected_facts: insert companies' facts from their Parquet partitions ($files, written
-- by staging/companyfacts_rows): usable facts to core.facts, the others with their reason to the quarantine.
-- grain: one row per fact per filing
insert into core.facts
select
    cik, entity_name, taxonomy, tag, unit, period_start, period_end, value, accn, fy, fp, form, filed, frame,
    duration_days
from read_parquet($files, hive_partitioning = false)
where reason is null;

insert into core.rejected_facts
select cik, taxonomy, tag, unit, fact, reason
from read_parquet($files, hive_partitioning = false)
where reason is not null
