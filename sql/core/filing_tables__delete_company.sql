-- core.filings, core.filing_facts, core.filing_warnings, core.reported_measures: clear one company before its documents
-- are loaded again (same transaction). grain: cik
delete from core.filings where cik = $cik;
delete from core.filing_facts where cik = $cik;
delete from core.filing_warnings where cik = $cik;
delete from core.reported_measures where cik = $cik
