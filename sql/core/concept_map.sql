-- core.concept_map: candidate XBRL concepts per metric from concepts.yaml (registered as concept_rows).
-- grain: metric x cik (null = default for every company) x priority
create or replace table core.concept_map as
select metric, kind, cik, cast(priority as integer) as priority, taxonomy, tag
from concept_rows
