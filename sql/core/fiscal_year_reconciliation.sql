-- core.fiscal_year_reconciliation: for each fiscal year with a value and all four discrete quarters, do
-- the quarters add up to the year (tolerance 0.1 % or USD 5 million, for figures rounded in the filings)?
-- Where they do not, the explanation names what was restated after it was first reported (span, first
-- and latest figure, the restating filing) and which quarters rest on figures that were never
-- re-reported on the restated basis: a later filing restates the year or the nine months without
-- repeating every quarter, so the quarters mix two bases. Alphabet's 2015 capex: FY 9,915 -> 9,950 and
-- nine months 7,815 -> 7,848, while Q1 and Q2 (2,927, 2,515) and the reported Q3 (2,383) were not.
-- A difference larger than the restatements behind it, or with none, has no explanation (the
-- quarters_sum_to_fiscal_year check).
-- grain: cik x metric x fiscal_year
create or replace table core.fiscal_year_reconciliation as
with quarters as (
    select
        cik, metric, fiscal_year,
        count(value) as quarters_with_value,
        sum(value) as quarter_sum,
        list(fiscal_quarter order by fiscal_quarter) filter (where not restated and derivation = 'reported')
            as quarters_as_first_reported
    from core.base_metric_values
    where period_type = 'quarter' and kind = 'flow'
    group by cik, metric, fiscal_year
),

restatements as (
    select
        cik, metric, fiscal_year,
        string_agg(
            case when q_from = q_to then 'Q' || q_from when q_from = 1 then ['', '6M', '9M', 'FY'][q_to]
                 else 'Q' || q_from || '-Q' || q_to end
                || ' ' || format('{:,.0f}', first_value / 1e6) || ' -> ' || format('{:,.0f}', value / 1e6)
                || ' (' || accn || ')',
            '; ' order by q_to, q_from) as restated_spans,
        sum(abs(value - first_value)) as restated_amount
    from core.metric_spans
    where restated and segment = '' and kind = 'flow'
    group by cik, metric, fiscal_year
),

differences as (
    select
        q.cik, q.metric, q.fiscal_year, q.quarter_sum, y.value as fiscal_year_value,
        q.quarter_sum - y.value as difference,
        greatest(0.001 * abs(y.value), 5e6) as tolerance,
        r.restated_spans, r.restated_amount, q.quarters_as_first_reported
    from quarters as q
    inner join core.base_metric_values as y
        on y.cik = q.cik and y.metric = q.metric and y.fiscal_year = q.fiscal_year and y.period_type = 'fiscal_year'
    left join restatements as r
        on r.cik = q.cik and r.metric = q.metric and r.fiscal_year = q.fiscal_year
    where q.quarters_with_value = 4 and y.value is not null
),

compared as (
    select
        cik, metric, fiscal_year, quarter_sum, fiscal_year_value, difference,
        abs(difference) <= tolerance as adds_up,
        -- restatements explain a difference only up to their own size (plus the rounding tolerance)
        abs(difference) <= coalesce(restated_amount, 0) + tolerance as restatements_cover_difference,
        restated_spans, quarters_as_first_reported
    from differences
)

select
    *,
    case
        when adds_up then null
        when restated_spans is not null and restatements_cover_difference then
            'restated after first report (USD millions): ' || restated_spans
            || coalesce('; not re-reported on that basis: '
                        || list_aggregate(list_transform(quarters_as_first_reported, lambda q: 'Q' || q), 'string_agg', ', '), '')
    end as explanation
from compared
