-- capex_intensity (view): capex as a share of revenue per company and fiscal quarter, for the quarter
-- and the trailing twelve months, against the benchmarks: software 3-6 %, early cloud 10-15 %.
-- grain: ticker x fiscal_year x fiscal_quarter; ratios as fractions
create or replace view main.capex_intensity as
select
    q.ticker,
    q.company,
    q.calendar_quarter,
    q.fiscal_year,
    q.fiscal_quarter,
    q.period_end,
    q.revenue,
    q.capex,
    q.capex_intensity as quarter_intensity,
    t.capex_intensity as ttm_intensity,
    case
        when t.capex_intensity is null then null
        when t.capex_intensity < 0.03 then 'below software (3-6 %)'
        when t.capex_intensity <= 0.06 then 'software (3-6 %)'
        when t.capex_intensity < 0.10 then 'between software and early cloud'
        when t.capex_intensity <= 0.15 then 'early cloud (10-15 %)'
        else 'above early cloud (15 %+)'
    end as ttm_benchmark
from marts.quarterly as q
left join marts.ttm as t using (cik, fiscal_year, fiscal_quarter)
order by q.ticker, q.period_end
