-- core.facts: remove one company's facts before its fresh copy is inserted (same transaction).
-- grain: cik
delete from core.facts where cik = $cik
