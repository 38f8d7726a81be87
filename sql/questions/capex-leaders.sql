-- question: Who spends the largest share of revenue on capex? (latest trailing twelve months per company)
select ticker, period_end, ttm_intensity, ttm_benchmark from capex_intensity where ttm_intensity is not null
qualify row_number() over (partition by ticker order by period_end desc) = 1 order by ttm_intensity desc
