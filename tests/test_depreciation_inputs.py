"""Inputs of the depreciation outlook (issue 15) read from the snapshot's filings: the useful lives
companies state by asset class, and the changes of life they tag, each traceable to its filing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.lib import documents
from pipelines.lib.settings import SNAPSHOT_DIR

ARCHIVES = SNAPSHOT_DIR / "www.sec.gov/Archives/edgar/data"
AMZN, MSFT, META, GOOGL = "0001018724", "0000789019", "0001326801", "0001652044"


def lives(db: duckdb.DuckDBPyConnection, cik: str, asset_class: str, as_of: str) -> dict[str, float]:
    return dict(db.execute("select bound, years from core.useful_lives where cik = ? and asset_class = ? "
                           "and as_of = ? and not change_of_estimate", [cik, asset_class, as_of]).fetchall())


def test_stated_lives_by_asset_class_with_their_filing(db):
    # Alphabet, 10-K for 2024: servers and network equipment six years, buildings 7 to 40
    assert lives(db, GOOGL, "servers and network equipment", "2024-12-31") == {"stated": 6}
    assert lives(db, GOOGL, "data center and office buildings", "2024-12-31") == {"minimum": 7, "maximum": 40}
    # Microsoft, FY2015 instance document (plain XBRL): computer equipment 2 to 3 years
    assert lives(db, MSFT, "computer equipment", "2015-06-30") == {"minimum": 2, "maximum": 3}
    row = db.execute("select accn, form, url from core.useful_lives where cik = ? and asset_class = 'computer equipment' "
                     "and as_of = '2015-06-30' limit 1", [MSFT]).fetchone()
    assert row[:2] == ("0001193125-15-272806", "10-K") and row[2].endswith("msft-20150630.xml")


def test_changes_of_life_with_the_day_they_took_effect(db):
    """Amazon lengthened its servers' life from four to five years in 2022 and to six in 2024, then
    shortened them to five from 2025: the 2022 change dated 1 January 2022 in its FY2022 instance (no
    change-of-estimate member), the others from the change-of-estimate facts of its 10-K for 2024."""
    changes = db.execute(
        "select effective::varchar, previous_min_years, previous_max_years, new_years, direction, accn "
        "from core.useful_life_changes where cik = ? and asset_class = 'technology equipment' order by effective",
        [AMZN]).fetchall()
    assert changes == [
        ("2022-01-01", 4, 4, 5, "lengthened", "0001018724-23-000004"),
        ("2024-01-01", 5, 5, 6, "lengthened", "0001018724-25-000004"),
        ("2025-01-01", 6, 6, 5, "shortened", "0001018724-25-000004"),
    ]
    # Meta: servers and network assets to 5.5 years, decided after its 2024 year end (a subsequent event)
    meta = db.execute("select previous_min_years, previous_max_years, new_years, direction, change_of_estimate "
                      "from core.useful_life_changes where cik = ?", [META]).fetchall()
    assert meta == [(4, 5, 5.5, "lengthened", False)]


def test_every_life_in_the_documents_reaches_the_warehouse(db):
    """Recount from the raw documents with the parser alone: each life fact of each stored 10-K is
    a row of core.useful_lives, or was left out for an axis the table does not read (none here)."""
    expected = {}
    for path in sorted(ARCHIVES.glob("*/*/*")):
        if path.name.endswith(".meta.json"):
            continue
        parsed = documents.parse(path.read_bytes(), path.name, path.name)
        accn = path.parent.name
        count = int((parsed.facts.unit == "years").sum())
        if count:
            expected[f"{accn[:10]}-{accn[10:12]}-{accn[12:]}"] = count
    stored = dict(db.execute("select accn, count(*) from core.useful_lives group by accn").fetchall())
    assert stored == expected and len(expected) == 7  # Amazon's three, NVIDIA, Alphabet, Meta, Microsoft


def test_property_and_equipment_by_asset_class_adds_up_to_the_total(db):
    """Amazon's 10-K for 2025: gross property and equipment of $534,098M, of which servers and
    networking equipment $172,492M and construction in progress $71,745M; the classes add up to the
    total, read from the same document."""
    rows = dict(db.execute(
        "select asset_class, value from core.ppe_balances where cik = ? and as_of = '2025-12-31' "
        "and measure = 'gross' and not includes_finance_leases", [AMZN]).fetchall())
    assert rows["all"] == 534_098_000_000 and rows["servers and networking equipment"] == 172_492_000_000
    in_progress = db.execute(
        "select value, accn, source from core.ppe_balances where cik = ? and as_of = '2025-12-31' "
        "and measure = 'construction_in_progress'", [AMZN]).fetchone()
    assert in_progress == (71_745_000_000, "0001018724-26-000004", "filing document")
    assert sum(v for k, v in rows.items() if k != "all") + in_progress[0] == rows["all"]
    # Alphabet: companyfacts gives the total for 2024, its 10-K the classes (technical infrastructure ...)
    alphabet = dict(db.execute(
        "select asset_class, value from core.ppe_balances where cik = ? and as_of = '2024-12-31' "
        "and measure = 'gross' and not includes_finance_leases", [GOOGL]).fetchall())
    assert alphabet["technical infrastructure"] == 139_596_000_000
    assert alphabet["all"] == 199_829_000_000
