-- report: capex today, depreciation tomorrow: each projected company's reported capex and D&A of its
-- last 12 quarters, then its projected D&A by scenario for the next 12 (the report's and the workbook's
-- charts). grain: cik x series x quarter
with projected as (
    select distinct cik from marts.depreciation_outlook where reason is null
),

history as (
    select cik, ticker, fiscal_year * 4 + fiscal_quarter as quarter_index,
           'FY' || fiscal_year || ' Q' || fiscal_quarter as quarter, capex, d_and_a
    from marts.quarterly
    where cik in (select cik from projected)
    qualify row_number() over (partition by cik order by fiscal_year desc, fiscal_quarter desc) <= 12
)

select coalesce(nullif(ticker, ''), 'CIK ' || cik) as ticker, cik, quarter_index, quarter, series, value
from (
    select cik, ticker, quarter_index, quarter, 'capex (reported)' as series, capex as value from history
    union all
    select cik, ticker, quarter_index, quarter, 'D&A (reported)', d_and_a from history
    union all
    select cik, ticker, fiscal_year * 4 + fiscal_quarter, 'FY' || fiscal_year || ' Q' || fiscal_quarter,
           'D&A projected: ' || scenario, projected_da
    from marts.depreciation_outlook
    where reason is null
)
order by cik, series, quarter_index
