-- core.facts, core.rejected_facts, core.companies: remove the companies ($ciks) about to be loaded again, or
-- removed (capexwatch companies remove), in the caller's transaction. grain: cik
delete from core.facts where cik in (select unnest($ciks));
delete from core.rejected_facts where cik in (select unnest($ciks));
delete from core.companies where cik in (select unnest($ciks))
