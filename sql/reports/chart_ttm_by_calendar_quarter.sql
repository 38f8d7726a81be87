-- report: trailing-twelve-month capex intensity and free cash flow per company and calendar quarter,
-- over the last five years of data, for the followed companies (for the charts); one followed by its CIK
-- alone is labelled by it. grain: cik x calendar_quarter
select coalesce(nullif(ticker, ''), 'CIK ' || cik) as ticker, calendar_quarter, capex_intensity, fcf
from marts.ttm
where calendar_quarter >= (select max(calendar_quarter) from marts.ttm where capex_intensity is not null)[:4]::integer - 5 || 'Q1'
  and (capex_intensity is not null or fcf is not null)
  and cik in (select cik from followed_companies)
order by calendar_quarter, ticker
