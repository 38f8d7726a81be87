-- core.filing_facts: insert one document's parsed facts (registered as incoming_filing_facts), typed.
-- grain: one row per fact per filing
insert into core.filing_facts
select
    cik,
    accn,
    form,
    try_cast(filed as date) as filed,
    try_cast(fy as integer) as fy,
    fp,
    concept,
    prefix,
    tag,
    value,
    unit,
    try_cast(period_start as date) as period_start,
    cast(period_end as date) as period_end,
    date_diff('day', try_cast(period_start as date), cast(period_end as date)) + 1 as duration_days,
    map(cast(dimension_axes as varchar[]), cast(dimension_members as varchar[])) as dimensions,
    decimals,
    fact_id
from incoming_filing_facts
