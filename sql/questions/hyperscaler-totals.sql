-- question: What did the hyperscalers spend together each quarter?
select calendar_quarter, companies, capex, capex_intensity from hyperscaler_totals order by calendar_quarter desc
