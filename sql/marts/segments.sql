-- marts.segments: revenue and operating income of each business segment and product line that the
-- filing documents report, per discrete fiscal quarter and fiscal year, by the same period math as the
-- consolidated figures. grain: cik x segment x period_type x fiscal_year x fiscal_quarter; amounts in USD
create or replace table marts.segments as
with segment_values as (
    select *
    from core.discrete_values
    where segment <> '' and metric in ('revenue', 'operating_income')
),

wide as (
    select
        cik, segment, period_type, fiscal_year, fiscal_quarter,
        first(value) filter (where metric = 'revenue') as revenue,
        first(value) filter (where metric = 'operating_income') as operating_income,
        first(taxonomy || ':' || tag) filter (where metric = 'revenue') as revenue_concept,
        first(derivation) filter (where metric = 'revenue') as revenue_derivation,
        first(accn) filter (where metric = 'revenue') as revenue_accn,
        first(accn) filter (where metric = 'operating_income') as operating_income_accn,
        -- a derived quarter (FY - 9M, 6M - Q1, ...) rests on two filings: both are named
        first(source_accns) filter (where metric = 'revenue') as revenue_source_accns,
        first(source_accns) filter (where metric = 'operating_income') as operating_income_source_accns
    from segment_values
    group by cik, segment, period_type, fiscal_year, fiscal_quarter
),

periods as (
    select cik, 'quarter' as period_type, fiscal_year, fiscal_quarter, period_start, period_end, calendar_quarter
    from core.fiscal_quarters
    union all
    select cik, 'fiscal_year', fiscal_year, null, period_start, period_end, calendar_quarter
    from core.fiscal_years
    where not in_progress
),

words as (
    -- the member's name in words: amzn:AmazonWebServicesSegmentMember -> Amazon Web Services,
    -- nvda:OEMAndOtherMember -> OEM and Other (an acronym ends before its last capital)
    select distinct
        segment,
        regexp_replace(regexp_replace(
            regexp_replace(split_part(split_part(segment, '=', 2), ':', 2), '(Segment)?Member$', ''),
            '([A-Z]{2,})([A-Z][a-z])', '\1 \2', 'g'),
            '([a-z0-9])([A-Z])', '\1 \2', 'g') as words
    from wide
),

names as (
    -- small words in lower case; an "and" the filer glued to a word (aapl:WearablesHomeandAccessories);
    -- Apple's iPad and iPhone
    select
        segment,
        regexp_replace(regexp_replace(
            replace(replace(replace(replace(' ' || words || ' ', ' And ', ' and '), ' Of ', ' of '), ' For ', ' for '),
                    ' The ', ' the '),
            '([A-Za-z][a-z]{2,})and ([A-Z])', '\1 and \2', 'g'),
            ' I([A-Z][a-z])', ' i\1', 'g').trim() as segment_name
    from words
),

final as (
    select
        c.ticker,
        w.cik,
        c.company,
        split_part(w.segment, '=', 1) as segment_axis,
        split_part(w.segment, '=', 2) as segment_member,
        n.segment_name,
        w.period_type, w.fiscal_year, w.fiscal_quarter,
        p.period_start, p.period_end, p.calendar_quarter,
        w.revenue,
        w.operating_income,
        w.operating_income / nullif(w.revenue, 0) as operating_margin,
        if(prev.revenue > 0, w.revenue / prev.revenue - 1, null) as revenue_yoy,
        w.revenue_concept, w.revenue_derivation, w.revenue_accn, w.operating_income_accn,
        w.revenue_source_accns, w.operating_income_source_accns
    from wide as w
    inner join names as n using (segment)
    inner join periods as p
        on p.cik = w.cik and p.period_type = w.period_type and p.fiscal_year = w.fiscal_year
        and p.fiscal_quarter is not distinct from w.fiscal_quarter
    left join wide as prev
        on prev.cik = w.cik and prev.segment = w.segment and prev.period_type = w.period_type
        and prev.fiscal_year = w.fiscal_year - 1 and prev.fiscal_quarter is not distinct from w.fiscal_quarter
    left join core.companies as c on c.cik = w.cik
)

select * from final
order by ticker, segment_axis, segment_member, period_type, fiscal_year, fiscal_quarter
