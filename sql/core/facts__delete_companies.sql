-- core.facts: remove the facts of the companies about to be loaded again ($ciks), same transaction.
-- grain: cik
delete from core.facts where list_contains($ciks, cik)
