-- core.fiscal_years: each company's fiscal years as its 10-K filings delimit them (52/53-week years
-- included), labelled the way the company labels them, plus the year in progress. grain: cik x fiscal_year
create or replace table core.fiscal_years as
with annual_periods as (
    select cik, period_start, period_end, count(*) as n_facts
    from staging.periodic_facts
    where staging.report_kind(form) = 'annual' and duration_days between 350 and 380 and segment = ''
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
    where staging.report_kind(form) = 'annual' and duration_days between 350 and 380 and fy is not null
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

latest_quarterly_reports as (
    -- a filer known only from 10-Qs (Oracle offline) has no 10-K to delimit its years: its latest 10-Q says
    -- which fiscal year it reports (dei:DocumentFiscalYearFocus), and its own contexts say where that year
    -- began: the year-to-date period ending on the report date (for a first quarter, the quarter itself)
    select cik, accn, fiscal_year, report_date
    from core.filings
    where form in ('10-Q', '10-Q/A') and status = 'parsed' and fiscal_year is not null and report_date is not null
      and cik not in (select cik from closed_years)
    qualify row_number() over (partition by cik order by report_date desc) = 1
),

stated_starts as (
    -- back 0: the year in progress; back 1: the year before, whose year to date the comparatives report
    select r.cik, r.fiscal_year - s.back as fiscal_year, s.back, min(f.period_start) as period_start
    from latest_quarterly_reports as r
    cross join (values (0), (1)) as s(back)
    inner join staging.periodic_facts as f
        on f.cik = r.cik and f.accn = r.accn and f.segment = '' and f.duration_days between 80 and 290
        and f.period_end between r.report_date - to_days(375 * s.back) and r.report_date - to_days(355 * s.back)
    group by all
),

stated_years as (
    -- the year before ends the day before the year in progress began; the year in progress is open
    select
        p.cik, p.fiscal_year, p.period_start,
        if(p.back = 0, cast(null as date), cast(c.period_start - interval 1 day as date)) as period_end
    from stated_starts as p
    left join stated_starts as c on c.cik = p.cik and c.back = 0
    where p.back = 0 or c.period_start is not null
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
