"""Settings, the ticker map, the concept map and companyfacts parsing: clear errors on bad input."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import reliability_log
from conftest import flatten, partition
from pipelines.lib import companyfacts, concepts, universe
from pipelines.lib.raw_store import NoOfflineData, RawStore, SnapshotSource
from pipelines.lib.settings import SNAPSHOT_DIR, ConfigError, load_settings

GOOGL_FILE = SNAPSHOT_DIR / "data.sec.gov/api/xbrl/companyfacts/CIK0001652044.json"


def test_offline_is_the_default_and_live_needs_a_declared_user_agent():
    assert load_settings({}).mode == "offline"
    assert load_settings({"SEC_USER_AGENT": "Jane Analyst jane@example.com"}).mode == "live"
    with pytest.raises(ConfigError, match="SEC_USER_AGENT"):
        load_settings({"CAPEXWATCH_MODE": "live"})
    with pytest.raises(ConfigError, match="'offline' or 'live'"):
        load_settings({"CAPEXWATCH_MODE": "sometimes"})
    assert load_settings({"CAPEXWATCH_UNIVERSE": "msft, 0000320193"}).universe == ("msft", "0000320193")


def test_tickers_and_ciks_resolve_and_unknown_tickers_are_named():
    known = universe.bundled_map()
    resolved = universe.resolve(["googl", "CIK0000320193", "GOOG", "1045810"], known)
    assert [(c.ticker, c.cik) for c in resolved] == [("GOOGL", "0001652044"), ("AAPL", "0000320193"), ("NVDA", "0001045810")]
    with pytest.raises(universe.UnknownCompany, match="unknown ticker 'ZZZZ'"):
        universe.resolve(["ZZZZ"], known)
    reliability_log.record("bad data", "unknown ticker", "rejected with a message naming it")
    assert universe.resolve(["0000012345"], known)[0].partition_key == "0000012345"
    assert universe.default_universe() == ("MSFT", "AMZN", "GOOGL", "META", "ORCL", "NVDA", "AAPL")


def test_company_tickers_json_is_parsed():
    content = json.dumps({"0": {"cik_str": 789019, "ticker": "msft", "title": "MICROSOFT CORP"}}).encode()
    assert universe.parse_company_tickers(content) == [universe.Company("MSFT", "0000789019", "MICROSOFT CORP")]


def test_concept_map_is_ordered_with_overrides():
    frame = concepts.load_concept_map()
    capex = frame[(frame.metric == "capex") & frame.cik.isna()].sort_values("priority")
    assert list(capex.tag)[:2] == ["PaymentsToAcquirePropertyPlantAndEquipment", "PaymentsToAcquireProductiveAssets"]
    amazon = frame[(frame.metric == "capex") & (frame.cik == "0001018724")].sort_values("priority")
    assert list(amazon.tag)[0] == "PaymentsToAcquireProductiveAssets"
    assert set(frame.metric) == {
        "revenue", "operating_income", "capex", "ocf", "d_and_a", "net_income", "finance_lease_principal",
        "finance_lease_additions",
        "ppe_proceeds", "financing_obligation_principal", "rpo",
    }
    assert list(frame[frame.metric == "financing_obligation_principal"].tag) == ["RepaymentsOfLongTermFinancingObligations"]


def test_concept_map_errors_name_the_entry(tmp_path: Path):
    bad = tmp_path / "concepts.yaml"
    bad.write_text("metrics:\n  capex:\n    kind: flow\n    tags: [PaymentsToAcquirePropertyPlantAndEquipment]\n")
    with pytest.raises(concepts.ConceptMapError, match="'taxonomy:Tag'"):
        concepts.load_concept_map(bad)


def test_companyfacts_flattens_every_fact(tmp_path: Path):
    rows = flatten(GOOGL_FILE, tmp_path)
    frame, rejected = rows[rows.reason.isna()], rows[rows.reason.notna()]
    assert (len(frame), len(rejected)) == (20324, 0)
    assert set(frame.taxonomy) == {"dei", "us-gaap", "ecd", "ffd"}
    assert (frame.cik.unique().tolist(), frame.entity_name.unique().tolist()) == (["0001652044"], ["ALPHABET INC."])
    fy2025 = frame[(frame.tag == "PaymentsToAcquirePropertyPlantAndEquipment") & (frame.period_end == "2025-12-31")
                   & (frame.form == "10-K")]
    assert set(fy2025.value) == {91_447_000_000}


def test_a_fact_listed_twice_is_one_row(tmp_path: Path):
    """staging.periodic_facts passes companyfacts rows through without grouping them (issue 14), so the
    flattener keeps one row per fact and filing: a repeat (here under a second frame) is dropped, the
    frame SEC chose kept; a figure that differs is not a repeat."""
    doc = json.loads(GOOGL_FILE.read_bytes())
    facts = doc["facts"]["us-gaap"]["PaymentsToAcquirePropertyPlantAndEquipment"]["units"]["USD"]
    original = next(fact for fact in facts if fact.get("frame"))
    facts.append({**original, "frame": None})
    facts.append({**original, "val": original["val"] + 1, "frame": None})
    rows = flatten(json.dumps(doc).encode(), tmp_path)
    assert len(rows) == 20324 + 1
    same = rows[(rows.tag == "PaymentsToAcquirePropertyPlantAndEquipment") & (rows.accn == original["accn"])
                & (rows.period_end == original["end"])]
    assert sorted(zip(same.value, same.frame.fillna(""))) == [(original["val"], original["frame"]),
                                                              (original["val"] + 1, "")]


def _once_per_fact(doc: dict) -> collections.Counter:
    """Reference for the flattener's grain, from the JSON itself: each usable fact once per filing, under
    its first frame in order (a fact without a frame only when no copy has one)."""
    frames: dict[tuple, list] = {}
    for taxonomy, tags in doc["facts"].items():
        for tag, concept in tags.items():
            for unit, facts in concept["units"].items():
                for f in facts:
                    key = (taxonomy, tag, unit, f.get("start"), f["end"], float(f["val"]), f["accn"], f.get("fy"),
                           f.get("fp"), f["form"], f["filed"])
                    frames.setdefault(key, []).append(f.get("frame"))
    return collections.Counter((*key, min((f for f in found if f), default=None)) for key, found in frames.items())


def _as_listed(rows: pd.DataFrame) -> collections.Counter:
    def plain(value: object) -> object:
        return None if pd.isna(value) else value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else value
    columns = ["taxonomy", "tag", "unit", "period_start", "period_end", "value", "accn", "fy", "fp", "form", "filed", "frame"]
    return collections.Counter(tuple(plain(v) for v in row) for row in rows[columns].itertuples(index=False))


@pytest.mark.parametrize("repeats", [False, True])
def test_partition_holds_each_fact_once_as_the_json_lists_it(repeats: bool, tmp_path: Path):
    """The partition against a reference computed from the JSON: a company listing every fact once skips
    the window that finds repeats (issue 14), one with repeats goes through it; both must keep every
    fact once, under the frame SEC chose, and count what they kept."""
    doc = json.loads(GOOGL_FILE.read_bytes())
    if repeats:
        listed = doc["facts"]["us-gaap"]["PaymentsToAcquirePropertyPlantAndEquipment"]["units"]["USD"]
        framed = [fact for fact in listed if fact.get("frame")][:3]
        listed.insert(0, {**framed[0], "frame": None})  # the unframed copy listed first: the framed one is kept
        listed.extend([{**framed[1], "frame": None}, {**framed[1], "frame": None}, {**framed[2], "frame": "CY2099"}])
        listed.extend([{**framed[0], "val": "n/a"}] * 2)  # unusable, listed twice: both kept, with their reason
    (tmp_path / "companyfacts.json").write_bytes(json.dumps(doc).encode())
    written = partition(tmp_path / "companyfacts.json", tmp_path)
    rows = duckdb.read_parquet(str(tmp_path / "facts.parquet")).df()
    usable = rows[rows.reason.isna()]
    if repeats:
        doc["facts"]["us-gaap"]["PaymentsToAcquirePropertyPlantAndEquipment"]["units"]["USD"] = listed[:-2]
    assert _as_listed(usable) == _once_per_fact(doc)
    assert written.facts == len(usable) == 20324
    assert written.rejected == (2 if repeats else 0)
    assert written.repeated_fact_keys == repeats  # what core.conflicting_facts is told (core.companies)
    assert "repeat_key" not in rows.columns


def test_a_document_is_flattened_within_a_small_memory_limit_and_beyond_the_readers_default(tmp_path: Path):
    """The JSON reader allocates twice its object-size bound for every document: the old fixed bound of
    2 GB asked for 3.7 GiB a company (refused under this 1 GB limit; above it, its release made DuckDB give
    back all its memory after each company, a quarter of the bulk ingest). The bound is the document's
    size, so a document past the reader's 16 MiB default is still read whole."""
    doc = json.loads(GOOGL_FILE.read_bytes())
    doc["facts"] = {f"{taxonomy}-{copy}": tags for copy in range(7) for taxonomy, tags in doc["facts"].items()}
    source = tmp_path / "companyfacts.json"
    source.write_bytes(json.dumps(doc).encode())
    assert source.stat().st_size > 20 * 2**20
    conn = companyfacts.flattener(duckdb.connect(config={"threads": 1, "memory_limit": "1GB"}))
    written = partition(source, tmp_path, conn=conn)
    assert (written.facts, written.rejected) == (7 * 20324, 0)


