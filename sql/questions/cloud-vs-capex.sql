-- question: Is cloud revenue growing as fast as capex? (latest fiscal year per cloud provider)
select ticker, cloud_segment, fiscal_year, cloud_revenue_yoy, capex_yoy, capex_to_cloud_revenue from marts.cloud_vs_capex
where period_type = 'fiscal_year' qualify row_number() over (partition by ticker order by fiscal_year desc) = 1 order by ticker
