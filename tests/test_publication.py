"""One build-and-publish path, whatever starts the build: a Dagster job from the command line builds
while readers are open, a kill leaves the last published state, readers only ever see whole
builds, and a process writing to the warehouse is never overwritten."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import filelock
import duckdb
import pytest

import reliability_log
from pipelines.definitions import build_definitions
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import publish, warehouse
from pipelines.refresh import run_refresh
from test_reliability import _edit_capex, _snapshot_copy

DAGSTER = str(Path(sys.executable).parent / "dagster")
AMENDED_CAPEX = 91_500_000_000  # a 10-K/A restating Alphabet's FY2025 capex (91,447M as filed)
CAPEX_PAIR = """select (select value from core.metric_values where cik = '0001652044' and metric = 'capex'
                          and period_type = 'fiscal_year' and fiscal_year = 2025),
                       (select capex from marts.annual where ticker = 'GOOGL' and fiscal_year = 2025),
                       (select build_id from build_info)"""


def fingerprint(database: Path) -> dict:
    with duckdb.connect(str(database), read_only=True) as conn:
        return warehouse.fingerprint(conn)


def resources(tmp_path: Path) -> tuple[SecResource, WarehouseResource]:
    sec = SecResource(mode="offline", warehouse_dir=str(tmp_path / "wh"), snapshot_dir=str(tmp_path / "snapshot"),
                      tickers=["GOOGL", "NVDA"])
    return sec, WarehouseResource(database_path=str(tmp_path / "wh" / "capexwatch.duckdb"))


@pytest.fixture
def amended(tmp_path: Path) -> tuple[Path, dict]:
    """A published warehouse, then Alphabet's partitions refreshed from an amended filing, not yet
    built: the next build publishes a new FY2025 capex in core.metric_values and marts.annual."""
    _snapshot_copy(tmp_path)
    sec, warehouse_db = resources(tmp_path)
    assert run_refresh(sec, warehouse_db, dg.DagsterInstance.ephemeral()).ok
    published = fingerprint(warehouse_db.path())
    _edit_capex(tmp_path / "snapshot", lambda units, doc: units["USD"].append({
        "start": "2025-01-01", "end": "2025-12-31", "val": AMENDED_CAPEX, "accn": "0001652044-26-999999",
        "fy": 2025, "fp": "FY", "form": "10-K/A", "filed": "2026-06-01"}))
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("company", ["GOOGL"])
    job = build_definitions(sec, warehouse_db).resolve_job_def("refresh_companies")
    assert job.execute_in_process(partition_key="GOOGL", instance=instance).success
    return warehouse_db.path(), published


def dagster_build(database: Path) -> subprocess.Popen:
    """`dagster job execute` of the build job, as a user or a script would start it."""
    environment = {k: v for k, v in os.environ.items() if k not in ("SEC_USER_AGENT", "CAPEXWATCH_MODE", "DAGSTER_HOME")}
    environment["CAPEXWATCH_WAREHOUSE_DIR"] = str(database.parent)
    environment["DAGSTER_HOME"] = str(database.parent.parent / "dagster_home")  # run records outside the tree
    Path(environment["DAGSTER_HOME"]).mkdir(exist_ok=True)
    return subprocess.Popen([DAGSTER, "job", "execute", "-m", "pipelines.definitions", "-j", "build_warehouse"],
                            env=environment, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


class Reader(threading.Thread):
    """An analyst querying in a loop: each query on a fresh read-only connection, as `capexwatch sql` does."""

    def __init__(self, database: Path):
        super().__init__(daemon=True)
        self.database, self.seen, self.errors, self.stop = database, set(), [], threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with duckdb.connect(str(self.database), read_only=True) as conn:
                    self.seen.add(conn.execute(CAPEX_PAIR).fetchone())
            except duckdb.Error as exc:
                self.errors.append(str(exc))
            time.sleep(0.02)

    def __enter__(self) -> "Reader":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join()


def test_a_dagster_build_publishes_while_read_only_sessions_are_open(amended):
    database, _ = amended
    session = duckdb.connect(str(database), read_only=True)  # an analyst's open session
    before = session.execute(CAPEX_PAIR).fetchone()
    with Reader(database) as reader:
        build = dagster_build(database)
        output, _ = build.communicate(timeout=300)
    assert build.returncode == 0, output[-3000:]
    assert session.execute(CAPEX_PAIR).fetchone() == before  # the open session keeps the state it opened
    session.close()
    after = duckdb.connect(str(database), read_only=True).execute(CAPEX_PAIR).fetchone()
    assert before[:2] == (91_447_000_000, 91_447_000_000) and after[:2] == (AMENDED_CAPEX, AMENDED_CAPEX)
    assert reader.errors == [] and {pair[:2] for pair in reader.seen} <= {before[:2], after[:2]}
    assert publish.read_record(database).status == "published"
    reliability_log.record("publication", "Dagster build job while read-only sessions are open",
                           "built and published; open sessions kept their state, 0 reader errors",
                           tried=len(reader.seen) + 1)


def test_killing_a_dagster_build_leaves_the_last_published_state(amended, tmp_path):
    database, published = amended
    probe_dir = tmp_path / "probe"
    shutil.copytree(database.parent, probe_dir)
    started = time.monotonic()  # how long a whole build takes here, to kill builds inside that time
    probe = dagster_build(probe_dir / database.name)
    output, _ = probe.communicate(timeout=300)
    assert probe.returncode == 0, output[-3000:]
    duration, built = time.monotonic() - started, fingerprint(probe_dir / database.name)
    trials = int(os.environ.get("CAPEXWATCH_KILL_TRIALS", "3"))
    delays = sorted(round(random.Random(11 + trial).uniform(0.3, 0.95 * duration), 2) for trial in range(trials))
    states = []
    with Reader(database) as reader:
        for delay in delays:
            build = dagster_build(database)
            time.sleep(delay)
            os.killpg(build.pid, signal.SIGKILL)
            build.wait()
            states.append(fingerprint(database))
    assert all(state in (published, built) for state in states), "a kill left a state that no build published"
    assert reader.errors == []
    old, new = (91_447_000_000, 91_447_000_000), (AMENDED_CAPEX, AMENDED_CAPEX)
    assert {pair[:2] for pair in reader.seen} <= {old, new}  # never one table from one build, one from another
    finish = dagster_build(database)
    output, _ = finish.communicate(timeout=300)
    assert finish.returncode == 0, output[-3000:]
    assert fingerprint(database) == built
    assert not list(database.parent.glob(".capexwatch.duckdb.building*"))
    kept = sum(state == published for state in states)
    reliability_log.record("kill", f"SIGKILL of a Dagster build job (0.3-{0.95 * duration:.0f} s into it)",
                           f"last published state kept ({kept} kills mid-build, {len(states) - kept} after it "
                           "published); readers saw only whole builds; the next build completed",
                           tried=len(delays), lost=0)


WRITER = """
import duckdb, sys, time
conn = duckdb.connect(sys.argv[1])
conn.execute("create table main.analyst_notes as select 'capex looks high' as note")
print("written", flush=True)
sys.stdin.readline()
conn.close()
"""


def test_a_build_refuses_while_another_process_writes_and_keeps_its_writes(amended):
    database, published = amended
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(database)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "written"
    sec, warehouse_db = resources(database.parent.parent)
    report = run_refresh(sec, warehouse_db, dg.DagsterInstance.ephemeral())
    assert not report.build_ok and report.build.status == "failed"
    assert f"is open for writing by another process" in report.build_error and f"PID {writer.pid}" in report.build_error
    writer.communicate("done\n", timeout=60)  # the analyst closes the session: their table is in the file
    with duckdb.connect(str(database), read_only=True) as conn:
        assert conn.execute("select note from analyst_notes").fetchall() == [("capex looks high",)]
    assert run_refresh(sec, warehouse_db, dg.DagsterInstance.ephemeral()).ok  # the next build keeps it too
    with duckdb.connect(str(database), read_only=True) as conn:
        assert conn.execute("select note from analyst_notes").fetchall() == [("capex looks high",)]
        assert conn.execute(CAPEX_PAIR).fetchone()[:2] == (AMENDED_CAPEX, AMENDED_CAPEX)
    reliability_log.record("concurrency", "build while another process has the warehouse open for writing",
                           "refused naming the process; its writes kept", lost=0)


WRITE_AND_CLOSE = """
import duckdb, sys
try:
    with duckdb.connect(sys.argv[1]) as conn:
        conn.execute("create table main.analyst_notes as select 'written during a build' as note")