def test_a_claimed_size_past_duckdbs_bound_and_a_broken_connection(tmp_path: Path):
    """A zip entry's size comes from the archive: one claiming 5 GiB (past the 32-bit bound DuckDB's reader
    takes) still reads what the entry holds; a connection broken midway is reported as the document's
    failure (MalformedCompanyFacts, which the bulk ingest reports by name), not a bare DuckDB error."""
    assert partition(GOOGL_FILE, tmp_path, size=5 * 2**30).facts == 20324
    broken = companyfacts.flattener()
    broken.close()
    with pytest.raises(companyfacts.MalformedCompanyFacts, match="closed"):
        partition(GOOGL_FILE, tmp_path / "other", conn=broken)
    assert not (tmp_path / "other" / "facts.parquet").exists()


def test_a_copy_left_by_a_killed_rewrite_is_removed_by_the_next_write(tmp_path: Path):
    """A company whose file was being written again (a fact listed twice) when its process was killed
    leaves the first file beside it; the next write of that company removes it, repeats or not."""
    (tmp_path / "cik=0001652044").mkdir()
    (tmp_path / "cik=0001652044/facts.parquet.tmp.as-listed").write_bytes(b"the file as first written")
    assert partition(GOOGL_FILE, tmp_path, "cik=0001652044/facts.parquet").facts == 20324
    assert sorted(path.name for path in (tmp_path / "cik=0001652044").iterdir()) == ["facts.parquet"]


