-- core.facts: insert one company's typed facts (the temporary view of staging/typed_facts).
-- grain: one row per fact per filing
insert into core.facts
select * from typed_facts
