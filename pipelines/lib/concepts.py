"""The concept map (concepts.yaml) as rows the SQL transforms can join against."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from pipelines.lib.settings import CONCEPTS_FILE

CONCEPT_COLUMNS = ["metric", "kind", "cik", "priority", "taxonomy", "tag"]


class ConceptMapError(ValueError):
    """concepts.yaml is malformed; the message names the metric or entry."""


def load_concept_map(path: Path = CONCEPTS_FILE) -> pd.DataFrame:
    """Default candidates have cik NULL; an override's rows carry the company's CIK."""
    doc = yaml.safe_load(path.read_text())
    metrics = doc.get("metrics") or {}
    rows = []
    for metric, spec in metrics.items():
        if spec.get("kind") not in ("flow", "instant"):
            raise ConceptMapError(f"{path.name}: metric {metric!r} needs kind 'flow' or 'instant'")
        rows += _candidate_rows(metric, spec["kind"], None, spec.get("tags") or [])
    for cik, overrides in (doc.get("overrides") or {}).items():
        for metric, tags in overrides.items():
            if metric not in metrics:
                raise ConceptMapError(f"{path.name}: override for unknown metric {metric!r} (CIK {cik})")
            rows += _candidate_rows(metric, metrics[metric]["kind"], str(cik).zfill(10), tags)
    return pd.DataFrame.from_records(rows, columns=CONCEPT_COLUMNS)


def _candidate_rows(metric: str, kind: str, cik: str | None, tags: list[str]) -> list[tuple]:
    rows = []
    for priority, qualified in enumerate(tags, start=1):
        taxonomy, sep, tag = qualified.partition(":")
        if not sep or not tag:
            raise ConceptMapError(f"concept {qualified!r} for {metric!r} must be written 'taxonomy:Tag'")
        rows.append((metric, kind, cik, priority, taxonomy, tag))
    return rows
