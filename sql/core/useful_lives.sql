-- core.useful_lives: the useful lives companies disclose for their property and equipment, by asset
-- class, as their 10-K and 10-Q documents tag them: us-gaap:PropertyPlantAndEquipmentUsefulLife (and its
-- Minimum/Maximum concepts) on PropertyPlantAndEquipmentByTypeAxis, a range as RangeAxis minimum and
-- maximum. A life tagged on ChangeInAccountingEstimateByTypeAxis=ServiceLifeMember is a change of
-- estimate and its date (as_of) is the day the new life took effect; one tagged as a subsequent event
-- was decided after the period the filing covers; one dated on a day that closes none of the filing's
-- periods (closes_period false: Amazon's 1 January 2022 in its FY2022 instance, untagged) is dated to
-- the day it took effect too. Facts with any other axis are left out (none in the snapshot). grain: cik x accn x asset_class x bound x as_of x change_of_estimate x after_period_end
create or replace table core.useful_lives as
with lives as (
    select
        f.cik, f.accn, f.form, f.filed, f.concept, f.value as years, f.period_start, f.period_end as as_of,
        coalesce(f.dimensions['us-gaap:PropertyPlantAndEquipmentByTypeAxis'], '') as asset_class_member,
        coalesce(f.dimensions['srt:RangeAxis'], f.dimensions['us-gaap:RangeAxis'], '') as range_member,
        f.dimensions['us-gaap:ChangeInAccountingEstimateByTypeAxis'] = 'us-gaap:ServiceLifeMember'
            as change_of_estimate,
        f.dimensions['us-gaap:SubsequentEventTypeAxis'] is not null as after_period_end,
        f.dimensions
    from core.filing_facts as f
    where f.unit = 'years' and f.tag like 'PropertyPlantAndEquipmentUsefulLife%'
),

period_ends as (
    -- the days that close a quarter or longer period the filing reports
    select distinct cik, accn, period_end as as_of
    from core.filing_facts
    where duration_days >= 80
)

select
    l.cik, l.accn, l.form, l.filed, g.fiscal_year, g.report_date, g.url,
    l.asset_class_member,
    -- 'us-gaap:TechnologyEquipmentMember' -> 'technology equipment'; 'all' when the life is not by class
    coalesce(nullif(lower(regexp_replace(regexp_replace(l.asset_class_member, '^[^:]*:|Member$', '', 'g'),
                                         '([a-z])([A-Z])', '\1 \2', 'g')), ''), 'all') as asset_class,
    case
        when l.concept like '%Minimum' or l.range_member like '%:MinimumMember' then 'minimum'
        when l.concept like '%Maximum' or l.range_member like '%:MaximumMember' then 'maximum'
        else 'stated'
    end as bound,
    l.years, l.as_of, coalesce(l.change_of_estimate, false) as change_of_estimate, l.after_period_end,
    p.as_of is not null as closes_period, l.concept
from lives as l
left join core.filings as g using (cik, accn)
left join period_ends as p using (cik, accn, as_of)
where cardinality(map_keys(l.dimensions)) = (l.asset_class_member <> '')::int + (l.range_member <> '')::int
    + (l.change_of_estimate is not null)::int + l.after_period_end::int
order by l.cik, asset_class, l.as_of, bound
