-- core.facts, core.rejected_facts: remove the companies about to be loaded again ($ciks), same transaction.
-- grain: cik
delete from core.facts where cik in (select unnest($ciks));
delete from core.rejected_facts where cik in (select unnest($ciks))