def test_the_machines_faults_are_not_called_malformed_documents(tmp_path: Path):
    """Out of memory, a document that cannot be opened, a partition that cannot be written: each is named
    for what it is (MemoryError, OSError), where all three used to read 'not valid JSON'."""
    starved = companyfacts.flattener(duckdb.connect(config={"threads": 1, "memory_limit": "20MB"}))
    with pytest.raises(MemoryError, match="out of memory while flattening"):
        partition(GOOGL_FILE, tmp_path, conn=starved)
    with pytest.raises(OSError, match="missing.json: could not be opened"):
        partition(tmp_path / "missing.json", tmp_path, size=1000)
    with pytest.raises(OSError, match="/dev/full: could not write .*No space left on device"):
        companyfacts.write_partition(companyfacts.flattener(), str(GOOGL_FILE), GOOGL_FILE.stat().st_size,
                                     Path("/dev/full"))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("content, message", [
    (b"", "not valid JSON"),
    (b'{"cik": 1, "facts": {', "not valid JSON"),
    (b"<html>Service Unavailable</html>", "not valid JSON"),
    (b'{"error": "not found"}', "not a companyfacts response"),
])
def test_malformed_companyfacts_is_rejected_with_the_reason(content, message, tmp_path: Path):
    with pytest.raises(companyfacts.MalformedCompanyFacts, match=message):
        companyfacts.validate(content)  # before landing
    with pytest.raises(companyfacts.MalformedCompanyFacts, match="not valid JSON|not a companyfacts response"):
        flatten(content, tmp_path)  # and again when flattened (the bulk archive is not validated first)
    assert not list(tmp_path.glob("*.parquet*"))
    if content == b"":
        reliability_log.record("bad data", "empty response", "rejected: not valid JSON, nothing stored")


