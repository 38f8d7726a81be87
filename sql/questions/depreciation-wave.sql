-- question: How much depreciation is already locked in, and what would capex at today's pace add? (a year out, disclosed lives)
select ticker, scenario, projected_da, locked_in_da, da_to_ttm_revenue, da_increase_to_operating_income
from marts.depreciation_outlook where step = 4 and scenario like 'disclosed lives%' order by ticker, scenario
