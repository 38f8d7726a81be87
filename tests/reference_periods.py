"""A reference implementation of the period math, in plain Python over the raw files, independent of
the SQL: it knows nothing of fiscal calendars, only dates. For a period (start, end) a value is

- reported: the value of record of a fact with exactly those dates (instants: that end date);
- derived: two facts with a common earlier start, one ending on the period's end and one the day
  before the period's start (year to date minus year to date, or the year minus nine months).

The value of record of a period is the latest-filed fact of any of the metric's candidate concepts
(a filing date unknown offline counts as the oldest); within one filing the concept list's order
decides, then the more precise figure, then the smaller one. Filing documents are read with the
project's XBRL readers (tested on their own); companyfacts JSON is read here directly.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipelines.lib import documents

PERIODIC_FORMS = {"10-K", "10-K/A", "10-Q", "10-Q/A"}
Span = tuple[str | None, str]  # (start or None for an instant, end), ISO dates


@dataclass(frozen=True)
class Fact:
    concept: str
    value: float
    accn: str
    filed: str | None
    precision: float


def _precision(value: float, decimals: str | None) -> float:
    """What a digit is worth: from the declared decimals, else from the figure's trailing zeros."""
    if decimals is not None and str(decimals).upper() == "INF":
        return 0.0
    if decimals is not None:
        return 10.0 ** -int(decimals)
    for exponent in range(6, -1, -1):
        if value % 10 ** exponent == 0:
            return float(10 ** exponent)
    return 0.0


def read_concepts(path: Path) -> tuple[dict[str, list[str]], dict[str, dict[str, list[str]]]]:
    spec = yaml.safe_load(path.read_text())
    return ({metric: body["tags"] for metric, body in spec["metrics"].items()}, spec.get("overrides") or {})


def companyfacts_facts(path: Path) -> tuple[str, list[tuple[str, Span, Fact]]]:
    doc = json.loads(path.read_bytes())
    cik = str(doc["cik"]).zfill(10)
    rows = []
    for taxonomy, concepts in doc["facts"].items():
        for tag, body in concepts.items():
            for row in body.get("units", {}).get("USD", []):
                if row.get("form") not in PERIODIC_FORMS or row.get("val") is None:
                    continue
                value = float(row["val"])
                if not math.isfinite(value) or abs(value) >= 1e15:
                    continue
                rows.append((f"{taxonomy}:{tag}", (row.get("start"), row["end"]),
                             Fact(f"{taxonomy}:{tag}", value, row["accn"], row.get("filed"), _precision(value, None))))
    return cik, rows


def document_facts(snapshot: Path) -> dict[str, list[tuple[str, Span, Fact]]]:
    by_cik: dict[str, list] = defaultdict(list)
    with (snapshot / "filings.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["form"] not in PERIODIC_FORMS:
                continue
            path = (snapshot / "www.sec.gov/Archives/edgar/data" / str(int(row["cik"]))
                    / row["accn"].replace("-", "") / row["primary_document"])
            parsed = documents.parse(path.read_bytes(), row["primary_document"], row["primary_document"])
            for fact in parsed.facts.itertuples():
                if fact.unit != "USD" or fact.dimension_axes or fact.value is None or math.isnan(fact.value):
                    continue
                start = fact.period_start if isinstance(fact.period_start, str) else None  # instants
                by_cik[row["cik"]].append((fact.concept, (start, fact.period_end), Fact(
                    fact.concept, float(fact.value), row["accn"], row["filed"] or None,
                    _precision(fact.value, fact.decimals))))
    return by_cik


class Reference:
    """Every value of record of one company, by metric and span."""

    def __init__(self, cik: str, facts: list[tuple[str, Span, Fact]], tags: dict[str, list[str]],
                 overrides: dict[str, dict[str, list[str]]]):
        self.cik = cik
        self.candidates = {metric: overrides.get(cik, {}).get(metric, default) for metric, default in tags.items()}
        self.by_concept: dict[str, dict[Span, set[Fact]]] = defaultdict(lambda: defaultdict(set))
        for concept, span, fact in facts:
            self.by_concept[concept][span].add(fact)

    def record(self, metric: str, span: Span) -> Fact | None:
        order = {concept: i for i, concept in enumerate(self.candidates[metric])}
        facts = [f for concept in order for f in self.by_concept.get(concept, {}).get(span, ())]
        if not facts:
            return None
        # latest filed first (unknown = oldest), then the list's order, later accession, precision, value
        return min(facts, key=lambda f: (-_day(f.filed), order[f.concept], _negated(f.accn), f.precision, f.value))

    def value(self, metric: str, kind: str, start: str | None, end: str) -> tuple[float | None, str]:
        """(value, how): 'reported', 'derived from <start>', or None with 'not derivable'."""
        if kind == "instant":
            fact = self.record(metric, (None, end))
            return (fact.value, "reported") if fact else (None, "not reported")
        fact = self.record(metric, (start, end))
        if fact:
            return fact.value, "reported"
        day_before = (dt.date.fromisoformat(start) - dt.timedelta(days=1)).isoformat()
        starts = sorted({s for concept in self.candidates[metric] for (s, e) in self.by_concept.get(concept, {})
                         if s is not None and e == end and s < start})
        for common in starts:  # the earliest common start: the fiscal year's
            longer, shorter = self.record(metric, (common, end)), self.record(metric, (common, day_before))
            if longer and shorter:
                return longer.value - shorter.value, f"derived from {common}"
        return None, "not derivable"


def _day(filed: str | None) -> int:
    return dt.date.fromisoformat(filed).toordinal() if filed else 0


def _negated(accn: str) -> tuple[int, ...]:
    return tuple(-ord(ch) for ch in accn)


def build(snapshot: Path, concepts_file: Path) -> dict[str, Reference]:
    tags, overrides = read_concepts(concepts_file)
    facts = document_facts(snapshot)
    for path in sorted((snapshot / "data.sec.gov/api/xbrl/companyfacts").glob("CIK*.json")):
        cik, rows = companyfacts_facts(path)
        facts[cik] = facts.get(cik, []) + rows
    return {cik: Reference(cik, rows, tags, overrides) for cik, rows in facts.items()}
