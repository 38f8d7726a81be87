-- staging.periodic_facts: facts from periodic reports only (10-K, 10-Q and their amendments), so that
-- values repeated in proxy statements, 8-Ks or prospectuses never mix in; from companyfacts and from the
-- filing documents: their consolidated facts (segment '') and those of one business segment or product
-- line (segment 'axis=member'). precision: what a digit of the figure is worth, from the document's
-- declared decimals, else from the figure itself (its trailing zeros, at most millions: companyfacts
-- carries no decimals). grain: one fact per filing and segment.
-- what a digit of a figure without declared decimals is worth: its trailing zeros, at most millions. Below
-- 2^53, where every integer is a double, v is a multiple of 10^k exactly when trunc(v / 10^k) * 10^k = v
-- (the quotient of a multiple is exact, and any other gives a different multiple): a sixth of the cost of
-- DuckDB's double modulo (fmod), which larger figures still use
create or replace macro staging.digit_precision(value) as case
    when abs(value) >= 2 ** 53 then case
        when value % 1e6 = 0 then 1e6 when value % 1e5 = 0 then 1e5 when value % 1e4 = 0 then 1e4
        when value % 1e3 = 0 then 1e3 when value % 100 = 0 then 100 when value % 10 = 0 then 10
        when value % 1 = 0 then 1 else 0.0
    end
    when trunc(value / 1e6) * 1e6 = value then 1e6 when trunc(value / 1e5) * 1e5 = value then 1e5
    when trunc(value / 1e4) * 1e4 = value then 1e4 when trunc(value / 1e3) * 1e3 = value then 1e3
    when trunc(value / 100) * 100 = value then 100 when trunc(value / 10) * 10 = value then 10
    when trunc(value) = value then 1 else 0.0
end;

-- the periodic report a form is: 'annual' (10-K, 10-K/A), 'quarterly' (10-Q, 10-Q/A), else null. A CASE, not
-- form IN (...): DuckDB evaluates a CASE inside the scan of the facts and an IN list row by row after it,
-- which cost every reader of the four forms more than the scan (two-form filters gain little, but are
-- spelled the same way)
create or replace macro staging.report_kind(form) as case form
    when '10-K' then 'annual' when '10-K/A' then 'annual' when '10-Q' then 'quarterly' when '10-Q/A' then 'quarterly'
end;

create or replace view staging.periodic_facts as
with segment_facts as (
    -- a segment is its full set of dimensions: one business-segment or product axis, alone or with
    -- srt:ConsolidationItemsAxis=us-gaap:OperatingSegmentsMember (us-gaap's axis before 2018), which says the figure is that of an
    -- operating segment (how Alphabet tags Google Cloud's operating income, and NVIDIA its segments)
    select
        *,
        list_filter(map_entries(dimensions), lambda entry: not (
            entry.key in ('srt:ConsolidationItemsAxis', 'us-gaap:ConsolidationItemsAxis')
            and entry.value = 'us-gaap:OperatingSegmentsMember')) as axes
    from core.filing_facts
),

document_facts as (
    select
        cik, prefix as taxonomy, tag,
        if(cardinality(dimensions) = 0, '', axes[1].key || '=' || axes[1].value) as segment,
        unit, period_start, period_end, duration_days, value, accn, form, filed, fy, fp,
        case when upper(decimals) = 'INF' then 0.0 else power(10, -try_cast(decimals as integer)) end as precision
    from segment_facts
    where cardinality(dimensions) = 0
       -- the product axis was us-gaap's until the 2018 taxonomies moved it to srt (Microsoft's FY2015 10-K)
       or (len(axes) = 1 and axes[1].key in ('us-gaap:StatementBusinessSegmentsAxis', 'srt:ProductOrServiceAxis',
                                             'us-gaap:ProductOrServiceAxis'))
),

-- not materialized: each reader scans core.facts for its own companies, cheaper than buffering
-- every fact for both
companyfacts as not materialized (
    select cik, taxonomy, tag, '' as segment, unit, period_start, period_end, duration_days,
           value, accn, form, filed, fy, fp
    from core.facts
    where staging.report_kind(form) is not null and value is not null
),

documented as not materialized (
    select distinct cik from core.filing_facts
)

-- a company with filing documents: the same fact from companyfacts and from the document is one row,
-- with the better-known precision (declared, else read from the figure's trailing zeros)
select
    cik, taxonomy, tag, segment, unit, period_start, period_end, duration_days,
    value, accn, form, filed, fy, fp, min(coalesce(precision, staging.digit_precision(value))) as precision
from (
    select *, cast(null as double) as precision from companyfacts where cik in (select cik from documented)
    union all
    select * from document_facts where staging.report_kind(form) is not null and value is not null
)
group by all
union all
-- the others as they are: their companyfacts rows are one per fact already (made so when flattened,
-- staging/companyfacts_rows), and grouping millions of them would cost more than the rest of the build
select *, staging.digit_precision(value) as precision
from companyfacts
where cik not in (select cik from documented)
