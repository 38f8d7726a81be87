"""One partition per company (ticker, or CIK when it has none); the set is the configured universe."""

import dagster as dg

company_partitions = dg.DynamicPartitionsDefinition(name="company")

# On the partition steps that call SEC: the partition job runs at most one at a time (its executor's
# tag limit), and a deployment's pool "sec_api" (limit 1) keeps concurrent runs to one as well, so
# the 10 requests/s budget is never spent twice.
SEC_TAG = "capexwatch/sec"


def unregistered(instance: dg.DagsterInstance, keys: list[str]) -> list[str]:
    """The keys not registered as company partitions yet, in their order."""
    known = set(instance.get_dynamic_partitions(company_partitions.name))
    return [key for key in keys if key not in known]
