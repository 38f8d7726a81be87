"""The code location for a Kubernetes deployment: the same assets, each per-company step in a pod.

Dagster's Helm chart points its user-code deployment at this module (deploy/k8s/values.yaml).
Per-company runs fan out: every company is its own run, every step of it its own Kubernetes job
(the executor takes the shared volume and settings from the run launcher, deploy/k8s/dagster.yaml),
up to the run queue's limit. Those steps write only their partition files on the shared volume;
the warehouse build that loads them into DuckDB is one run, one process, one writer. The steps
that call SEC share the pool "sec_api", limited to one at a time across the deployment.
"""

import dagster as dg
from dagster_k8s import k8s_job_executor

from pipelines.definitions import build_definitions

defs: dg.Definitions = build_definitions(company_executor=k8s_job_executor)
