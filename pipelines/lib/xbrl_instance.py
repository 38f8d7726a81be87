"""XBRL instance documents (plain XML): the format SEC published before inline XBRL (every filing
before 2019) and still extracts beside each inline filing (`*_htm.xml`).

The facts are the same as in an inline document, only written as elements (`<us-gaap:Revenues
contextRef=.. unitRef=.. decimals=..>1234</us-gaap:Revenues>`) with the number as plain text, so
contexts, units, refusals and duplicates go through the inline reader's own functions.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

import pandas as pd
from lxml import etree

from pipelines.lib.ixbrl import (
    DEI, DURATION_CONCEPTS, DURATION_UNIT, FACT_COLUMNS, Context, NoInlineXbrl, NotTheExpectedDocument,
    ParsedDocument, TruncatedDocument, context_of, context_or_error, fact_row, keep_more_precise, make_context,
    parse_duration_years, resolve,
)

XBRLI = "{http://www.xbrl.org/2003/instance}"
XBRLDI = "{http://xbrl.org/2006/xbrldi}"
_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")  # xs:decimal: no exponent, no grouping
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True,
                          remove_pis=True)
# the standard taxonomies under the prefixes every filer uses, whatever a document binds them to
_CANONICAL_PREFIXES = (("http://fasb.org/us-gaap/", "us-gaap"), ("http://fasb.org/srt/", "srt"),
                       ("http://xbrl.sec.gov/dei/", "dei"))


def is_instance(document_name: str) -> bool:
    """Instance documents are .xml files; inline documents are .htm/.html."""
    return document_name.lower().endswith(".xml")


def _root(content: bytes, name: str) -> etree._Element:
    """The instance's root, refusing what is not a complete XBRL instance. A DOCTYPE is refused outright:
    EDGAR accepts none, and entities are the only way a number could be spread over markup."""
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        if not re.search(rb"</([A-Za-z_][\w.-]*:)?xbrl>\s*$", content[-512:]):
            raise TruncatedDocument(f"{name}: XML ends before its closing tag ({len(content)} bytes): "
                                    "truncated download?") from None
        raise NoInlineXbrl(f"{name}: not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise NoInlineXbrl(f"{name}: has a DOCTYPE, which an XBRL instance filed with SEC never has")
    if root.tag != f"{XBRLI}xbrl":
        raise NoInlineXbrl(f"{name}: not an XBRL instance (root element {etree.QName(root).localname!r})")
    return root


def _concept(element: etree._Element) -> str:
    """prefix:Name, the prefix of a standard taxonomy by its namespace, else the document's own."""
    qname = etree.QName(element)
    prefix = next((canonical for uri, canonical in _CANONICAL_PREFIXES if (qname.namespace or "").startswith(uri)),
                  element.prefix)
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


def parse(content: bytes, name: str = "document") -> ParsedDocument:
    """Every numeric fact of an instance document with its context; what cannot be resolved is
    skipped with a warning naming the document, the fact and why."""
    root = _root(content, name)
    contexts = {c.get("id"): context_or_error(_context, c) for c in root.iter(f"{XBRLI}context") if c.get("id")}
    units = {u.get("id"): _unit(u) for u in root.iter(f"{XBRLI}unit") if u.get("id")}
    best: dict[tuple, tuple] = {}
    dei: dict[str, str] = {}
    problems: list[str] = []
    for element in root:
        if not isinstance(element.tag, str) or element.get("contextRef") is None:
            continue  # contexts, units, schema and footnote links
        concept = _concept(element)
        if element.get("unitRef") is None and concept not in DURATION_CONCEPTS:
            if concept in DEI:
                dei[concept] = " ".join((element.text or "").split())
            continue
        try:
            if len(element):
                raise ValueError("a numeric fact with child elements")
            if concept in DURATION_CONCEPTS:  # an xs:duration such as P5Y, in years
                context, unit = context_of(element.get("contextRef"), contexts), DURATION_UNIT
                value = parse_duration_years(element.text or "", None)
            else:
                context, unit = resolve(element.get("contextRef"), element.get("unitRef"), contexts, units)
                value = None if element.get(_XSI_NIL) in ("true", "1") else parse_number(element.text or "")
            keep_more_precise(best, fact_row(concept, value, context, unit, element.get("decimals"), element.get("id")),
                              name, problems)
        except ValueError as exc:
            problems.append(f"{name} {element.get('id', '?')} {concept}: {exc}")
    if not best:
        raise NoInlineXbrl(f"{name}: no numeric facts in the XBRL instance")
    return ParsedDocument(pd.DataFrame.from_records(list(best.values()), columns=FACT_COLUMNS), dei, problems)


def parse_number(text: str) -> float:
    """An instance's value is an xs:decimal: digits, one point, a sign; nothing else is a number."""
    shown = text.strip()
    if not _NUMBER.fullmatch(shown):
        raise ValueError(f"cannot read {shown[:40]!r} as a number")
    try:
        value = float(Decimal(shown))
    except InvalidOperation:
        raise ValueError(f"cannot read {shown[:40]!r} as a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{shown[:40]!r} is beyond any figure a filing reports")
    return value


def validate_document(content: bytes, cik: str, report_date: str | None, name: str = "document") -> None:
    """Refuse what is not this filing's instance before it can replace a stored copy: not XML,
    cut short, no facts, or the cover facts of another company or period."""
    root = _root(content, name)
    dei = {concept: (e.text or "").strip() for e in root if isinstance(e.tag, str)
           and (concept := _concept(e)).startswith("dei:")}
    if not any(e.get("unitRef") is not None for e in root if isinstance(e.tag, str)):
        raise NoInlineXbrl(f"{name}: no numeric facts in the XBRL instance")
    stated_cik = dei.get("dei:EntityCentralIndexKey", "")
    if stated_cik.lstrip("0") != cik.lstrip("0"):
        raise NotTheExpectedDocument(f"{name}: dei:EntityCentralIndexKey is {stated_cik or 'missing'}, expected {cik}")
    stated_date = dei.get("dei:DocumentPeriodEndDate", "")
    if report_date and stated_date != report_date:  # both ISO dates: equal text, equal day
        raise NotTheExpectedDocument(f"{name}: dei:DocumentPeriodEndDate is {stated_date or 'missing'}, "
                                     f"expected {report_date}")


def _context(element: etree._Element) -> Context:
    identifier = element.find(f"{XBRLI}entity/{XBRLI}identifier")
    dimensions = {m.get("dimension"): (m.text or "").strip() for m in element.iter(f"{XBRLDI}explicitMember")}
    for typed in element.iter(f"{XBRLDI}typedMember"):
        dimensions[typed.get("dimension")] = " ".join(typed.itertext()).strip()
    period = element.find(f"{XBRLI}period")
    dates = [None if period is None else _text(period.find(f"{XBRLI}{part}")) for part in ("instant", "startDate", "endDate")]
    return make_context(_text(identifier), *dates, dimensions)


def _text(element: etree._Element | None) -> str | None:
    return None if element is None else (element.text or "").strip()


def _unit(element: etree._Element) -> str:
    """iso4217:USD -> USD; a divide becomes 'USD/shares', as in the inline reader."""
    return "/".join((m.text or "").strip().split(":")[-1] for m in element.iter(f"{XBRLI}measure"))
