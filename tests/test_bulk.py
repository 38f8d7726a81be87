"""The bulk companyfacts archive: read from the zip, one Parquet partition per company, the same
rows as the per-company path, incremental re-runs, bad entries isolated."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from conftest import flatten, offline_resources
from fake_sec import Fault, FakeSec
from pipelines.defs.bulk_assets import BulkIngestConfig, archive_path, bulk_companyfacts
from pipelines.defs.warehouse_assets import warehouse_build
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import bulk, fact_partitions, warehouse
from pipelines.lib.partition_store import PartitionStore
from pipelines.lib.raw_store import InvalidResponse
from pipelines.lib.settings import SNAPSHOT_DIR
from test_live_mode import UA

SNAPSHOT = sorted((SNAPSHOT_DIR / "data.sec.gov/api/xbrl/companyfacts").glob("*.json"))


def write_archive(path: Path, companies: int, change: dict[int, bytes] | None = None) -> Path:
    """A bulk archive like SEC's: the three real files repeated under distinct CIKs."""
    documents = [json.loads(file.read_bytes()) for file in SNAPSHOT]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for number in range(companies):
            cik = 9_000_000_000 + number
            content = json.dumps({**documents[number % 3], "cik": cik}).encode()
            archive.writestr(f"CIK{cik:010d}.json", (change or {}).get(number, content))
    return path


def test_archive_to_partitions_and_core_facts(tmp_path):
    archive = write_archive(tmp_path / "companyfacts.zip", 6)
    result = bulk.ingest(archive, PartitionStore(tmp_path / "parquet"))
    assert (result.entries, result.skipped, len(result.processed)) == (6, 0, 6)
    expected = [len(flatten(file, tmp_path)) for file in SNAPSHOT]
    assert sorted(r.facts for r in result.processed) == sorted(expected * 2)
    conn = warehouse.connect(tmp_path / "w.duckdb")
    assert len(fact_partitions.load_changed(conn, PartitionStore(tmp_path / "parquet"))[0]) == 6
    assert conn.execute("select count(*) from core.facts").fetchall()[0][0] == 2 * sum(expected)
    companies = conn.execute("select count(*), min(company), min(source), min(raw_sha256) from core.companies").fetchall()[0]
    assert companies[:3] == (6, "ALPHABET INC.", "bulk archive companyfacts.zip")
    assert companies[3].startswith("crc32:")
    # the same typed rows as the per-company path, only under another CIK
    frame = flatten(SNAPSHOT[2], tmp_path)
    googl = conn.execute("select count(*), sum(value), count(distinct accn) from core.facts where cik = '9000000002'").fetchone()
    assert googl == (len(frame), pytest.approx(frame.value.astype(float).sum()), frame.accn.nunique())
    assert (tmp_path / "parquet/cik=9000000002/facts.parquet").is_file()
    assert not list(tmp_path.rglob("*.tmp"))


def test_rerun_processes_only_changed_entries_and_isolates_bad_ones(tmp_path):
    out = PartitionStore(tmp_path / "parquet")
    conn = warehouse.connect(tmp_path / "w.duckdb")
    bulk.ingest(write_archive(tmp_path / "a.zip", 9), out)
    fact_partitions.load_changed(conn, out)
    before = conn.execute("select count(*) from core.facts").fetchall()[0][0]
    again = bulk.ingest(write_archive(tmp_path / "a.zip", 9), out)
    assert (again.skipped, len(again.processed)) == (9, 0)
    changed = write_archive(tmp_path / "b.zip", 9, {4: b'{"cik": 9000000004, "facts": {'})
    result = bulk.ingest(changed, out)
    assert [(r.cik, r.error is not None) for r in result.processed] == [("9000000004", True)]
    assert "zip://CIK9000000004.json: not valid JSON" in result.processed[0].error
    assert fact_partitions.load_changed(conn, out) == ([], [])
    # the bad entry loaded nothing and removed nothing; it is tried again next time
    assert conn.execute("select count(*) from core.facts").fetchall()[0][0] == before
    assert len(bulk.ingest(changed, out).processed) == 1


