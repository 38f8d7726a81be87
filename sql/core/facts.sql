-- core.facts: insert one company's flattened companyfacts (registered as incoming_facts), typed.
-- grain: one row per fact per filing
insert into core.facts
select
    cik,
    entity_name,
    taxonomy,
    tag,
    unit,
    try_cast(period_start as date) as period_start,
    cast(period_end as date) as period_end,
    try_cast(value as double) as value,
    accn,
    try_cast(fy as integer) as fy,
    fp,
    form,
    cast(filed as date) as filed,
    frame,
    date_diff('day', try_cast(period_start as date), cast(period_end as date)) + 1 as duration_days
from incoming_facts
