-- question: Where does a number come from? (Alphabet's capex in its fourth quarter of 2025)
select value, tag, derivation, form, accn, filed, components from core.metric_values
where cik = '0001652044' and metric = 'capex' and period_type = 'quarter' and fiscal_year = 2025 and fiscal_quarter = 4
