-- core.ppe_balances: what each company's property and equipment stands at, at each balance-sheet date:
-- gross cost, accumulated depreciation, net book value, construction in progress (built, not yet in
-- service, so not yet depreciated), and the finance-lease assets the filers show beside or within them
-- (includes_finance_leases: the balance covers both, as Amazon, Alphabet and Meta tag theirs). By asset
-- class where a 10-K tags its PropertyPlantAndEquipmentByTypeAxis (servers, buildings, land, ...), else
-- 'all'. From 10-K/10-Q facts of companyfacts and of the filing documents; the value of record is the
-- latest-filed, with its concept and filing; first_value is the earliest-filed (a restatement shows as
-- the two differing). The depreciation outlook's inputs, with the useful lives of core.useful_lives.
-- grain: cik x measure x includes_finance_leases x asset_class x as_of
create or replace table core.ppe_balances as
with concepts (tag, measure, includes_finance_leases) as (
    values
        ('PropertyPlantAndEquipmentGross', 'gross', false),
        ('AccumulatedDepreciationDepletionAndAmortizationPropertyPlantAndEquipment', 'accumulated_depreciation', false),
        ('PropertyPlantAndEquipmentNet', 'net', false),
        ('ConstructionInProgressGross', 'construction_in_progress', false),
        ('PropertyPlantAndEquipmentAndFinanceLeaseRightOfUseAssetBeforeAccumulatedDepreciationAndAmortization', 'gross', true),
        ('PropertyPlantAndEquipmentAndFinanceLeaseRightOfUseAssetAccumulatedDepreciationAndAmortization', 'accumulated_depreciation', true),
        ('PropertyPlantAndEquipmentAndFinanceLeaseRightOfUseAssetAfterAccumulatedDepreciationAndAmortization', 'net', true),
        ('FinanceLeaseRightOfUseAssetBeforeAccumulatedAmortization', 'finance_lease_gross', false),
        ('FinanceLeaseRightOfUseAssetAccumulatedAmortization', 'finance_lease_accumulated_amortization', false),
        ('FinanceLeaseRightOfUseAsset', 'finance_lease_net', false)
),

reported as (
    select cik, tag, '' as asset_class_member, period_end as as_of, value, accn, form, filed,
           'companyfacts' as source
    from core.facts
    where taxonomy = 'us-gaap' and unit = 'USD' and period_start is null and value is not null
      and staging.report_kind(form) is not null and tag in (select tag from concepts)
    union all
    select cik, tag, coalesce(dimensions['us-gaap:PropertyPlantAndEquipmentByTypeAxis'], '') as asset_class_member,
           period_end, value, accn, form, filed, 'filing document'
    from core.filing_facts
    where prefix = 'us-gaap' and unit = 'USD' and period_start is null and value is not null
      and staging.report_kind(form) is not null and tag in (select tag from concepts)
      -- consolidated, or one asset class; segment splits (Amazon's by segment) are left out
      and (cardinality(dimensions) = 0
           or (cardinality(dimensions) = 1 and dimensions['us-gaap:PropertyPlantAndEquipmentByTypeAxis'] is not null))
),

classified as (
    -- construction in progress is also tagged as gross cost on its own asset class
    select
        r.cik,
        if(r.asset_class_member = 'us-gaap:ConstructionInProgressMember' and c.measure = 'gross',
           'construction_in_progress', c.measure) as measure,
        c.includes_finance_leases,
        if(r.asset_class_member = 'us-gaap:ConstructionInProgressMember', '', r.asset_class_member)
            as asset_class_member,
        r.as_of, r.value, r.tag, r.accn, r.form, r.filed, r.source
    from reported as r
    inner join concepts as c using (tag)
)

select
    cik, measure, includes_finance_leases, asset_class_member,
    coalesce(nullif(lower(regexp_replace(regexp_replace(asset_class_member, '^[^:]*:|Member$', '', 'g'),
                                         '([a-z])([A-Z])', '\1 \2', 'g')), ''), 'all') as asset_class,
    as_of,
    -- latest filed first; one filing's figure from its document before companyfacts' copy of it
    arg_max(value, (coalesce(filed, date '1900-01-01'), source = 'filing document', accn)) as value,
    arg_max(tag, (coalesce(filed, date '1900-01-01'), source = 'filing document', accn)) as tag,
    arg_max(accn, (coalesce(filed, date '1900-01-01'), source = 'filing document', accn)) as accn,
    arg_max(form, (coalesce(filed, date '1900-01-01'), source = 'filing document', accn)) as form,
    arg_max(filed, (coalesce(filed, date '1900-01-01'), source = 'filing document', accn)) as filed,
    arg_max(source, (coalesce(filed, date '1900-01-01'), source = 'filing document', accn)) as source,
    arg_min(value, (coalesce(filed, date '9999-12-31'), source <> 'filing document', accn)) as first_value
from classified
group by cik, measure, includes_finance_leases, asset_class_member, as_of
order by cik, measure, asset_class, as_of
