"""SEC's submissions feed (data.sec.gov/submissions/CIK##########.json): a company's filings.

The feed's 'recent' block holds the latest ~1,000 filings; older ones are in paged files
named under 'files', each with the same columns at its top level.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

PERIODIC_FORMS = frozenset({"10-K", "10-K/A", "10-Q", "10-Q/A"})
_COLUMNS = ("accessionNumber", "form", "filingDate", "reportDate", "primaryDocument")


class MalformedSubmissions(ValueError):
    """The document is not a submissions response."""


@dataclass(frozen=True)
class Filing:
    accn: str
    form: str
    filed: str | None  # None only offline, where the snapshot cannot confirm it
    report_date: str
    primary_document: str

    def url(self, www_url: str, cik: str) -> str:
        folder = self.accn.replace("-", "")
        return f"{www_url}/Archives/edgar/data/{int(cik)}/{folder}/{self.primary_document}"


def validate(content: bytes, cik: str | None = None) -> dict:
    """The filings columns of a feed (its 'recent' block) or of one of its paged files; with cik,
    the feed must be that company's (SEC's paged files carry no 'cik': compared only if present)."""
    try:
        doc = json.loads(content)
        columns = doc["filings"]["recent"] if "filings" in doc else doc
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise MalformedSubmissions(f"not a submissions response: {exc!r}") from exc
    missing = set(_COLUMNS) - set(columns)
    if missing:
        raise MalformedSubmissions(f"submissions response without {sorted(missing)}")
    if cik is not None:
        _check_cik(doc, cik)
    return columns


def _check_cik(doc: dict, cik: str) -> None:
    if "cik" not in doc and "filings" in doc:
        raise MalformedSubmissions(f"submissions response without 'cik', expected {cik}")
    if "cik" in doc and str(doc["cik"]).lstrip("0") != cik.lstrip("0"):
        raise MalformedSubmissions(f"submissions of CIK {doc['cik']}, expected {cik}")


def page_names(content: bytes) -> list[str]:
    """Names of the paged files with older filings, e.g. CIK0000320193-submissions-001.json."""
    doc = json.loads(content)
    return [page["name"] for page in doc.get("filings", {}).get("files", [])]


def periodic_filings(content: bytes) -> list[Filing]:
    """10-K/10-Q filings (and amendments) with an inline document, newest first."""
    columns = validate(content)
    rows = zip(*(columns[name] for name in _COLUMNS))
    filings = [Filing(*row) for row in rows if row[1] in PERIODIC_FORMS and row[4]]
    return sorted(filings, key=lambda f: (f.filed or "", f.accn), reverse=True)


def offline_filings(index: Path, cik: str, feed: bytes | None = None) -> list[Filing]:
    """The snapshot's stand-in for the feed: filings.csv rows of one company (the documents it holds,
    which may be an older filing's XBRL instance), and the periodic filings of the company's feed where
    the snapshot has one, so that filings without an offline document are still known and listed."""
    with index.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["cik"] == cik]
    filings = [Filing(r["accn"], r["form"], r["filed"] or None, r["report_date"], r["primary_document"]) for r in rows]
    held = {f.accn for f in filings}
    filings += [f for f in (periodic_filings(feed) if feed else []) if f.accn not in held]
    return sorted(filings, key=lambda f: (f.filed or "", f.accn), reverse=True)
