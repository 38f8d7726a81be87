"""Who a filer is, from SEC's submissions feed: name, industry (SIC code), tickers, fiscal year end.

A followed company's profile comes from its own feed (live: data.sec.gov/submissions, landed in the
raw zone; offline: the snapshot's copy, Microsoft's only), written beside its filing partitions; the
whole market's from SEC's nightly submissions archive (submissions.zip, one feed per filer), written
as one file. core.filer_profiles holds both, a company's own feed first.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import duckdb
import orjson
import pandas as pd

from pipelines.lib import filing_partitions, warehouse
from pipelines.lib.partition_store import PartitionStore

ARCHIVE_PATH = "/Archives/edgar/daily-index/bulkdata/submissions.zip"  # on www.sec.gov, rebuilt nightly
COMPANY_FILES = f"{filing_partitions.PROFILE_TABLE}/cik={{cik}}.parquet"  # beside the company's filing partitions
ARCHIVE_FILE = f"{filing_partitions.PROFILE_TABLE}/submissions_archive.parquet"
_FEED = re.compile(r"CIK(\d{10})\.json$")  # the archive's paged files (CIK...-submissions-001.json) have no profile
COLUMNS = ["cik", "company", "sic", "sic_description", "tickers", "exchanges", "fiscal_year_end",
           "state_of_incorporation", "entity_type", "source"]


class NoSubmissions(ValueError):
    """An archive without one submissions feed: not SEC's submissions.zip."""


def from_feed(content: bytes, source: str) -> dict:
    """One feed's profile (the top of the document; its filings are read elsewhere). SIC codes are
    kept as four digits (SEC writes agriculture's as 100 in places), so filters compare like with like."""
    doc = orjson.loads(content)
    if not isinstance(doc, dict):
        raise ValueError("not a submissions feed (JSON that is not an object)")
    sic = str(doc.get("sic") or "").strip()
    return {
        "cik": str(doc.get("cik") or "").zfill(10),
        "company": doc.get("name"),
        "sic": sic.zfill(4) if sic.isdigit() else (sic or None),
        "sic_description": doc.get("sicDescription") or None,
        "tickers": list(doc.get("tickers") or []),
        "exchanges": [e for e in doc.get("exchanges") or [] if e],
        "fiscal_year_end": doc.get("fiscalYearEnd") or None,  # MMDD
        "state_of_incorporation": doc.get("stateOfIncorporation") or None,
        "entity_type": doc.get("entityType") or None,
        "source": source,
    }


def frame(profiles: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records(profiles, columns=COLUMNS)


def write_company(store: PartitionStore, cik: str, profile: dict | None) -> None:
    """A followed company's profile, or none (its partition removed: the archive's, if any, shows)."""
    if profile is None:
        store.delete(COMPANY_FILES.format(cik=cik))
        return
    _write(store, COMPANY_FILES.format(cik=cik), frame([profile]))


def write_archive(store: PartitionStore, archive: Path) -> int:
    """Every filer of a submissions archive as one file (one profile per CIK, the first entry's);
    returns how many. An archive without any feed is refused and the stored profiles stay."""
    profiles: dict[str, dict] = {}
    with zipfile.ZipFile(archive) as bundle:
        for info in bundle.infolist():
            if _FEED.search(info.filename):
                try:
                    profile = from_feed(bundle.read(info), f"submissions archive {archive.name}")
                except ValueError:  # orjson's errors are ValueErrors: one unreadable feed costs its filer's industry
                    continue
                profiles.setdefault(profile["cik"], profile)
    if not profiles:
        raise NoSubmissions(f"{archive}: no submissions feed (CIK##########.json) in it: not SEC's submissions.zip? "
                            "The stored profiles were kept")
    _write(store, ARCHIVE_FILE, frame(list(profiles.values())))
    return len(profiles)


def _write(store: PartitionStore, name: str, rows: pd.DataFrame) -> None:
    conn = warehouse.synchronous_writes(duckdb.connect())
    conn.execute("create schema core")
    warehouse.run_sql(conn, "core/filer_profiles__create")
    conn.register("incoming_profiles", rows)
    conn.execute("insert into core.filer_profiles by name select * from incoming_profiles")
    with store.writing(name) as local_file:
        conn.table("core.filer_profiles").write_parquet(str(local_file))
    conn.close()


def load(conn: duckdb.DuckDBPyConnection, store: PartitionStore, removed: list[str]) -> int:
    """Bring core.filer_profiles up to the stored profiles, a company's own feed before the archive's.
    Like the filing tables, only what is stored replaces: a company's file its row, the archive file
    the archive's rows; a store that lists fewer (a mistyped folder) removes nothing, a removed
    company loses its row."""
    archive = store.glob(ARCHIVE_FILE)
    with warehouse.transaction(conn):
        filing_partitions.replace_companies(conn, store, filing_partitions.PROFILE_TABLE, removed)
        if archive:
            conn.execute("delete from core.filer_profiles where source like 'submissions archive%'")
            conn.execute("""
                insert into core.filer_profiles by name
                select * from read_parquet(?) as a
                where not exists (select 1 from core.filer_profiles as p where p.cik = a.cik)""", archive)
    return conn.execute("select count(*) from core.filer_profiles").fetchall()[0][0]
