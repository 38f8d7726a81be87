"""One partition per company (ticker, or CIK when it has none); the set is the configured universe."""

import dagster as dg

company_partitions = dg.DynamicPartitionsDefinition(name="company")
