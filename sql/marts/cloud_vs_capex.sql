-- marts.cloud_vs_capex: is the build-out paying? Each cloud provider's cloud segment revenue growth
-- against its total capex growth, per discrete quarter (aligned by calendar quarter) and per fiscal
-- year. Suppliers (NVIDIA's Data Center) are not cloud providers: their segments are in marts.segments.
-- grain: cik x period_type x fiscal_year x fiscal_quarter; amounts in USD, growth as fractions
create or replace table marts.cloud_vs_capex as
with cloud as (
    select s.*, k.label as cloud_segment
    from marts.segments as s
    inner join core.cloud_segments as k on k.cik = s.cik and k.segment = s.segment_axis || '=' || s.segment_member
    where k.role = 'cloud'
),

company as (
    select 'quarter' as period_type, * from marts.quarterly
    union all by name
    select 'fiscal_year' as period_type, * from marts.annual
)

select
    cloud.ticker,
    cloud.cik,
    cloud.company,
    cloud.cloud_segment,
    cloud.period_type,
    cloud.fiscal_year,
    cloud.fiscal_quarter,
    cloud.period_start,
    cloud.period_end,
    cloud.calendar_quarter,
    cloud.revenue as cloud_revenue,
    cloud.operating_income as cloud_operating_income,
    cloud.revenue_yoy as cloud_revenue_yoy,
    company.revenue as company_revenue,
    company.capex,
    company.capex_yoy,
    cloud.revenue / company.revenue as cloud_share_of_revenue,
    company.capex / cloud.revenue as capex_to_cloud_revenue,
    cloud.revenue_yoy - company.capex_yoy as cloud_growth_minus_capex_growth,
    cloud.revenue_accn
from cloud
left join company
    on company.cik = cloud.cik and company.period_type = cloud.period_type
    and company.fiscal_year = cloud.fiscal_year and company.fiscal_quarter is not distinct from cloud.fiscal_quarter
order by cloud.ticker, cloud.period_type, cloud.fiscal_year, cloud.fiscal_quarter
