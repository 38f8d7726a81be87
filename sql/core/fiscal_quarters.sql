-- core.fiscal_quarters: exact fiscal-quarter boundaries per company, and the calendar quarter each
-- lines up with (by its midpoint, so June and May fiscal years compare with calendar ones).
-- grain: cik x fiscal_year x fiscal_quarter
create or replace table core.fiscal_quarters as
with year_to_date_ends as (
    -- 10-Q periods that start on the fiscal year's first day end on a quarter end (3, 6 or 9 months)
    select
        y.cik,
        y.fiscal_year,
        f.period_end,
        case
            when f.duration_days between 80 and 100 then 1
            when f.duration_days between 170 and 195 then 2
            when f.duration_days between 260 and 285 then 3
        end as fiscal_quarter,
        count(*) as n_facts
    from core.fiscal_years as y
    inner join staging.periodic_facts as f
        on f.cik = y.cik and f.period_start = y.period_start
    where staging.report_kind(f.form) = 'quarterly' and f.segment = ''
      and (y.period_end is null or f.period_end < y.period_end)
    group by all
),

three_month_ends as (
    -- where no 10-Q year-to-date period delimits a quarter, a three-month figure can: a 10-K's quarterly note
    -- (Microsoft's FY2015 10-K reports each quarter's revenue and net income), or a 10-Q whose year-to-date
    -- periods start on another day than the year (NVIDIA's of fiscal 2009): a metric's three-month figure is
    -- the quarter its end falls in, counted in 13-week steps from the year's start (52/53-week years
    -- included); other three-month figures (a 10-K's fourth-quarter share repurchases) delimit nothing
    select
        y.cik,
        y.fiscal_year,
        f.period_end,
        cast(round((date_diff('day', y.period_start, f.period_end) + 1) / 91.3) as integer) as fiscal_quarter,
        count(*) as n_facts
    from core.fiscal_years as y
    inner join staging.periodic_facts as f
        on f.cik = y.cik and f.period_start >= y.period_start and f.period_end < y.period_end
    where exists (select 1 from core.concept_map as m where m.taxonomy = f.taxonomy and m.tag = f.tag)
      and f.segment = '' and f.duration_days between 80 and 100
    group by all
),

quarter_ends as (
    -- a year-to-date end where there is one, else a three-month one; the better-attested end first
    select cik, fiscal_year, fiscal_quarter,
           first(period_end order by from_year_to_date desc, n_facts desc, period_end) as period_end
    from (
        select *, true as from_year_to_date from year_to_date_ends where fiscal_quarter is not null
        union all
        select *, false from three_month_ends where fiscal_quarter between 1 and 3
    )
    group by all
    union all
    select cik, fiscal_year, 4 as fiscal_quarter, period_end
    from core.fiscal_years
    where period_end is not null
),

three_month_starts as (
    -- a 10-Q's three-month figure ending on a quarter end gives that quarter's start even where the
    -- previous quarter's end is unknown (e.g. comparatives of a year before the filer's first 10-Q)
    select q.cik, q.fiscal_year, q.fiscal_quarter, f.period_start
    from quarter_ends as q
    inner join staging.periodic_facts as f on f.cik = q.cik and f.period_end = q.period_end
    where staging.report_kind(f.form) = 'quarterly' and f.segment = '' and f.duration_days between 80 and 100
    group by q.cik, q.fiscal_year, q.fiscal_quarter, f.period_start
    qualify row_number() over (partition by q.cik, q.fiscal_year, q.fiscal_quarter order by count(*) desc) = 1
),

bounded as (
    select
        q.cik,
        q.fiscal_year,
        q.fiscal_quarter,
        case
            when q.fiscal_quarter = 1 then y.period_start
            when lag(q.fiscal_quarter) over w = q.fiscal_quarter - 1
                then cast(lag(q.period_end) over w + interval 1 day as date)
            else t.period_start
        end as period_start,
        q.period_end
    from quarter_ends as q
    inner join core.fiscal_years as y using (cik, fiscal_year)
    left join three_month_starts as t using (cik, fiscal_year, fiscal_quarter)
    window w as (partition by q.cik, q.fiscal_year order by q.fiscal_quarter)
),

final as (
    select
        cik,
        fiscal_year,
        fiscal_quarter,
        period_start,
        period_end,
        date_diff('day', period_start, period_end) + 1 as duration_days,
        cast(period_start + to_days(cast((date_diff('day', period_start, period_end)) // 2 as integer)) as date)
            as period_midpoint
    from bounded
    -- a quarter whose predecessor's end is unknown, and not reported on its own, has no known start
    where period_start is not null
)

select
    *,
    year(period_midpoint) || 'Q' || quarter(period_midpoint) as calendar_quarter
from final
where duration_days between 80 and 100
