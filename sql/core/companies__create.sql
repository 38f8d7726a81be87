-- core.companies: the universe and what the last refresh found for each company (coverage, provenance).
-- grain: cik
create table if not exists core.companies (
    cik varchar primary key,
    ticker varchar,
    company varchar,
    status varchar not null,      -- 'loaded', or 'no offline data' (nothing to load, nothing invented)
    source varchar,               -- live, offline-snapshot, or the raw copy an earlier run fetched
    raw_sha256 varchar,
    fetched_at varchar,
    facts integer,
    rejected_facts integer,       -- facts quarantined in core.rejected_facts
    latest_filed date,
    refreshed_at timestamp not null,
    repeated_fact_keys boolean    -- companyfacts name a filing's concept, unit and period twice (null: not known)
);

-- a warehouse created before the column gains it, null (not known) for every company until it is loaded again
alter table core.companies add column if not exists repeated_fact_keys boolean
