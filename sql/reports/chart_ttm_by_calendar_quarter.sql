-- report: trailing-twelve-month capex intensity and free cash flow per company and calendar quarter,
-- over the last five years of data (for the charts); a filer without a ticker (from the bulk archive) is
-- labelled by its CIK. grain: cik x calendar_quarter
select coalesce(nullif(ticker, ''), 'CIK ' || cik) as ticker, calendar_quarter, capex_intensity, fcf
from marts.ttm
where calendar_quarter >= (select max(calendar_quarter) from marts.ttm where capex_intensity is not null)[:4]::integer - 5 || 'Q1'
  and (capex_intensity is not null or fcf is not null)
order by calendar_quarter, ticker
