-- core.fiscal_years: each company's fiscal years as its 10-K filings delimit them (52/53-week years
-- included), labelled the way the company labels them, plus the year in progress. grain: cik x fiscal_year
create or replace table core.fiscal_years as
with annual_periods as (
    select cik, period_start, period_end, count(*) as n_facts
    from staging.periodic_facts
    where form in ('10-K', '10-K/A') and duration_days between 350 and 380 and segment = ''
    group by cik, period_start, period_end
),

fiscal_periods as (
    -- a stray 12-month period that overlaps a better-attested one is not a fiscal year
    select p.*
    from annual_periods as p
    where not exists (
        select 1
        from annual_periods as q
        where q.cik = p.cik
          and q.period_start <= p.period_end and q.period_end >= p.period_start
          and (q.n_facts > p.n_facts or (q.n_facts = p.n_facts and q.period_end > p.period_end))
    )
),

filing_years as (
    -- a 10-K reports its latest annual period; SEC labels the filing with the company's fiscal year
    select cik, accn, arg_max(fy, period_end) as fy, max(period_end) as period_end
    from staging.periodic_facts
    where form in ('10-K', '10-K/A') and duration_days between 350 and 380 and fy is not null
    group by cik, accn
),

label_offsets as (
    -- NVIDIA's year ending January 2026 is fiscal 2026; a year ending on 3 January is usually the prior one
    select cik, mode(fy - year(period_end)) as label_offset
    from filing_years
    group by cik
),

closed_years as (
    select
        p.cik,
        year(p.period_end) + coalesce(o.label_offset, 0) as fiscal_year,
        p.period_start,
        p.period_end
    from fiscal_periods as p
    left join label_offsets as o using (cik)
    qualify row_number() over (partition by p.cik, fiscal_year order by p.period_end desc) = 1
),

open_years as (
    -- the year in progress starts the day after the last closed one; its end is known once its 10-K is filed
    select
        cik,
        max(fiscal_year) + 1 as fiscal_year,
        cast(max(period_end) + interval 1 day as date) as period_start,
        cast(null as date) as period_end
    from closed_years
    group by cik
),

stated_year_ends as (
    -- a filer known only from 10-Qs (Oracle offline) has no 10-K to delimit its years: its latest 10-Q's
    -- dei facts say the fiscal year (DocumentFiscalYearFocus) and the day it ends (CurrentFiscalYearEndDate,
    -- --MM-DD): the year ends on that day's first occurrence on or after the report date
    select
        cik, fiscal_year, report_date,
        make_date(year(report_date), cast(substr(fiscal_year_end, 3, 2) as integer),
                  cast(substr(fiscal_year_end, 6, 2) as integer)) as same_year_end
    from core.filings
    where form in ('10-Q', '10-Q/A') and status = 'parsed' and fiscal_year is not null
      and report_date is not null and regexp_full_match(fiscal_year_end, '--\d{2}-\d{2}')
      and cik not in (select cik from closed_years)
    qualify row_number() over (partition by cik order by report_date desc) = 1
),

stated_years as (
    -- the year in progress and the year before it, whose quarters the 10-Q's comparatives report
    select
        cik,
        fiscal_year - back as fiscal_year,
        cast(year_end - to_years(back + 1) + interval 1 day as date) as period_start,
        if(back = 0, cast(null as date), cast(year_end - to_years(back) as date)) as period_end
    from (
        select *, if(same_year_end < report_date, same_year_end + interval 1 year, same_year_end) as year_end
        from stated_year_ends
    ), (values (0), (1)) as steps(back)
),

final as (
    select * from closed_years
    union all
    select o.*
    from open_years as o
    where exists (
        select 1 from staging.periodic_facts as f
        where f.cik = o.cik and f.form in ('10-Q', '10-Q/A') and f.period_end >= o.period_start
    )
    union all
    select * from stated_years
)

select
    *,
    date_diff('day', period_start, period_end) + 1 as duration_days,
    period_end is null as in_progress,
    -- the calendar quarter in which the fiscal year closes (its last quarter's midpoint falls in it)
    year(period_end - interval 45 day) || 'Q' || quarter(period_end - interval 45 day) as calendar_quarter
from final
