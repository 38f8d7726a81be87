"""Which companies to follow: tickers or CIKs resolved to (ticker, CIK, name).

Offline, the bundled reference/companies.csv is the whole map; live, SEC's
company_tickers.json (landed in the raw zone like any other response) is.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib.settings import COMPANIES_FILE

COMPANY_TICKERS_PATH = "/files/company_tickers.json"  # on www.sec.gov


class UnknownCompany(LookupError):
    """A ticker or CIK that the ticker map does not know."""


@dataclass(frozen=True)
class Company:
    ticker: str
    cik: str  # 10 digits, zero-padded, as in SEC's URLs
    name: str

    @property
    def partition_key(self) -> str:
        return self.ticker or self.cik


def normalize_cik(value: str | int) -> str:
    digits = str(value).strip().upper().removeprefix("CIK")
    if not digits.isdigit() or len(digits) > 10:
        raise UnknownCompany(f"{value!r} is not a CIK (up to 10 digits)")
    return digits.zfill(10)


def bundled_map(path: Path = COMPANIES_FILE) -> list[Company]:
    with path.open(newline="") as handle:
        return [Company(row["ticker"], normalize_cik(row["cik"]), row["name"]) for row in csv.DictReader(handle)]


def default_universe(path: Path = COMPANIES_FILE) -> tuple[str, ...]:
    with path.open(newline="") as handle:
        return tuple(row["ticker"] for row in csv.DictReader(handle) if row["default_universe"] == "true")


def parse_company_tickers(content: bytes) -> list[Company]:
    """SEC's company_tickers.json: {"0": {"cik_str": 320193, "ticker": "AAPL", "title": ...}}."""
    rows = json.loads(content)
    return [
        Company(str(row["ticker"]).upper(), normalize_cik(row["cik_str"]), str(row["title"]))
        for row in rows.values()
    ]


def mentions(items: tuple[str, ...], ticker: str | None, cik: str) -> bool:
    """Whether a list of tickers and CIKs, as a user wrote it, names this company."""
    keys = {item.strip().upper() for item in items}
    ciks = {normalize_cik(key) for key in keys if key.removeprefix("CIK").isdigit() and len(key.removeprefix("CIK")) <= 10}
    return (ticker or "").upper() in keys or cik in ciks


def resolve(items: tuple[str, ...] | list[str], known: list[Company]) -> list[Company]:
    """Resolve each ticker or CIK; an unknown one is an error naming it, never a silent drop."""
    by_ticker = {c.ticker: c for c in known}
    by_cik: dict[str, Company] = {}
    for company in known:
        by_cik.setdefault(company.cik, company)
    resolved: list[Company] = []
    for item in items:
        key = item.strip().upper()
        if key in by_ticker:
            company = by_ticker[key]
        elif key.removeprefix("CIK").isdigit():
            cik = normalize_cik(key)
            company = by_cik.get(cik, Company("", cik, f"CIK {cik}"))
        elif any(separator in key for separator in (" ", ",")):
            raise UnknownCompany(f"{item!r} is not one ticker: name one company per --ticker (or in CAPEXWATCH_UNIVERSE, "
                                 "separate them with commas)")
        else:
            raise UnknownCompany(f"unknown ticker {item!r}: not in the ticker map; pass its CIK instead")
        if company.cik not in {c.cik for c in resolved}:
            resolved.append(company)
    return resolved