def test_a_partition_that_cannot_be_written_stops_the_ingest_and_keeps_the_old_one(tmp_path):
    """A full disk is the machine's fault, not the document's: the ingest stops with an OSError that names
    the partition (it used to file every company as 'not valid JSON' and carry on), the companies after it
    are not read (their work would be lost), the company's previous partition and record stay as they
    were, and the next run reads its entry again but not those of the companies finished before it (ten
    companies, a fraction of a second's work)."""
    out = PartitionStore(tmp_path / "parquet")
    bulk.ingest(write_archive(tmp_path / "a.zip", 30), out)
    folder = tmp_path / "parquet/cik=9000000010"
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    documents = [json.loads(file.read_bytes()) for file in SNAPSHOT]
    amended = {number: json.dumps(documents[number % 3] | {"cik": 9_000_000_000 + number, "entityName": "amended"}).encode()
               for number in range(30)}
    changed = write_archive(tmp_path / "b.zip", 30, amended)
    (folder / "facts.parquet.tmp").symlink_to("/dev/full")  # where the partition is written first
    with pytest.raises(OSError, match=r"cik=9000000010/facts\.parquet\.tmp: could not write .*No space left"):
        bulk.ingest(changed, out)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    redone = {cik for cik in (f"{9_000_000_000 + n}" for n in range(30))
              if fact_partitions.read_record(out, cik)["company"] == "amended"}
    assert len(redone) < 20  # two workers: the entries under way finish, the queued ones are cancelled
    with zipfile.ZipFile(changed) as archive:
        crcs = {info.filename: info.CRC for info in archive.infolist()}
    finished = {name for name, crc in json.loads(out.read_bytes(bulk.MANIFEST)).items() if crcs[name] == crc}
    assert finished and {name[3:13] for name in finished} <= redone - {"9000000010"}
    again = bulk.ingest(changed, out)
    assert {r.cik for r in again.processed} == {f"{9_000_000_000 + n}" for n in range(30)} - {n[3:13] for n in finished}
    assert "9000000010" in {r.cik for r in again.processed}
    assert fact_partitions.read_record(out, "9000000010")["company"] == "amended"


def test_bulk_asset_materializes_from_a_local_archive(tmp_path):
    archive = write_archive(tmp_path / "companyfacts.zip", 3)
    sec, warehouse_db = offline_resources(tmp_path / "wh")
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([bulk_companyfacts, warehouse_build], resources={"sec": sec, "warehouse_db": warehouse_db},
                            run_config={"ops": {"bulk__companyfacts": {"config": {"archive": str(archive)}}}},
                            instance=instance)
    metadata = result.asset_materializations_for_node("bulk__companyfacts")[0].metadata
    assert (metadata["entries"].value, metadata["processed"].value, metadata["errors"].value) == (3, 3, 0)
    facts = next(e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(["core", "facts"]))
    assert facts.materialization.metadata["companies_loaded"].value == 3
    with duckdb.connect(str(warehouse_db.path()), read_only=True) as conn:
        assert conn.execute("select count(distinct cik) from core.facts").fetchall()[0][0] == 3
    progress = [e.user_message for e in instance.all_logs(result.run_id) if "MB/s" in e.user_message]
    assert len(progress) == 1 and re.match(r"3/3 companies, \d+ MB/s, done \(CIK\d{10}\.json\)$", progress[0])
    batches = [e.user_message for e in instance.all_logs(result.run_id) if e.user_message.startswith("company tables")]
    assert batches == ["company tables: batch 1/1 (3 companies), about 0 s left"]
    built = next(e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(["core", "metrics_wide"]))
    assert built.materialization.metadata["companies_rebuilt"].value == 3
    assert {"seconds_load", "seconds_tables", "seconds_checks"} <= set(built.materialization.metadata)


def test_progress_tells_companies_rate_and_time_left():
    lines: list[str] = []
    log = bulk.ProgressLog(lines.append, every_seconds=3600)
    entry = bulk.EntryResult("CIK0000000001.json", "0000000001", 0, 50_000_000, 10, 0)
    for done in range(1, 201):
        log(done, 200, entry, 200 * 50_000_000)
    assert len(lines) == 2  # the 100th company and the last
    assert re.match(r"100/200 companies, [\d,]+ MB/s, about \d+ (s|min) left \(CIK0000000001\.json\)$", lines[0])
    assert lines[1].startswith("200/200 companies, ") and "done" in lines[1]


def test_live_mode_downloads_the_nightly_archive_with_retries(tmp_path, monkeypatch):
    monkeypatch.setenv("SEC_USER_AGENT", UA)
    root = tmp_path / "sec"
    archive = root / "Archives/edgar/daily-index/xbrl/companyfacts.zip"
    archive.parent.mkdir(parents=True)
    write_archive(archive, 3)
    with FakeSec(root) as fake:
        fake.faults_for[bulk.ARCHIVE_PATH] = [Fault(truncate=True)]  # the first download is cut short
        sec = SecResource(mode="live", warehouse_dir=str(tmp_path / "wh"), data_url=fake.url,
                          www_url=fake.url, max_attempts=3)
        warehouse_db = WarehouseResource(database_path=str(tmp_path / "wh/capexwatch.duckdb"))
        result = dg.materialize([bulk_companyfacts], resources={"sec": sec, "warehouse_db": warehouse_db})
        assert [r.path for r in fake.requests] == [bulk.ARCHIVE_PATH, bulk.ARCHIVE_PATH]
        assert all(r.user_agent == UA for r in fake.requests)
    metadata = result.asset_materializations_for_node("bulk__companyfacts")[0].metadata
    assert (metadata["entries"].value, metadata["processed"].value) == (3, 3)
    landed = next((tmp_path / "wh/raw").rglob("companyfacts.zip"))
    assert landed.read_bytes() == archive.read_bytes() and not list(landed.parent.glob(".*download"))


