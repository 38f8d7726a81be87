-- core.filings, core.filing_facts, core.filing_warnings: clear one company before its documents
-- are loaded again (same transaction). grain: cik
delete from core.filings where cik = $cik;
delete from core.filing_facts where cik = $cik;
delete from core.filing_warnings where cik = $cik
