-- staging.companyfacts_rows(source, document_bytes) (temporary table macro): SEC companyfacts JSON documents
-- (a path, a list or a glob; zip:// or s3:// through a registered filesystem; document_bytes: the size of the
-- largest) flattened to one row per fact,
-- typed for core.facts, with the reason a fact cannot be used (null when it can) and, for those, the
-- fact as SEC sent it. Flattened by DuckDB's JSON reader: several times faster than Python on
-- multi-MB documents. grain: one fact as listed (a fact SEC lists twice is two rows: see
-- companyfacts_first_listed below)
create or replace temp macro companyfacts_rows(source, document_bytes) as table
with documents as (
    -- the reader allocates a buffer of twice maximum_object_size for each document: a fixed 2 GB bound made
    -- that 3.7 GiB, whose release each time made DuckDB give all its cached memory back to the system, to be
    -- faulted in again by the next document (a quarter of the bulk ingest's time); its floor is 16 MiB
    select * from read_json(source, format = 'unstructured', maximum_object_size = document_bytes, columns = {
        cik: 'JSON',
        entityName: 'VARCHAR',
        facts: 'MAP(VARCHAR, MAP(VARCHAR, STRUCT(units MAP(VARCHAR, STRUCT(
            "start" VARCHAR, "end" VARCHAR, val JSON, accn VARCHAR, fy JSON, fp VARCHAR,
            form VARCHAR, filed VARCHAR, frame VARCHAR)[]))))'
    })
),

taxonomies as (
    select lpad(cik ->> '$', 10, '0') as cik, entityName, unnest(map_entries(facts)) as taxonomy from documents
),
tags as (select cik, entityName, taxonomy.key as taxonomy, unnest(map_entries(taxonomy.value)) as tag from taxonomies),
units as (select cik, entityName, taxonomy, tag.key as tag, unnest(map_entries(tag.value.units)) as unit from tags),
facts as (select cik, entityName, taxonomy, tag, unit.key as unit, unnest(unit.value) as fact from units),

typed as (
    -- each field read and cast once; the checks below look only at the results
    select
        *,
        json_type(fact.val) as value_type,
        try_cast(fact."start" as date) as period_start,
        try_cast(fact."end" as date) as period_end,
        try_cast(fact.filed as date) as filed
    from facts
),

missing as (
    select
        *,
        -- try_cast, though only numbers are cast: DuckDB may compute an expression used in several places
        -- once for every row, before the checks that guard it (a value [1] then failed the whole document)
        if(value_type in ('BIGINT', 'UBIGINT', 'DOUBLE'), try_cast(fact.val as double), null) as number,
        concat_ws(', ',
            if(coalesce(fact."end", '') = '', 'end', null),
            if(coalesce(value_type, 'NULL') = 'NULL' or (value_type = 'VARCHAR' and fact.val = '""'), 'val', null),
            if(coalesce(fact.accn, '') = '', 'accn', null),
            if(coalesce(fact.form, '') = '', 'form', null),
            if(coalesce(fact.filed, '') = '', 'filed', null)
        ) as missing_fields
    from typed
),

reasons as (
    select
        *,
        case
            when missing_fields <> '' then 'missing field(s): ' || missing_fields
            when value_type not in ('BIGINT', 'UBIGINT', 'DOUBLE') then 'value '
                || if(value_type = 'VARCHAR', '''' || (fact.val ->> '$') || '''', fact.val::varchar)
                || ' is not a number'
            when not isfinite(number) then 'value ' || fact.val::varchar || ' is not finite'
            -- more than any company's balance sheet by orders of magnitude: a typo or a scale error
            when unit = 'USD' and abs(number) >= 1e15
                then 'value ' || fact.val::varchar || ' USD is implausible (USD 1 quadrillion or more)'
            when fact."start" is not null and period_start is null
                then 'start ''' || fact."start" || ''' is not a date (YYYY-MM-DD)'
            when period_end is null then 'end ''' || fact."end" || ''' is not a date (YYYY-MM-DD)'
            when filed is null then 'filed ''' || fact.filed || ''' is not a date (YYYY-MM-DD)'
        end as reason
    from missing
),

flattened as (
    select
        cik,
        entityName as entity_name,
        taxonomy,
        tag,
        unit,
        period_start,
        period_end,
        if(reason is null, number, null) as value,
        fact.accn,
        try_cast(fact.fy as integer) as fy,
        fact.fp,
        fact.form,
        filed,
        fact.frame,
        date_diff('day', period_start, period_end) + 1 as duration_days,
        reason,
        if(reason is null, null, left(to_json(fact)::varchar, 500)) as fact
    from reasons
)

select * from flattened;


-- staging.companyfacts_counts(partition, expected_cik) (temporary table macro): what a partition written from
-- companyfacts_rows holds: usable rows, distinct keys of usable facts by a hash of what names a fact in a
-- filing (concept, unit, period and accession number: not its value), unusable rows, the entity's name, and a
-- CIK other than expected_cik if the document holds one. A company with as many keys as usable rows (nearly
-- every company) lists each fact once and gives no filing two values for one key: these counts tell it so,
-- without the window of companyfacts_first_listed (about a third of the flattening) and without
-- core.conflicting_facts looking at its facts again (core.companies.repeated_fact_keys)
create or replace temp macro companyfacts_counts(partition, expected_cik) as table
select
    count(*) filter (reason is null) as listed,
    count(distinct hash(cik, taxonomy, tag, unit, period_start, period_end, accn)) filter (reason is null)
        as distinct_keys,
    count(*) filter (reason is not null) as rejected,
    any_value(entity_name) as entity_name,
    -- the file's own column, not the cik=… of its folder name (hive partitioning)
    any_value(f.cik) filter (f.cik is distinct from expected_cik) as other_cik
from read_parquet(partition, hive_partitioning = false) as f;


-- staging.companyfacts_first_listed(partition) (temporary table macro): the rows of a partition written from
-- companyfacts_rows with one row per fact and filing. Should SEC list a fact twice (the same figure under a
-- second frame), the copy goes here, company by company, so that staging.periodic_facts need not group
-- millions of rows to find it; the frame kept is the first in order. Unusable facts are all kept.
create or replace temp macro companyfacts_first_listed(partition) as table
select * from read_parquet(partition, hive_partitioning = false)
qualify reason is not null or row_number() over (
    partition by cik, taxonomy, tag, unit, period_start, period_end, value, accn, fy, fp, form, filed
    order by frame nulls last) = 1
