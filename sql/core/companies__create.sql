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
    refreshed_at timestamp not null
)
