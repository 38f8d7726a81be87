"""Flatten SEC's companyfacts JSON into one row per fact, exactly as SEC reported it."""

from __future__ import annotations

import json

import pandas as pd

FACT_COLUMNS = [
    "cik", "entity_name", "taxonomy", "tag", "unit", "period_start", "period_end",
    "value", "accn", "fy", "fp", "form", "filed", "frame",
]


class MalformedCompanyFacts(ValueError):
    """The document is not a companyfacts response (bad JSON, wrong shape)."""


def validate(content: bytes) -> dict:
    """Parse and check the shape; used before a download may land in the raw zone."""
    try:
        doc = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedCompanyFacts(f"not valid JSON ({len(content)} bytes): {exc}") from exc
    if not isinstance(doc, dict) or "cik" not in doc or not isinstance(doc.get("facts"), dict):
        raise MalformedCompanyFacts("JSON without 'cik' and a 'facts' object: not a companyfacts response")
    return doc


def to_frame(content: bytes) -> tuple[pd.DataFrame, int]:
    """One row per (taxonomy, tag, unit, fact), and how many facts lacked a required field."""
    doc = validate(content)
    cik = str(doc["cik"]).zfill(10)
    entity = doc.get("entityName")
    rows, skipped = [], 0
    for taxonomy, tags in doc["facts"].items():
        for tag, body in tags.items():
            for unit, facts in (body.get("units") or {}).items():
                for fact in facts:
                    if not all(k in fact for k in ("end", "val", "accn", "form", "filed")):
                        skipped += 1
                        continue
                    rows.append((
                        cik, entity, taxonomy, tag, unit, fact.get("start"), fact["end"],
                        fact["val"], fact["accn"], fact.get("fy"), fact.get("fp"), fact["form"],
                        fact["filed"], fact.get("frame"),
                    ))
    return pd.DataFrame.from_records(rows, columns=FACT_COLUMNS), skipped
