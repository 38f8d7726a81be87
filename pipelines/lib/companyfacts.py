"""Flatten SEC's companyfacts JSON into one row per fact, exactly as SEC reported it.

A fact that cannot be used as it stands (a field missing, a value that is not a number, a
date that is not a date) is not dropped silently: it comes back as a rejected row with the
reason, for core.rejected_facts.
"""

from __future__ import annotations

import datetime as dt
import json

import orjson
import pandas as pd

FACT_COLUMNS = [
    "cik", "entity_name", "taxonomy", "tag", "unit", "period_start", "period_end",
    "value", "accn", "fy", "fp", "form", "filed", "frame",
]
REJECTED_COLUMNS = ["cik", "taxonomy", "tag", "unit", "fact", "reason"]
REQUIRED = ("end", "val", "accn", "form", "filed")


class MalformedCompanyFacts(ValueError):
    """The document is not a companyfacts response (bad JSON, wrong shape)."""


def validate(content: bytes) -> dict:
    """Parse and check the shape; used before a download may land in the raw zone."""
    try:
        doc = orjson.loads(content)  # several times faster than json on SEC's multi-MB documents
    except orjson.JSONDecodeError as exc:
        raise MalformedCompanyFacts(f"not valid JSON ({len(content)} bytes): {exc}") from exc
    if not isinstance(doc, dict) or "cik" not in doc or not isinstance(doc.get("facts"), dict):
        raise MalformedCompanyFacts("JSON without 'cik' and a 'facts' object: not a companyfacts response")
    return doc


_NUMBER = (int, float)
_date = dt.date.fromisoformat


def usable(fact: object) -> bool:
    """The fast yes for the usual fact; problem() says why when it is no (bulk ingest speed)."""
    try:
        return (
            type(fact["val"]) in _NUMBER and bool(fact["accn"]) and bool(fact["form"])
            and bool(_date(fact["end"])) and bool(_date(fact["filed"]))
            and ("start" not in fact or bool(_date(fact["start"])))
        )
    except (KeyError, TypeError, ValueError):
        return False


def problem(fact: dict) -> str | None:
    """Why a fact cannot be loaded, or None."""
    missing = [key for key in REQUIRED if fact.get(key) in (None, "")]
    if missing:
        return f"missing field(s): {', '.join(missing)}"
    if isinstance(fact["val"], bool) or not isinstance(fact["val"], (int, float)):
        return f"value {fact['val']!r} is not a number"
    for key in ("start", "end", "filed"):
        if key in fact:
            try:
                dt.date.fromisoformat(str(fact[key]))
            except ValueError:
                return f"{key} {fact[key]!r} is not a date (YYYY-MM-DD)"
    return None


def to_frame(content: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Facts as rows, and the facts rejected with their reason."""
    doc = validate(content)
    cik = str(doc["cik"]).zfill(10)
    entity = doc.get("entityName")
    rows, rejected = [], []
    for taxonomy, tags in doc["facts"].items():
        for tag, body in (tags or {}).items():
            for unit, facts in ((body or {}).get("units") or {}).items():
                for fact in facts:
                    if not usable(fact):
                        reason = (problem(fact) if isinstance(fact, dict) else None) or "not a JSON object"
                        rejected.append((cik, taxonomy, tag, unit, json.dumps(fact)[:500], reason))
                        continue
                    rows.append((
                        cik, entity, taxonomy, tag, unit, fact.get("start"), fact["end"],
                        fact["val"], fact["accn"], fact.get("fy"), fact.get("fp"), fact["form"],
                        fact["filed"], fact.get("frame"),
                    ))
    return (pd.DataFrame.from_records(rows, columns=FACT_COLUMNS),
            pd.DataFrame.from_records(rejected, columns=REJECTED_COLUMNS))
