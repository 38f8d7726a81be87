-- core.useful_life_changes: each change of a useful life that a company tagged (a change of accounting
-- estimate, a subsequent event such as a life lengthened after the year end, or a life dated to a day
-- that closes none of the filing's periods: core.useful_lives.closes_period), with the day it took
-- effect, the life the company stated for that class before it (the latest stated before that day: one
-- figure or a range), and the filing that first reported it.
-- grain: cik x asset_class x effective x new_years
create or replace table core.useful_life_changes as
with changes as (
    select
        cik, asset_class, asset_class_member, years as new_years, as_of as effective,
        bool_or(change_of_estimate) as change_of_estimate,
        -- the first filing that reported it (a filing whose date the offline data lacks counts as last)
        arg_min(accn, coalesce(filed, date '9999-12-31')) as accn,
        min(filed) as filed
    from core.useful_lives
    where change_of_estimate or after_period_end or not closes_period
    group by all
),

before as (
    select c.cik, c.asset_class, c.effective, max(l.as_of) as previous_as_of
    from changes as c
    inner join core.useful_lives as l
        on l.cik = c.cik and l.asset_class = c.asset_class and l.as_of < c.effective
    group by all
)

select
    c.cik, c.asset_class, c.asset_class_member, c.effective, c.new_years,
    min(l.years) as previous_min_years, max(l.years) as previous_max_years, b.previous_as_of,
    case
        when min(l.years) is null then 'no earlier life stated'
        when c.new_years > max(l.years) then 'lengthened'
        when c.new_years < min(l.years) then 'shortened'
        else 'within the earlier range'
    end as direction,
    c.change_of_estimate, c.accn, c.filed, g.form, g.url
from changes as c
left join before as b using (cik, asset_class, effective)
left join core.useful_lives as l
    on l.cik = c.cik and l.asset_class = c.asset_class and l.as_of = b.previous_as_of
left join core.filings as g on g.cik = c.cik and g.accn = c.accn
group by c.cik, c.asset_class, c.asset_class_member, c.effective, c.new_years, b.previous_as_of,
         c.change_of_estimate, c.accn, c.filed, g.form, g.url
-- a tagged life equal to the one before it is the earlier estimate shown beside the new one, not a change
having min(l.years) is null or not (min(l.years) = c.new_years and max(l.years) = c.new_years)
order by c.cik, c.asset_class, c.effective
