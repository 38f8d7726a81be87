-- core.filings, core.filing_facts, core.filing_warnings, core.reported_measures: what each company's
-- 10-K/10-Q documents held, replaced per company. grain: accn (filings); fact x accn (filing_facts);
-- message (warnings); metric x year x accn (reported_measures)
create table if not exists core.filings (
    cik varchar not null,
    accn varchar not null,
    form varchar not null,
    report_date date,
    filed date,                   -- null only offline, where the snapshot cannot confirm it
    primary_document varchar not null,
    url varchar not null,
    raw_sha256 varchar,
    fiscal_year integer,          -- dei:DocumentFiscalYearFocus
    fiscal_period varchar,        -- dei:DocumentFiscalPeriodFocus (FY, Q1..Q3)
    facts integer,
    status varchar not null,      -- 'parsed', or why the document could not be read
    primary key (cik, accn)
);

create table if not exists core.filing_facts (
    cik varchar not null,
    accn varchar not null,
    form varchar not null,
    filed date,
    fy integer,
    fp varchar,
    concept varchar not null,     -- prefix:Tag, e.g. amzn:ProceedsFromPropertyPlantAndEquipmentSalesAndIncentives
    prefix varchar not null,      -- us-gaap, dei, srt, or the company's own (amzn, goog, ...)
    tag varchar not null,
    value double,
    unit varchar not null,        -- USD, shares, USD/shares, pure, ...; years for a useful life (a duration fact)
    period_start date,            -- null for instants
    period_end date not null,
    duration_days integer,
    dimensions map(varchar, varchar) not null,   -- axis -> member; empty for the consolidated figure
    decimals varchar,
    fact_id varchar
);

create table if not exists core.filing_warnings (
    cik varchar not null,
    accn varchar not null,
    message varchar not null
);

create table if not exists core.reported_measures (
    cik varchar not null,
    accn varchar not null,
    metric varchar not null,      -- the capexwatch metric the row corresponds to
    row_label varchar not null,   -- the row as printed in the filing's own (untagged) table
    fiscal_year integer not null, -- the table's column heading
    value double not null         -- USD
)
