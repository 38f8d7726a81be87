-- core.facts, core.rejected_facts: remove the companies about to be loaded again ($ciks), same transaction.
-- grain: cik
delete from core.facts where list_contains($ciks, cik);
delete from core.rejected_facts where list_contains($ciks, cik)
