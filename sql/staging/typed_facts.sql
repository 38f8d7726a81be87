-- staging.typed_facts (temporary view): one company's flattened companyfacts (registered as
-- incoming_facts) with SQL types, ready for core.facts or a Parquet partition. grain: one fact per filing
create or replace temp view typed_facts as
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
