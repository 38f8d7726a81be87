-- core.reported_measures: insert rows read from one company's untagged filing tables (incoming_measures).
-- grain: metric x fiscal_year x accn
insert into core.reported_measures
select cik, accn, metric, row_label, cast(fiscal_year as integer) as fiscal_year, value from incoming_measures
