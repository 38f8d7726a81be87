-- question: Which reported quarterly figures were restated after they were first reported?
select ticker, metric, fiscal_year, fiscal_quarter, first_value, value, first_accn, accn from core.metric_values
join core.companies using (cik) where restated and kind <> 'derived' and period_type = 'quarter'
order by ticker, fiscal_year, fiscal_quarter, metric
