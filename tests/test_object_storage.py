"""Partitions in object storage: a refresh whose Parquet partitions go to an S3 bucket (a local S3
stand-in, moto's server on 127.0.0.1) and whose warehouse DuckDB builds from them."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb
import pytest

from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import warehouse
from pipelines.lib.partition_store import PartitionStore
from pipelines.refresh import run_refresh

BUCKET = "capexwatch-test"


@pytest.fixture
def bucket_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}.items():
        monkeypatch.setenv(name, value)
    store = PartitionStore(f"s3://{BUCKET}")
    store.fs.clear_instance_cache()
    PartitionStore(f"s3://{BUCKET}").fs.mkdir(BUCKET)
    try:
        yield f"s3://{BUCKET}/capexwatch"
    finally:
        server.stop()


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
