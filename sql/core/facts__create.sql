-- core.facts: every fact of every taxonomy in each company's companyfacts, as SEC reported it.
-- grain: one row per fact per filing (cik x taxonomy x tag x unit x period x accn); value in the fact's unit.
create table if not exists core.facts (
    cik varchar not null,            -- 10 digits, zero-padded
    entity_name varchar,
    taxonomy varchar not null,       -- us-gaap, dei, srt, ifrs-full, ...
    tag varchar not null,
    unit varchar not null,           -- USD, shares, USD/shares, pure, ...
    period_start date,               -- null for instants (balances)
    period_end date not null,
    value double,
    accn varchar not null,           -- accession number of the filing that reported it
    fy integer,                      -- the filing's fiscal year focus (not the fact's period)
    fp varchar,                      -- the filing's fiscal period focus (FY, Q1..Q3)
    form varchar not null,           -- 10-K, 10-Q, 8-K, DEF 14A, ...
    filed date not null,
    frame varchar,                   -- SEC's calendar frame when this fact is the one chosen for it
    duration_days integer            -- period_end - period_start + 1; null for instants
)
;

-- core.rejected_facts: facts of a companyfacts response that could not be loaded, with the reason.
-- grain: one row per rejected fact
create table if not exists core.rejected_facts (
    cik varchar not null,
    taxonomy varchar,
    tag varchar,
    unit varchar,
    fact varchar not null,        -- the fact as SEC sent it (JSON, cut at 500 characters)
    reason varchar not null
)
