-- core.filings, core.filing_facts, core.filing_warnings, core.reported_measures: reloaded from every
-- company's Parquet partitions ($filings, $filing_facts, ... : lists of files written by
-- staging/filing_documents with these tables' own types), in the caller's transaction. grain: as each table
delete from core.filings;
insert into core.filings by name select * from read_parquet($filings);
delete from core.filing_facts;
insert into core.filing_facts select * from read_parquet($filing_facts);
delete from core.filing_warnings;
insert into core.filing_warnings select * from read_parquet($filing_warnings);
delete from core.reported_measures;
insert into core.reported_measures select * from read_parquet($reported_measures)
