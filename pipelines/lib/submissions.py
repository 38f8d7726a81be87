"""SEC's submissions feed (data.sec.gov/submissions/CIK##########.json): the newest periodic filing."""

from __future__ import annotations

import json
from dataclasses import dataclass

PERIODIC_FORMS = frozenset({"10-K", "10-K/A", "10-Q", "10-Q/A"})


class MalformedSubmissions(ValueError):
    """The document is not a submissions response."""


@dataclass(frozen=True)
class Filing:
    accn: str
    form: str
    filed: str
    report_date: str
    primary_document: str


def validate(content: bytes) -> dict:
    try:
        doc = json.loads(content)
        recent = doc["filings"]["recent"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise MalformedSubmissions(f"not a submissions response: {exc}") from exc
    return recent


def periodic_filings(content: bytes) -> list[Filing]:
    """10-K/10-Q filings (and amendments) from the 'recent' block, newest first."""
    recent = validate(content)
    rows = zip(
        recent["accessionNumber"], recent["form"], recent["filingDate"],
        recent["reportDate"], recent["primaryDocument"],
    )
    filings = [Filing(*row) for row in rows if row[1] in PERIODIC_FORMS]
    return sorted(filings, key=lambda f: (f.filed, f.accn), reverse=True)
