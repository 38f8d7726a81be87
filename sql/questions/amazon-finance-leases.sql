-- question: How much of Amazon's free cash flow goes to finance leases?
select fiscal_year, fcf_net_of_proceeds, finance_lease_principal, financing_obligation_principal, fcf_less_principal_repayments
from marts.annual where ticker = 'AMZN' order by fiscal_year