def test_unusable_facts_are_quarantined_with_their_reason(tmp_path: Path):
    doc = json.loads(GOOGL_FILE.read_bytes())
    facts = doc["facts"]["us-gaap"]["PaymentsToAcquirePropertyPlantAndEquipment"]["units"]["USD"]
    del facts[0]["accn"], facts[1]["val"]
    facts[2]["val"] = "2,444"
    facts[3]["end"] = "2016-13-01"
    facts[4]["val"], facts[5]["filed"], facts[6]["start"] = True, "", "Q1"
    rows = flatten(json.dumps(doc).encode(), tmp_path)
    frame, rejected = rows[rows.reason.isna()], rows[rows.reason.notna()]
    assert (len(frame), len(rejected)) == (20317, 7)
    assert sorted(rejected.reason) == sorted([
        "missing field(s): accn", "missing field(s): val", "value '2,444' is not a number",
        "end '2016-13-01' is not a date (YYYY-MM-DD)", "value true is not a number", "missing field(s): filed",
        "start 'Q1' is not a date (YYYY-MM-DD)",
    ])
    not_a_number = rejected[rejected.reason == "value '2,444' is not a number"]
    assert json.loads(not_a_number.fact.iloc[0])["val"] == "2,444"  # the fact itself, for whoever looks into it
    assert set(rejected.tag) == {"PaymentsToAcquirePropertyPlantAndEquipment"}


def test_absurd_and_non_finite_values_are_quarantined(tmp_path: Path):
    """A capex of 1e300 used to pass every check and be published; 1e400 reads as infinity."""
    doc = json.loads(GOOGL_FILE.read_bytes())
    facts = doc["facts"]["us-gaap"]["PaymentsToAcquirePropertyPlantAndEquipment"]["units"]["USD"]
    facts[0]["val"], facts[1]["val"], facts[2]["val"] = 1e300, 12345, 999_999_999_999_999
    text = json.dumps(doc).replace('"val": 12345,', '"val": 1e400,', 1)
    rows = flatten(text.encode(), tmp_path)
    rejected = rows[rows.reason.notna()]
    assert sorted(rejected.reason) == ["value 1e300 USD is implausible (USD 1 quadrillion or more)",
                                       "value 1e400 is not finite"]
    assert rows[rows.reason.isna() & (rows.value == 999_999_999_999_999)].shape[0] == 1  # just under: kept


def test_a_value_that_is_a_list_or_object_is_quarantined_whatever_columns_are_read(tmp_path: Path):
    """Read for only its reason and value, the flattening once cast every value to a number before the
    checks that guard the cast: a value [1] failed the whole document."""
    doc = json.loads(GOOGL_FILE.read_bytes())
    facts = doc["facts"]["us-gaap"]["PaymentsToAcquirePropertyPlantAndEquipment"]["units"]["USD"]
    facts[0]["val"], facts[1]["val"] = [1], {"amount": 2}
    source = tmp_path / "companyfacts.json"
    source.write_text(json.dumps(doc))
    conn = companyfacts.flattener()
    read = conn.execute("select reason, value from companyfacts_rows(?, ?) where reason is not null",
                        [str(source), source.stat().st_size]).fetchall()
    assert sorted(read) == [('value [1] is not a number', None), ('value {"amount":2} is not a number', None)]
    every_column = conn.execute("select count(*), count(value) from companyfacts_rows(?, ?)",
                                [str(source), source.stat().st_size]).fetchall()
    assert every_column == [(20324, 20322)]


def test_offline_snapshot_without_a_company_says_so(tmp_path: Path):
    store = RawStore(tmp_path)
    with pytest.raises(NoOfflineData, match="no offline data.*CIK0000789019"):
        store.land("https://data.sec.gov/api/xbrl/companyfacts/CIK0000789019.json", SnapshotSource(SNAPSHOT_DIR),
                   companyfacts.validate)
    assert not any(tmp_path.iterdir())
