-- core.facts: insert companies' facts from their Parquet partitions ($files, written by the bulk ingest).
-- grain: one row per fact per filing
insert into core.facts
select * from read_parquet($files)
