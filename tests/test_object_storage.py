"""Partitions in object storage: a refresh whose Parquet partitions go to an S3 bucket (a local S3
stand-in, moto's server on 127.0.0.1) and whose warehouse DuckDB builds from them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import warehouse
from pipelines.lib.partition_store import PartitionStore
from pipelines.refresh import run_refresh


def refresh(warehouse_dir: Path, partitions_url: str) -> None:
    sec = SecResource(warehouse_dir=str(warehouse_dir), tickers=["GOOGL", "NVDA"], partitions_url=partitions_url)
    warehouse_db = WarehouseResource(database_path=str(warehouse_dir / "capexwatch.duckdb"))
    report = run_refresh(sec, warehouse_db, dg.DagsterInstance.ephemeral())
    assert report.build_ok and not report.failures


def test_partitions_in_a_bucket_build_the_same_warehouse(bucket_url, tmp_path):
    refresh(tmp_path / "wh", bucket_url)
    store = PartitionStore(bucket_url)
    assert store.glob("facts_parquet/cik=*/*") == [
        f"{bucket_url}/facts_parquet/cik=0001045810/company.json",
        f"{bucket_url}/facts_parquet/cik=0001045810/facts.parquet",
        f"{bucket_url}/facts_parquet/cik=0001652044/company.json",
        f"{bucket_url}/facts_parquet/cik=0001652044/facts.parquet",
    ]
    assert len(store.glob("filings_parquet/*/cik=*.parquet")) == 8  # four tables, two companies
    assert not (tmp_path / "wh" / "facts_parquet").exists()  # nothing kept on local disk
    with duckdb.connect(str(tmp_path / "wh" / "capexwatch.duckdb"), read_only=True) as conn:
        companies = conn.execute("select ticker, status, facts from core.companies order by ticker").fetchall()
        capex = conn.execute("select capex from marts.annual where ticker = 'GOOGL' and fiscal_year = 2025").fetchall()
        documents = conn.execute("select count(*) from core.filings where status = 'parsed'").fetchall()[0][0]
        first = warehouse.fingerprint(conn)
    assert companies == [("GOOGL", "loaded", 20324), ("NVDA", "loaded", 26903)]
    assert capex == [(91_447_000_000,)]
    assert documents > 0

    # again: the partitions are unchanged and not uploaded again; the warehouse is identical
    modified = {path: store.fs.info(path)["LastModified"] for path in store.glob("facts_parquet/cik=*/facts.parquet")}
    refresh(tmp_path / "wh", bucket_url)
    store.fs.invalidate_cache()
    assert {path: store.fs.info(path)["LastModified"] for path in modified} == modified
    with duckdb.connect(str(tmp_path / "wh" / "capexwatch.duckdb"), read_only=True) as conn:
        assert warehouse.fingerprint(conn) == first


def test_the_raw_zone_goes_to_the_bucket_so_a_worker_without_the_disk_can_stage_it(bucket_url, tmp_path):
    """One worker lands GOOGL's SEC files, another (its own empty disk) stages them: only the bucket
    connects them, as between the workers of a Dask cluster (tests/test_distributed.py)."""
    from pipelines.defs.company_assets import raw_companyfacts, staged_companyfacts
    from pipelines.defs.filing_assets import raw_filing_documents, staged_filing_documents

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("company", ["GOOGL"])

    def run(worker: str, group: str) -> dg.ExecuteInProcessResult:
        sec = SecResource(warehouse_dir=str(tmp_path / worker), partitions_url=bucket_url)
        return dg.materialize([raw_companyfacts, staged_companyfacts, raw_filing_documents, staged_filing_documents],
                              selection=dg.AssetSelection.groups(group),
                              partition_key="GOOGL", instance=instance, resources={"sec": sec}, raise_on_error=False)

    assert run("lander", "raw").success
    store = PartitionStore(bucket_url)
    landed = "raw/data.sec.gov/api/xbrl/companyfacts/CIK0001652044.json"
    assert store.exists(landed) and store.exists(landed + ".meta.json") and store.exists("raw/filings/CIK0001652044.json")

    assert run("stager", "staging").success
    assert not (tmp_path / "stager" / "facts_parquet").exists()
    cached = tmp_path / "stager" / landed
    assert cached.read_bytes() == store.read_bytes(landed)  # taken from the bucket, sha256 checked
    with duckdb.connect() as conn:
        store.attach(conn)
        facts = conn.execute(f"select count(*) from '{store.path('facts_parquet/cik=0001652044/facts.parquet')}'")
        assert facts.fetchall() == [(20324,)]
        documents = conn.execute(f"select count(*) from '{store.path('filings_parquet/filings/cik=0001652044.parquet')}'"
                                 " where status = 'parsed'").fetchall()[0][0]
    assert documents > 0

    # a shared copy that is not what landed is refused by a worker that has to download it
    store.write_bytes(landed, store.read_bytes(landed).replace(b"ALPHABET", b"ALPHABAT", 1))
    stored_facts = store.read_bytes("facts_parquet/cik=0001652044/facts.parquet")
    result = run("third", "staging")
    assert not result.success
    failures = [str(e.step_failure_data.error) for e in result.all_events if e.is_step_failure]
    assert any("RawFileCorrupt" in failure and "the shared copy of" in failure for failure in failures), failures
    assert not (tmp_path / "third" / landed).exists()
    assert store.read_bytes("facts_parquet/cik=0001652044/facts.parquet") == stored_facts  # nothing lost


def test_a_listing_kept_only_on_disk_is_read_and_shared(bucket_url, tmp_path):
    """A company's list of landed documents written before the raw zone went to the bucket: read from
    disk and shared, not taken for 'nothing landed' (which would stage empty filing tables)."""
    from pipelines.lib.raw_store import RawStore

    shared = PartitionStore(f"{bucket_url}/raw")
    (tmp_path / "raw" / "filings").mkdir(parents=True)
    (tmp_path / "raw" / "filings" / "CIK0000789019.json").write_bytes(b'[{"accn": "0000950170-24-087843"}]')
    store = RawStore(tmp_path / "raw", shared)
    assert store.read_listing("filings/CIK0000789019.json") == b'[{"accn": "0000950170-24-087843"}]'
    assert shared.read_bytes("filings/CIK0000789019.json") == b'[{"accn": "0000950170-24-087843"}]'
    assert store.read_listing("filings/CIK0000320193.json") is None
