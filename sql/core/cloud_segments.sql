-- core.cloud_segments: which reported segment is each company's cloud business (role 'cloud'), or a
-- supplier's segment that sells into the build-out (role 'supplier'), from reference/cloud_segments.csv
-- (registered as cloud_segment_rows). grain: cik
create or replace table core.cloud_segments as
select cik, segment, label, role from cloud_segment_rows
