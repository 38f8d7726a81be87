-- question: Whose free cash flow fell while capex rose? (fiscal years since 2023)
select a.ticker, a.fiscal_year, a.capex_yoy, a.fcf - b.fcf as fcf_change from marts.annual a
join marts.annual b on b.cik = a.cik and b.fiscal_year = a.fiscal_year - 1
where a.capex_yoy > 0 and a.fcf < b.fcf and a.fiscal_year >= 2023 order by a.ticker, a.fiscal_year
