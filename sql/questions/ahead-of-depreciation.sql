-- question: Who builds far ahead of depreciation? (capex / D&A, latest fiscal year)
select ticker, fiscal_year, capex_to_da from marts.annual where capex_to_da is not null
qualify row_number() over (partition by ticker order by period_end desc) = 1 order by capex_to_da desc
