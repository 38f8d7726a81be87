"""Shared fixtures: one warehouse built from the offline snapshot by the real Dagster jobs."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb
import pandas as pd
import pytest
import requests

from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import companyfacts, warehouse
from pipelines.lib.partition_store import PartitionStore
from pipelines.refresh import RefreshReport, run_refresh

import reliability_log


SNAPSHOT_FINGERPRINTS = json.loads((Path(__file__).parent / "reference" / "snapshot_fingerprints.json").read_text())
# the core and mart tables of the snapshot build before the bulk optimisation (issue 14)
REFERENCE = SNAPSHOT_FINGERPRINTS["tables"]


def reference_fingerprint(conn: duckdb.DuckDBPyConnection) -> dict[str, list[int]]:
    """The fingerprints of REFERENCE's tables in conn, without the columns added since (columns_added)."""
    now = warehouse.fingerprint(conn, leave_out=SNAPSHOT_FINGERPRINTS["columns_added"])
    return {table: list(value) for table, value in now.items() if table in REFERENCE}


@pytest.fixture(autouse=True)
def _no_live_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach SEC: whatever the developer's shell has set, run offline."""
    for name in ("SEC_USER_AGENT", "CAPEXWATCH_MODE", "CAPEXWATCH_UNIVERSE", "CAPEXWATCH_WAREHOUSE_DIR"):
        monkeypatch.delenv(name, raising=False)


BUCKET = "capexwatch-test"


@pytest.fixture
def bucket_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An S3 bucket on 127.0.0.1 (moto's server), its address in the environment for this process and its children."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    requests.post(f"http://127.0.0.1:{port}/moto-api/reset", timeout=10)  # moto's state outlives its server
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


def offline_resources(warehouse_dir: Path) -> tuple[SecResource, WarehouseResource]:
    sec = SecResource(mode="offline", warehouse_dir=str(warehouse_dir))
    return sec, WarehouseResource(database_path=str(warehouse_dir / "capexwatch.duckdb"))


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RefreshReport]:
    warehouse_dir = tmp_path_factory.mktemp("warehouse")
    sec, warehouse_db = offline_resources(warehouse_dir)
    report = run_refresh(sec, warehouse_db, dg.DagsterInstance.ephemeral())
    return warehouse_dir, report


@pytest.fixture(scope="session")
def db(built: tuple[Path, RefreshReport]) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(built[0] / "capexwatch.duckdb"), read_only=True)
    yield conn
    conn.close()


def flatten(content: bytes | Path, tmp_path: Path) -> pd.DataFrame:
    """One companyfacts document through the project's flattener, its partition read back."""
    if isinstance(content, bytes):
        (tmp_path / "companyfacts.json").write_bytes(content)
        content = tmp_path / "companyfacts.json"
    partition(content, tmp_path)
    return duckdb.read_parquet(str(tmp_path / "facts.parquet")).df()


def partition(source: Path, folder: Path, relative: str = "facts.parquet",
              conn: duckdb.DuckDBPyConnection | None = None, size: int | None = None) -> companyfacts.Partition:
    """source's partition at folder/relative, written as the pipeline writes it (published only when
    complete); conn: the flattener (a fresh one if None), size: the document's bytes as claimed (its own if None)."""
    with PartitionStore(folder).writing(relative) as target:
        return companyfacts.write_partition(companyfacts.flattener() if conn is None else conn, str(source),
                                            source.stat().st_size if size is None else size, target)


def core_copy(db: duckdb.DuckDBPyConnection, filters: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """An in-memory copy of some core tables (each with its row filter) and their column types, for a
    test that changes rows without touching the shared warehouse."""
    copy = duckdb.connect()
    copy.execute("create schema core")
    for table, where in filters.items():
        types = db.execute("select column_name, data_type from information_schema.columns where table_schema = 'core' "
                           "and table_name = ? order by ordinal_position", [table]).fetchall()
        copy.register("source_rows", db.execute(f"select * from core.{table} where {where}").df())
        columns = ", ".join(f'cast("{name}" as {kind}) as "{name}"' for name, kind in types)
        copy.execute(f"create table core.{table} as select {columns} from source_rows")
        copy.unregister("source_rows")
    return copy


def one(conn: duckdb.DuckDBPyConnection, sql: str, *params: object) -> tuple:
    rows = conn.execute(sql, list(params)).fetchall()
    assert len(rows) == 1, f"expected one row, got {len(rows)}: {sql} {params}"
    return rows[0]


@pytest.fixture(scope="session", autouse=True)
def _reliability_log() -> None:
    reliability_log.start()
