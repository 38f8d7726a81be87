"""Inline XBRL (iXBRL) parser: every numeric fact of a 10-K/10-Q document with its context, and the
useful lives of property and equipment (duration facts), in years.

companyfacts leaves out dimensional facts (segments) and company-extension concepts; the
filing document has them. Each ix:nonFraction is resolved against its xbrli:context
(entity, period, explicit and typed dimension members) and xbrli:unit, and its displayed
text is turned into a number by its ixt/ixt-sec format, scale and sign.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, TypeVar

import pandas as pd
from bs4 import BeautifulSoup, SoupStrainer, Tag, XMLParsedAsHTMLWarning
from dateutil import parser as date_parser

FACT_COLUMNS = [
    "cik", "concept", "prefix", "tag", "value", "unit", "period_start", "period_end",
    "dimension_axes", "dimension_members", "decimals", "fact_id",
]
T = TypeVar("T")
# HTML parsing lower-cases names, so these are the lower-cased forms of the iXBRL elements.
_WANTED = SoupStrainer(["ix:nonfraction", "ix:nonnumeric", "xbrli:context", "xbrli:unit"])
DEI = ("dei:DocumentType", "dei:DocumentPeriodEndDate", "dei:EntityCentralIndexKey",
       "dei:DocumentFiscalYearFocus", "dei:DocumentFiscalPeriodFocus", "dei:EntityRegistrantName")
_WORDS = {
    "no": 0, "none": 0, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}


# Duration facts (xbrli:durationItemType, shown in ix:nonNumeric) read as numbers: the useful lives of
# property and equipment, by asset class, which the depreciation outlook needs. In years, unit 'years'.
DURATION_CONCEPTS = frozenset({
    "us-gaap:PropertyPlantAndEquipmentUsefulLife", "us-gaap:PropertyPlantAndEquipmentUsefulLifeMinimum",
    "us-gaap:PropertyPlantAndEquipmentUsefulLifeMaximum",
})
DURATION_UNIT = "years"
_ISO_DURATION = re.compile(r"P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?")
_PER_YEAR = {"year": 1.0, "month": 12.0, "week": 365.25 / 7, "day": 365.25}


class NoInlineXbrl(ValueError):
    """The document carries no inline XBRL facts (not an iXBRL filing, or an error page)."""


class TruncatedDocument(ValueError):
    """The document stops before its end (an interrupted download)."""


class NotTheExpectedDocument(ValueError):
    """A real filing document, but of another company or another period than the filing asked for."""


@dataclass(frozen=True)
class Context:
    cik: str | None
    period_start: str | None  # None for instants
    period_end: str
    dimensions: dict[str, str]


@dataclass
class ParsedDocument:
    facts: pd.DataFrame
    dei: dict[str, str]
    warnings: list[str] = field(default_factory=list)  # "doc f-123 us-gaap:Revenues: why it was skipped"


def check_complete(content: bytes, name: str = "document") -> None:
    """A download cut short loses its closing tag; refuse it before it can be stored or parsed."""
    if not re.search(rb"</html>\s*$", content[-2048:], re.IGNORECASE):
        raise TruncatedDocument(f"{name}: ends without </html> ({len(content)} bytes): truncated download?")


def validate_document(content: bytes, cik: str, report_date: str | None, name: str = "document") -> None:
    """Refuse what is not this filing's document before it can replace a stored copy: cut short, no
    inline XBRL (an error page, a login page behind a redirect), or the dei cover facts of another
    company or period. A scan for the few dei elements, not a parse: ~5 ms, a parse ~250 ms."""
    check_complete(content, name)
    lowered = content.lower()  # same offsets as content; iXBRL saved by browsers is lower-cased
    if b"<ix:nonfraction" not in lowered:
        raise NoInlineXbrl(f"{name}: no inline XBRL numeric facts (ix:nonFraction) found")
    if b"<ix:header" not in lowered:
        raise NoInlineXbrl(f"{name}: no inline XBRL header (ix:header) found")
    ciks = [text for text, _ in _dei_values(content, lowered, "EntityCentralIndexKey")]
    if cik.lstrip("0") not in {text.lstrip("0") for text in ciks}:
        raise NotTheExpectedDocument(f"{name}: dei:EntityCentralIndexKey is {', '.join(ciks) or 'missing'}, "
                                     f"expected {cik}")
    if report_date:
        dates = [(_cover_date(text, fmt), text) for text, fmt in _dei_values(content, lowered, "DocumentPeriodEndDate")]
        if dt.date.fromisoformat(report_date) not in {date for date, _ in dates}:
            stated = ", ".join(str(date) if date else repr(text) for date, text in dates) or "missing"
            raise NotTheExpectedDocument(f"{name}: dei:DocumentPeriodEndDate is {stated}, expected {report_date}")


def _dei_values(content: bytes, lowered: bytes, element: str) -> list[tuple[str, str | None]]:
    """(displayed text, ixt format) of each ix:nonNumeric named dei:<element>. The lenient HTML
    parser reads a short window from each start tag: enough for a cover fact, nested tags included."""
    start_tag = re.compile(rb"<ix:nonnumeric\b[^>]*\bname\s*=\s*[\"']dei:" + element.lower().encode() + rb"[\"']")
    values = []
    for match in start_tag.finditer(lowered):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            fragment = BeautifulSoup(content[match.start(): match.start() + 4096], "lxml")
        tag = fragment.find("ix:nonnumeric")
        if tag is not None:
            values.append((" ".join(tag.get_text().split()), tag.get("format")))
    return values


def _cover_date(text: str, fmt: str | None) -> dt.date | None:
    """'December 31, 2024' (ixt:date-monthname-day-year-en), '31.12.2024', '2024-12-31' -> a date;
    the format says whether the day comes first. A date without a year reads as year 1: no match."""
    local = (fmt or "").split(":")[-1].replace("-", "")
    try:
        return date_parser.parse(text, dayfirst=local.startswith("dateday") or local.endswith("eu"),
                                 default=dt.datetime(1, 1, 1)).date()
    except (ValueError, OverflowError):
        return None


def parse(content: bytes, name: str = "document") -> ParsedDocument:
    """Parse one iXBRL document; facts that cannot be resolved are skipped with a warning."""
    check_complete(content, name)
    with warnings.catch_warnings():
        # iXBRL is XHTML; the lenient HTML parser also copes with browser-saved copies
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(content, "lxml", parse_only=_WANTED)
    contexts = {c["id"]: context_or_error(_context, c) for c in soup.find_all("xbrli:context") if c.get("id")}
    units = {u["id"]: _unit(u) for u in soup.find_all("xbrli:unit") if u.get("id")}
    numeric = soup.find_all("ix:nonfraction")
    if not numeric:
        raise NoInlineXbrl(f"{name}: no inline XBRL numeric facts (ix:nonFraction) found")
    dei = {el["name"]: el.get_text(" ", strip=True) for el in soup.find_all("ix:nonnumeric")
           if el.get("name") in DEI}
    best: dict[tuple, tuple] = {}
    problems = []
    for element in soup.find_all("ix:nonnumeric"):
        if element.get("name") in DURATION_CONCEPTS:
            try:
                context = context_of(element.get("contextref"), contexts)
                years = parse_duration_years(element.get_text(), element.get("format"))
                row = fact_row(element["name"], years, context, DURATION_UNIT, None, element.get("id"))
            except ValueError as exc:
                problems.append(f"{name} {element.get('id', '?')} {element['name']}: {exc}")
                continue
            keep_more_precise(best, row, name, problems)
    for element in numeric:
        try:
            context, unit = resolve(element.get("contextref"), element.get("unitref"), contexts, units)
            value = None if element.get("xsi:nil") == "true" else parse_number(
                element.get_text(), element.get("format"), element.get("scale"), element.get("sign"))
            row = fact_row(element.get("name") or "", value, context, unit, element.get("decimals"), element.get("id"))
        except ValueError as exc:
            problems.append(f"{name} {element.get('id', '?')} {element.get('name', '?')}: {exc}")
            continue
        keep_more_precise(best, row, name, problems)
    return ParsedDocument(pd.DataFrame.from_records(list(best.values()), columns=FACT_COLUMNS), dei, problems)


def keep_more_precise(best: dict[tuple, tuple], row: tuple, name: str, problems: list[str]) -> None:
    """One row per concept, unit, period and dimensions: a fact shown twice is one fact."""
    key = (row[1], row[5], row[6], row[7], tuple(row[8]), tuple(row[9]))
    best[key] = _more_precise(best.get(key), row, name, problems)


def _precision(row: tuple) -> float:
    decimals = row[10]
    return float("inf") if decimals in (None, "INF") else float(decimals)


def _more_precise(kept: tuple | None, new: tuple, name: str, problems: list[str]) -> tuple:
    """A fact shown twice (a table's $19,454 and the text's "$19.5 billion") is one fact: keep the
    more precise figure, and warn when the rounder one does not round from it."""
    if kept is None or kept[4] is None:  # a nil never hides a reported figure of the same fact
        return new
    if new[4] is None:
        return kept
    precise, rough = (kept, new) if _precision(kept) >= _precision(new) else (new, kept)
    if _precision(rough) != float("inf"):
        digits = int(_precision(rough))
        if abs(round(precise[4], digits) - rough[4]) > 0.5 * 10 ** -digits:
            problems.append(f"{name} {rough[11]} {rough[1]}: {rough[4]:g} is inconsistent with {precise[11]} {precise[4]:g}")
    return precise


def resolve(context_ref: str | None, unit_ref: str | None, contexts: dict[str, Context | str],
            units: dict[str, str]) -> tuple[Context, str]:
    """A fact's context and unit from their ids; an unknown or malformed one is the fact's error."""
    context = context_of(context_ref, contexts)
    unit = units.get(unit_ref or "")
    if unit is None:
        raise ValueError(f"unit {unit_ref!r} does not resolve")
    return context, unit


def context_of(context_ref: str | None, contexts: dict[str, Context | str]) -> Context:
    context = contexts.get(context_ref or "")
    if context is None:
        raise ValueError(f"context {context_ref!r} does not resolve")
    if isinstance(context, str):
        raise ValueError(f"context {context_ref!r} is malformed: {context}")
    return context


def parse_duration_years(text: str, fmt: str | None) -> float:
    """A duration as a filing shows it -> years: ISO 8601 without a format ('P5Y6M': hidden facts and
    instance documents), a number in the unit its ixt-sec format names ('5.5' duryear, '18' durmonth),
    or English words with their units ('six years', 'one year and six months': durwordsen)."""
    years = _duration(" ".join(text.split()), fmt)
    if years <= 0:
        raise ValueError(f"a duration of {years:g} years is no useful life")
    return years


def _duration(raw: str, fmt: str | None) -> float:
    local = (fmt or "").split(":")[-1].replace("-", "")
    if not fmt:
        match = _ISO_DURATION.fullmatch(raw)
        if not match or not any(match.groups()):
            raise ValueError(f"cannot read {raw[:40]!r} as an ISO 8601 duration")
        return sum(float(part or 0) / per_year for part, per_year in zip(match.groups(), _PER_YEAR.values()))
    if local in ("duryear", "durmonth", "durweek", "durday"):
        return float(_grouped(raw, "numdotdecimal", fmt)) / _PER_YEAR[local.removeprefix("dur")]
    if local == "durwordsen":
        return _duration_words(raw, fmt)
    raise ValueError(f"unsupported duration format {fmt!r}")


def _duration_words(raw: str, fmt: str | None) -> float:
    """'one year and six months' -> 1.5: number words, each run closed by its unit."""
    years, number = 0.0, []
    for word in re.split(r"[\s,-]+", raw.lower().strip(" .")):
        unit = word.removesuffix("s")
        if unit in _PER_YEAR and number:
            years += _words_to_int(" ".join(number), fmt) / _PER_YEAR[unit]
            number = []
        elif word != "and":
            number.append(word)
    if number or years == 0:
        raise ValueError(f"cannot read {raw[:40]!r} as a duration ({fmt})")
    return years


def fact_row(concept: str, value: float | None, context: Context, unit: str, decimals: str | None,
             fact_id: str | None) -> tuple:
    """One FACT_COLUMNS row; the same refusals whichever document format the fact came from."""
    prefix, _, tag = concept.partition(":")
    if not tag:
        raise ValueError(f"concept name {concept!r} has no prefix")
    if value is not None and unit == "USD" and abs(value) >= IMPLAUSIBLE_USD:
        raise ValueError(f"{value:g} USD is implausible (USD 1 quadrillion or more)")
    if decimals is not None and decimals.strip().upper() != "INF" and not re.fullmatch(r"-?\d{1,2}", decimals.strip()):
        raise ValueError(f"decimals {decimals!r} is not INF or an integer of at most two digits")
    axes = sorted(context.dimensions)
    return (
        context.cik, concept, prefix, tag, value, unit, context.period_start, context.period_end,
        axes, [context.dimensions[axis] for axis in axes], decimals, fact_id,
    )


# what the two numeric formats display: digits in groups of three (separated or not), one decimal part;
# brackets and a currency sign around it are presentation (the sign attribute says negative)
_GROUPED = {
    "numdotdecimal": re.compile(r"(\d{1,3}(?:[,\s\u00a0]?\d{3})*)(?:\.(\d*))?|\.(\d+)"),
    "numcommadecimal": re.compile(r"(\d{1,3}(?:[.\s\u00a0]?\d{3})*)(?:,(\d*))?|,(\d+)"),
}
MAX_SCALE = 12  # trillions; a scale of 999 is a typo, not a magnitude
IMPLAUSIBLE_USD = 1e15  # beyond any company's figures by orders of magnitude (also in companyfacts_rows.sql)


def parse_number(text: str, fmt: str | None, scale: str | None, sign: str | None) -> float:
    """Displayed text -> number: ixt format, then x 10^scale, then sign="-" negates. Text the format
    does not describe ("37,2x56", "37,256.5,1") and scales that are not a small integer are refused,
    never read as some other number."""
    local = (fmt or "ixt:num-dot-decimal").split(":")[-1].replace("-", "")
    raw = text.strip()
    if local in ("fixedzero", "zerodash") or (local.startswith("num") and raw in ("-", "—", "–")):
        number = Decimal(0)
    elif local in _GROUPED:
        number = _grouped(raw, local, fmt)
    elif local == "numwordsen":
        number = Decimal(_words_to_int(raw, fmt))
    else:
        raise ValueError(f"unsupported number format {fmt!r}")
    number *= Decimal(10) ** _scale(scale)
    value = float(-number if sign == "-" else number)
    if not math.isfinite(value):
        raise ValueError(f"{raw[:40]!r} is beyond any figure a filing reports")
    return value


def _grouped(raw: str, local: str, fmt: str | None) -> Decimal:
    shown = raw.strip("()$ \u00a0")
    match = _GROUPED[local].fullmatch(shown)
    if not match:
        raise ValueError(f"cannot read {raw!r} as a number ({fmt or 'no format'})")
    whole, fraction, bare_fraction = match.groups()
    return Decimal(re.sub(r"\D", "", whole or "0") + "." + (fraction or bare_fraction or "0"))


def _scale(scale: str | None) -> int:
    if scale is None:
        return 0
    try:
        value = int(scale.strip())
    except ValueError:
        raise ValueError(f"scale {scale!r} is not an integer") from None
    if abs(value) > MAX_SCALE:
        raise ValueError(f"scale {value} is outside -{MAX_SCALE}..{MAX_SCALE}")
    return value


def _words_to_int(raw: str, fmt: str | None) -> int:
    total = 0
    for word in re.split(r"[\s-]+", raw.lower().strip()):
        if word == "hundred":
            total *= 100
        elif word in _WORDS:
            total += _WORDS[word]
        elif word != "and":
            raise ValueError(f"cannot read {raw!r} as a number ({fmt})")
    return total


def context_or_error(read: Callable[[T], Context], element: T) -> Context | str:
    """A malformed context costs only the facts that use it (each skipped with a warning, by resolve()),
    not the document: its error is kept in its place. Both document formats read contexts through this."""
    try:
        return read(element)
    except ValueError as exc:
        return str(exc)


def _context(element: Tag) -> Context:
    identifier = element.find("xbrli:identifier")
    dimensions = {m["dimension"]: m.get_text(strip=True) for m in element.find_all("xbrldi:explicitmember")}
    for typed in element.find_all("xbrldi:typedmember"):
        dimensions[typed["dimension"]] = typed.get_text(" ", strip=True)
    return make_context(identifier.get_text(strip=True) if identifier else None,
                        *(_text_of(element.find(f"xbrli:{part}")) for part in ("instant", "startdate", "enddate")),
                        dimensions)


def _text_of(element: Tag | None) -> str | None:
    return None if element is None else element.get_text(strip=True)


def make_context(cik: str | None, instant: str | None, start: str | None, end: str | None,
                 dimensions: dict[str, str]) -> Context:
    """An instant or a duration with both dates, each YYYY-MM-DD; anything else is malformed."""
    if instant is not None:
        start, end = None, instant
    elif start is None or end is None:
        raise ValueError("a duration without " + ("a start date" if start is None else "an end date"))
    for date in (start, end):
        if date is None:
            continue
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
                raise ValueError
            dt.date.fromisoformat(date)
        except ValueError:
            raise ValueError(f"date {date!r} is not a YYYY-MM-DD date") from None
    return Context(cik, start, end, dimensions)


def _unit(element: Tag) -> str:
    """iso4217:USD -> USD; a divide becomes 'USD/shares'."""
    measures = [m.get_text(strip=True).split(":")[-1] for m in element.find_all("xbrli:measure")]
    return "/".join(measures)
