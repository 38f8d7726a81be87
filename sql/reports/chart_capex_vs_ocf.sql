-- report: each company's latest twelve months of capex against operating cash flow: the latest TTM
-- where it has quarters, else its latest fiscal year, for the followed companies (for the charts); one
-- followed by its CIK alone is labelled by it. grain: cik
with latest as (
    select cik, ticker, 'TTM to ' || period_end as period, period_end, capex, ocf, 1 as preference
    from marts.ttm where capex is not null and ocf is not null
    union all
    select cik, ticker, 'FY' || fiscal_year, period_end, capex, ocf, 2
    from marts.annual where capex is not null and ocf is not null
)

select coalesce(nullif(ticker, ''), 'CIK ' || cik) as ticker, period, capex, ocf
from latest
where cik in (select cik from followed_companies)
qualify row_number() over (partition by cik order by preference, period_end desc) = 1
order by ticker
