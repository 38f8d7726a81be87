"""A filing's XBRL document in either of SEC's formats: inline XBRL (.htm, since 2019) or an XBRL
instance (.xml, before 2019 and beside every inline filing). Both give the same ParsedDocument."""

from __future__ import annotations

from types import ModuleType

from pipelines.lib import ixbrl, xbrl_instance

UNREADABLE = (ixbrl.NoInlineXbrl, ixbrl.TruncatedDocument)  # what a stored document can fail with


def reader(document_name: str) -> ModuleType:
    """The module whose parse() and validate_document() read this document."""
    return xbrl_instance if xbrl_instance.is_instance(document_name) else ixbrl


def parse(content: bytes, document_name: str, name: str) -> ixbrl.ParsedDocument:
    return reader(document_name).parse(content, name)


def validate(content: bytes, document_name: str, cik: str, report_date: str | None, name: str) -> None:
    reader(document_name).validate_document(content, cik, report_date, name)