def test_an_archive_that_is_not_a_zip_is_refused_and_offline_needs_a_path(tmp_path, monkeypatch):
    monkeypatch.setenv("SEC_USER_AGENT", UA)
    root = tmp_path / "sec"
    with FakeSec(root) as fake:
        fake.faults_for[bulk.ARCHIVE_PATH] = [Fault(200, body=b"<html>Service Unavailable</html>")]
        sec = SecResource(mode="live", warehouse_dir=str(tmp_path / "wh"), data_url=fake.url,
                          www_url=fake.url)
        with pytest.raises(InvalidResponse, match="companyfacts.zip: not a zip archive"):
            archive_path(BulkIngestConfig(), sec)
    assert not list((tmp_path / "wh").rglob("companyfacts.zip*"))
    with pytest.raises(ValueError, match="offline mode: set the config 'archive'"):
        archive_path(BulkIngestConfig(), SecResource(mode="offline", warehouse_dir=str(tmp_path / "wh")))


def _with_conflict(document: dict) -> tuple[bytes, dict]:
    """document with its first 10-K revenue figure listed a second time by the same filing, USD 1 million
    more: a conflicting duplicate, with no exact repeat of any fact; and that figure as first listed."""
    revenue = document["facts"]["us-gaap"]["Revenues"]["units"]["USD"]
    first = next(fact for fact in revenue if fact["form"] == "10-K" and fact.get("start"))
    return json.dumps({**document, "facts": {**document["facts"], "us-gaap": {
        **document["facts"]["us-gaap"], "Revenues": {"units": {"USD": [*revenue, {**first, "val": first["val"] + 1e6}]}},
    }}}).encode(), first


def test_conflicts_are_found_where_the_flattening_saw_a_key_twice_and_only_there(tmp_path):
    """core.conflicting_facts reads the facts only of companies whose companyfacts name a filing's concept,
    unit and period twice (core.companies.repeated_fact_keys, counted as the partition is written), of
    those not known (null: a record written before the count) and of those with filing documents. A
    conflict planted in NVIDIA's facts (no filing documents in the archive) is found and resolved by the
    rule; the real files name every key once; a record without the count is looked at."""
    documents = [json.loads(file.read_bytes()) for file in SNAPSHOT]
    planted, revenue = _with_conflict({**documents[1], "cik": 9_000_000_001})
    archive = write_archive(tmp_path / "companyfacts.zip", 3, {1: planted})
    sec, warehouse_db = offline_resources(tmp_path / "wh")
    dg.materialize([bulk_companyfacts, warehouse_build], resources={"sec": sec, "warehouse_db": warehouse_db},
                   run_config={"ops": {"bulk__companyfacts": {"config": {"archive": str(archive)}}}},
                   instance=dg.DagsterInstance.ephemeral())
    with duckdb.connect(str(warehouse_db.path())) as conn:
        assert conn.execute("select cik, repeated_fact_keys from core.companies order by cik").fetchall() == [
            ("9000000000", False), ("9000000001", True), ("9000000002", False)]
        # both figures kept in core.facts (a conflict is not a repeat), the smaller one published by the rule
        found = conn.execute("select cik, accn, tag, \"values\", kept_value from core.conflicting_facts").fetchall()
        assert found == [("9000000001", revenue["accn"], "Revenues", [revenue["val"], revenue["val"] + 1e6], revenue["val"])]
        # a company not known to be free of repeated keys is looked at; one known to be is not
        for flag, conflicts in ((None, 1), (False, 0)):
            conn.execute("update core.companies set repeated_fact_keys = ? where cik = '9000000001'", [flag])
            warehouse.run_sql(conn, "core/conflicting_facts")
            assert conn.execute("select count(*) from core.conflicting_facts").fetchone()[0] == conflicts


def test_records_and_warehouses_from_before_the_key_count_load_as_not_known(tmp_path):
    """A partition record written before repeated_fact_keys was kept, and a warehouse whose core.companies
    has no such column: the column is added, and those companies load with null (looked at by
    core.conflicting_facts), not false."""
    store = PartitionStore(tmp_path / "parquet")
    bulk.ingest(write_archive(tmp_path / "companyfacts.zip", 3), store)
    for cik in ("9000000000", "9000000001"):
        record = fact_partitions.read_record(store, cik)
        del record["repeated_fact_keys"]
        store.write_bytes(fact_partitions.record_path(cik), json.dumps(record).encode())
    with warehouse.connect(tmp_path / "w.duckdb") as conn:
        conn.execute("alter table core.companies drop column repeated_fact_keys")
    with warehouse.connect(tmp_path / "w.duckdb") as conn:
        fact_partitions.load_changed(conn, store)
        assert conn.execute("select cik, repeated_fact_keys from core.companies order by cik").fetchall() == [
            ("9000000000", None), ("9000000001", None), ("9000000002", False)]
