-- core.filer_profiles: who each filer is, from SEC's submissions feed: name, industry (SIC code and its
-- description), tickers, exchanges, fiscal year end (MMDD), state of incorporation; from a followed
-- company's own feed, else from SEC's nightly submissions archive (source says which).
-- grain: cik
create table if not exists core.filer_profiles (
    cik varchar not null,
    company varchar,
    sic varchar,                     -- Standard Industrial Classification code, 4 digits (7372: prepackaged software)
    sic_description varchar,
    tickers varchar[],
    exchanges varchar[],
    fiscal_year_end varchar,         -- MMDD, as SEC records it
    state_of_incorporation varchar,
    entity_type varchar,             -- operating, investment, other, ...
    source varchar not null
)
