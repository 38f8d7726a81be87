-- question: How much of net income turns into cash? (latest trailing twelve months)
select ticker, period_end, ocf_to_net_income, fcf_to_net_income from cash_conversion where ocf_to_net_income is not null
qualify row_number() over (partition by ticker order by period_end desc) = 1 order by ticker