except duckdb.Error as exc:
    print("refused:", exc)
else:
    print("written")
"""


def test_a_writer_during_the_build_is_refused_or_kept_never_renamed_away(amended):
    """Between the copy and the rename, a process opens the warehouse for writing, writes and closes:
    the build must not publish over those writes."""
    database, published = amended
    with publish.private_build(database) as build:
        build.conn.execute("create table main.build_marker as select 1 as x")
        writer = subprocess.run([sys.executable, "-c", WRITE_AND_CLOSE, str(database)], capture_output=True,
                                text=True, timeout=60)
    assert writer.returncode == 0, writer.stderr
    with duckdb.connect(str(database), read_only=True) as conn:
        tables = {name for (name,) in conn.execute("select table_name from information_schema.tables").fetchall()}
    assert "build_marker" in tables  # the build published
    # refused while the build held the file (its writes would have been renamed away), naming the process
    assert writer.stdout.startswith("refused:") and f"PID {os.getpid()}" in writer.stdout, writer.stdout
    assert "analyst_notes" not in tables
    reliability_log.record("concurrency", "a writer opening the warehouse during a build",
                           "refused by DuckDB's lock (naming the build's process) until the build published",
                           lost=0)


def test_a_second_build_waits_for_the_first_then_says_why(amended):
    database, published = amended
    sec, _ = resources(database.parent.parent)
    impatient = WarehouseResource(database_path=str(database), build_wait_seconds=0.5)
    with filelock.FileLock(database.with_name(database.name + ".build.lock")).acquire(timeout=0):  # a build runs
        report = run_refresh(sec, impatient, dg.DagsterInstance.ephemeral())
    assert not report.build_ok and report.build_error.startswith(f"RefreshRunning: another build of {database} is running")
    assert fingerprint(database) == published
    reliability_log.record("concurrency", "second build while one runs (any entry point)",
                           "waits for it (build_wait_seconds), then stops with a clear message")


@pytest.mark.parametrize("damage", [b"", b"not a database" * 1000])
def test_a_rebuild_of_a_damaged_file_that_fails_leaves_it_where_it_was(tmp_path, damage):
    """The damaged file used to be moved aside before the build: a build that failed (or was killed)
    then left no warehouse at all, and the file under a name no reader looks for."""
    database = tmp_path / "capexwatch.duckdb"
    database.write_bytes(damage)
    with pytest.raises(RuntimeError, match="killed midway"):
        with publish.private_build(database) as build:
            build.conn.execute("create table main.half_built as select 1 as x")
            raise RuntimeError("killed midway")
    assert database.read_bytes() == damage and sorted(p.name for p in tmp_path.iterdir() if "capexwatch" in p.name
                                                      and not p.name.endswith((".lock", ".json"))) == [database.name]
    assert "unreadable" in publish.read_record(database).rebuilt and publish.read_record(database).status == "failed"
    with publish.private_build(database) as build:  # the next build publishes, and keeps the damaged file
        build.conn.execute("create table main.whole as select 1 as x")
    [kept] = tmp_path.glob("capexwatch.duckdb.unreadable-*")
    assert kept.read_bytes() == damage and "kept as " + kept.name in publish.read_record(database).rebuilt
    with duckdb.connect(str(database), read_only=True) as conn:
        assert conn.execute("select * from main.whole").fetchall() == [(1,)]



@pytest.mark.parametrize("kernel_copy", [True, False])
def test_the_private_copy_is_the_published_file_byte_for_byte(tmp_path, monkeypatch, kernel_copy):
    """The copy is made in the kernel (copy_file_range) where it can be, else through Python: the same
    bytes either way, whatever position the locked handle is at."""
    published = tmp_path / "capexwatch.duckdb"
    content = os.urandom(3 * (1 << 20) + 12_345)  # more than one chunk of the Python copy, not a round size
    published.write_bytes(content)
    if not kernel_copy:
        def refused(*args):
            raise OSError(95, "Operation not supported")
        monkeypatch.setattr(publish.os, "copy_file_range", refused)
    copy = tmp_path / ".capexwatch.duckdb.building"
    with published.open("rb") as source:
        source.read(100)
        publish._copy_published(source, published, copy)
    assert copy.read_bytes() == content


def test_a_published_file_untouched_since_is_not_walked_again_and_a_changed_one_is(tmp_path, monkeypatch):
    """Every build walked the published file's blocks to rule out a truncated copy (a third of a second
    for a 2 GB warehouse); the file the last build published, untouched since, needs no walk. Damage is
    still caught: a truncation or a same-size overwrite with the modification time set back, a WAL
    that cannot be replayed; and a build record that cannot be read costs a walk, not the build."""
    database = tmp_path / "capexwatch.duckdb"
    with publish.private_build(database) as build:  # a name to quote: the walk reads each table by name
        build.conn.execute('create table main."my ""t""" as select range as x, repeat(\'x\', 50) || range as s '
                           'from range(300000)')
    walks: list[str] = []
    monkeypatch.setattr(publish, "HEADER_BYTES", _Counted(publish.HEADER_BYTES, walks))  # read once per walk
    with publish.private_build(database) as build:
        build.conn.execute("create table main.u as select 1 as y")
    assert walks == [] and publish.read_record(database).status == "published"
    good = database.read_bytes()

    def damaged(change, set_back_mtime: bool = True) -> str:
        database.write_bytes(good)
        with publish.private_build(database) as build:  # publishes the sound file again, and its identity
            build.conn.execute("create or replace table main.u as select 2 as y")
        assert publish.read_record(database).rebuilt is None  # walked, and found sound
        status = database.stat()
        change()
        if set_back_mtime:
            os.utime(database, ns=(status.st_atime_ns, status.st_mtime_ns))
        with publish.private_build(database) as build:
            build.conn.execute("create table main.rebuilt as select 1 as z")
        return publish.read_record(database).rebuilt or ""

    assert "Could not read enough bytes" in damaged(lambda: os.truncate(database, len(good) - 3 * (1 << 20)))

    def overwrite_header() -> None:  # a header that fails its checksum, in place, the size unchanged
        with database.open("r+b") as file:
            file.seek(4096)
            file.write(bytes(4096))
    assert "Corrupt database file" in damaged(overwrite_header)
    wal = database.with_name(database.name + ".wal")

    def unreplayable_wal() -> None:  # a writer that died before its checkpoint, its log then damaged
        subprocess.run([sys.executable, "-c", f"import duckdb, os; conn = duckdb.connect({str(database)!r}); "
                        "conn.execute(\"set checkpoint_threshold = '1GB'\"); "
                        "conn.execute('insert into main.u select range from range(1000)'); os._exit(9)"], check=False)
        log = bytearray(wal.read_bytes())
        log[len(log) // 2:] = b"\xab" * (len(log) - len(log) // 2)
        wal.write_bytes(bytes(log))
    assert "WAL" in damaged(unreplayable_wal, set_back_mtime=False)  # the file itself is untouched
    wal.unlink(missing_ok=True)

    for record in (b"{not json", b'{"build_id": "x", "started_at": "y", "published_file": "?", "from_a_newer_version": 1}'):
        publish.record_path(database).write_bytes(record)
        with publish.private_build(database) as build:
            build.conn.execute("create or replace table main.u as select 3 as y")
        assert publish.read_record(database).status == "published"


class _Counted(int):
    """HEADER_BYTES, noting each time the block walk reads it."""

    def __new__(cls, value: int, seen: list[str]):
        counted = super().__new__(cls, value)
        counted.seen = seen
        return counted

    def __add__(self, other):
        self.seen.append("walk")
        return int(self) + other


def test_a_build_defers_reclaiming_deleted_rows_until_a_quarter_of_the_stored_rows_are(tmp_path):
    """Each checkpoint of a re-run rewrote the last row group of every table it appended to (DuckDB's
    vacuum), 1.4 s of a re-run with 1 % of 2,400 companies changed. Deleted rows now wait, hidden from
    every query, until a quarter of the stored rows are deleted ones; that build reclaims them."""
    database = tmp_path / "capexwatch.duckdb"
    with publish.private_build(database) as build:  # ten groups of rows; each build below replaces one
        build.conn.execute("create table core_t as select range as x, range % 10 as grp, repeat('x', 40) || range as s "
                           "from range(600000)")
        build.conn.execute('create table "kept ""as is""" as select range as x from range(200000)')  # a name to quote
    seen = []
    for group in range(7):
        with publish.private_build(database) as build:
            vacuum = build.conn.execute("select current_setting('max_vacuum_tasks')").fetchone()[0]
            build.conn.execute(f"create temp table replaced as select * from core_t where grp = {group}")
            build.conn.execute(f"delete from core_t where grp = {group}")
            build.conn.execute("insert into core_t select * from replaced")
        record = publish.read_record(database)
        seen.append((record.deleted_rows, record.compacted, vacuum))
        with duckdb.connect(str(database), read_only=True) as conn:  # whatever is deferred, the rows are all there
            assert conn.execute("select count(*), sum(x), count(distinct s) from core_t").fetchone() == \
                   (600000, 599999 * 600000 // 2, 600000)
    shares = [deleted for deleted, _, _ in seen]
    assert shares[:5] == sorted(shares[:5]) and shares[0] == 0 and 0.2 < shares[3] < 0.25 <= shares[4]
    assert [compacted for _, compacted, _ in seen] == [False] * 4 + [True] + [False] * 2
    assert [vacuum for _, _, vacuum in seen] == [0] * 4 + [100] + [0] * 2
    assert shares[5] < 0.05  # reclaimed by the build that compacted
