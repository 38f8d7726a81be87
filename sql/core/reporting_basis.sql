-- core.reporting_basis: each filer's accounting basis from its own facts: how many are us-gaap and how many
-- ifrs-full, the currency most of them are in, and the reason its figures are left out of the market's
-- screens when it reports under IFRS or in a currency other than US dollars. Built company by company
-- with the chain, so that marts.universe_latest need not read every fact of the market again.
-- grain: cik (filers with facts)
create or replace table core.reporting_basis as
with units as (
    -- the facts counted once by taxonomy and unit: a few dozen rows a company to read below, not every fact
    select cik, taxonomy, unit, count(*) as n
    from core.facts
    group by all
),

currencies as (
    -- the currency most of a company's us-gaap and ifrs-full facts are in; a tie goes to US dollars (a filer
    -- with as many dollar facts as any other currency's keeps its dollar figures), else alphabetically
    select cik, first(unit order by n desc, unit <> 'USD', unit) as currency
    from (
        select cik, unit, sum(n) as n
        from units
        where taxonomy in ('us-gaap', 'ifrs-full') and regexp_full_match(unit, '[A-Z]{3}')
        group by all
    )
    group by cik
),

reporting as (
    select
        u.cik,
        coalesce(sum(u.n) filter (where u.taxonomy = 'us-gaap'), 0)::bigint as us_gaap_facts,
        coalesce(sum(u.n) filter (where u.taxonomy = 'ifrs-full'), 0)::bigint as ifrs_facts,
        any_value(c.currency) as currency
    from units as u
    left join currencies as c using (cik)
    group by u.cik
)

select
    cik, us_gaap_facts, ifrs_facts, currency,
    case
        when ifrs_facts > us_gaap_facts then 'IFRS, ' || coalesce(currency, 'no currency')
        when us_gaap_facts > 0 then 'US GAAP, ' || coalesce(currency, 'no currency')
    end as reporting,
    case
        when ifrs_facts > us_gaap_facts then 'reports under IFRS (ifrs-full) in ' || coalesce(currency, 'no currency')
            || ': capexwatch reads US GAAP concepts'
        when currency is not null and currency <> 'USD' then 'reports in ' || currency
            || ', not US dollars: left out rather than mixed with dollar figures'
    end as basis_reason
from reporting
