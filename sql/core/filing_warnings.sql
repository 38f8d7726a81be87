-- core.filing_warnings: insert what could not be read in one company's documents (incoming_warnings).
-- grain: one message per problem (a document, or one fact in it)
insert into core.filing_warnings
select cik, accn, message from incoming_warnings
