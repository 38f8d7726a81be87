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
from collections import Counter, defaultdict
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


def days(start: str, end: str) -> int:
    """Length of a period, both ends included."""
    return (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days + 1


def companyfacts_facts(path: Path, annual: dict) -> tuple[str, list[tuple[str, Span, Fact]]]:
    """USD facts of periodic reports; and into annual[cik][accn], each 10-K's 12-month spans with the
    fiscal year SEC labels the filing with."""
    doc = json.loads(path.read_bytes())
    cik = str(doc["cik"]).zfill(10)
    rows = []
    for taxonomy, concepts in doc["facts"].items():
        for tag, body in concepts.items():
            for row in body.get("units", {}).get("USD", []):
                if row.get("form") not in PERIODIC_FORMS or row.get("val") is None:
                    continue
                if row["form"].startswith("10-K") and row.get("start") and 350 <= days(row["start"], row["end"]) <= 380:
                    annual[cik][row["accn"]].add((row["start"], row["end"], row.get("fy")))
                value = float(row["val"])
                if not math.isfinite(value) or abs(value) >= 1e15:
                    continue
                rows.append((f"{taxonomy}:{tag}", (row.get("start"), row["end"]),
                             Fact(f"{taxonomy}:{tag}", value, row["accn"], row.get("filed"), _precision(value, None))))
    return cik, rows


def document_facts(snapshot: Path, annual: dict) -> dict[str, list[tuple[str, Span, Fact]]]:
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
                if row["form"].startswith("10-K") and start and 350 <= days(start, fact.period_end) <= 380:
                    fy = parsed.dei.get("dei:DocumentFiscalYearFocus")
                    annual[row["cik"]][row["accn"]].add((start, fact.period_end, int(fy) if fy else None))
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


class Calendar:
    """A company's fiscal years as its 10-Ks delimit and label them: each 10-K's latest twelve-month
    period is a fiscal year; its label is the calendar year it ends in plus the company's usual offset
    between SEC's fy of a 10-K and that year (NVIDIA's year ending January 2026 is fiscal 2026). The
    usual offset, not each filing's own: SEC's fy of NVIDIA's 10-Ks for fiscal 2010-2014 is a year early."""

    def __init__(self, annual_by_accn: dict[str, set]):
        latest = [max(spans, key=lambda span: span[1]) for spans in annual_by_accn.values()]
        offsets = Counter(int(fy) - int(end[:4]) for _, end, fy in latest if fy is not None)
        offset = offsets.most_common(1)[0][0] if offsets else 0
        self.disagreeing_filings = sum(n for o, n in offsets.items() if o != offset)
        self.years = sorted({(start, end, int(end[:4]) + offset) for start, end, _ in latest})

    def labels(self, start: str, end: str) -> tuple[int, int | None] | None:
        """(fiscal year, fiscal quarter or None for the year itself), or None where no 10-K places it.
        A quarter's number counts 13-week steps from its year's start; the year after the last 10-K is
        the one in progress."""
        for year_start, year_end, fy in self.years:
            if (year_start, year_end) == (start, end):
                return fy, None
            if year_start <= start and end <= year_end:
                return fy, round(days(year_start, end) / 91.3)
        if self.years:
            last_start, last_end, fy = self.years[-1]
            begins = (dt.date.fromisoformat(last_end) + dt.timedelta(days=1)).isoformat()
            if begins <= start and days(begins, end) <= 300:
                return fy + 1, round(days(begins, end) / 91.3)
        return None


def calendar_quarter(start: str, end: str, is_year: bool) -> str:
    """A quarter's label is the calendar quarter of its midpoint; a year's that of its last quarter's."""
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    day = last - dt.timedelta(days=45) if is_year else first + dt.timedelta(days=(last - first).days // 2)
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def build(snapshot: Path, concepts_file: Path) -> tuple[dict[str, Reference], dict[str, Calendar]]:
    tags, overrides = read_concepts(concepts_file)
    annual: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    facts = document_facts(snapshot, annual)
    for path in sorted((snapshot / "data.sec.gov/api/xbrl/companyfacts").glob("CIK*.json")):
        cik, rows = companyfacts_facts(path, annual)
        facts[cik] = facts.get(cik, []) + rows
    return ({cik: Reference(cik, rows, tags, overrides) for cik, rows in facts.items()},
            {cik: Calendar(by_accn) for cik, by_accn in annual.items()})
