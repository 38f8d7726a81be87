-- core.rejected_facts: replace one company's rejected facts (registered as incoming_rejected).
-- grain: one row per rejected fact
delete from core.rejected_facts where cik = $cik;
insert into core.rejected_facts select cik, taxonomy, tag, unit, fact, reason from incoming_rejected
