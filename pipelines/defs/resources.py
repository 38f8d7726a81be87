"""Dagster resources for the two kinds of I/O: SEC (live or the offline snapshot) and DuckDB."""

import dataclasses
import functools
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

from pipelines.lib import companyfacts, settings as settings_lib, universe, warehouse
from pipelines.lib.raw_store import LiveSource, NoOfflineData, RawFile, RawStore, SnapshotSource, Source
from pipelines.lib.sec_client import SecClient


@functools.lru_cache(maxsize=None)
def shared_client(user_agent: str, max_per_second: float) -> SecClient:
    """One client per process, so every request of a run shares one rate limiter."""
    return SecClient(user_agent, max_per_second=max_per_second)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse; by default warehouse/capexwatch.duckdb (CAPEXWATCH_WAREHOUSE_DIR moves it)."""

    database_path: str | None = None

    def path(self) -> Path:
        return Path(self.database_path) if self.database_path else settings_lib.load_settings().database_path

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        conn = warehouse.connect(self.path(), read_only=read_only)
        try:
            yield conn
        finally:
            conn.close()


class SecResource(dg.ConfigurableResource):
    """SEC EDGAR, live (declared User-Agent, <= 10 req/s) or from the project's offline snapshot.

    Unset fields come from the environment (see pipelines/lib/settings.py): offline unless
    SEC_USER_AGENT is set. Base URLs are configurable so tests can point at a local server.
    """

    mode: str | None = None
    user_agent: str | None = None
    warehouse_dir: str | None = None
    snapshot_dir: str | None = None
    tickers: list[str] | None = None  # tickers or CIKs; unset: CAPEXWATCH_UNIVERSE or the default
    data_url: str = "https://data.sec.gov"
    www_url: str = "https://www.sec.gov"
    max_requests_per_second: float = 10.0

    def settings(self) -> settings_lib.Settings:
        base = settings_lib.load_settings()
        overrides = {
            "mode": self.mode,
            "user_agent": self.user_agent,
            "warehouse_dir": Path(self.warehouse_dir) if self.warehouse_dir else None,
            "snapshot_dir": Path(self.snapshot_dir) if self.snapshot_dir else None,
            "universe": tuple(self.tickers) if self.tickers else None,
        }
        resolved = dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})
        if resolved.mode == "live":
            settings_lib.validate_user_agent(resolved.user_agent)
        return resolved

    def source(self) -> Source:
        current = self.settings()
        if current.mode == "live":
            return LiveSource(shared_client(current.user_agent, self.max_requests_per_second))
        return SnapshotSource(current.snapshot_dir)

    def raw_store(self) -> RawStore:
        return RawStore(self.settings().raw_dir)

    def companyfacts_url(self, cik: str) -> str:
        return f"{self.data_url}/api/xbrl/companyfacts/CIK{cik}.json"

    def land_companyfacts(self, cik: str) -> tuple[RawFile | None, str]:
        """Fetch one company's companyfacts into the raw zone; (None, why) when there is no copy.

        Offline, a copy fetched by an earlier live run is used when the snapshot has none.
        """
        store, url = self.raw_store(), self.companyfacts_url(cik)
        try:
            raw = store.land(url, self.source(), companyfacts.validate)
            return raw, f"{raw.meta.source}, sha256 {raw.meta.sha256[:12]}"
        except NoOfflineData:
            cached = store.read_meta(url)
            if cached is None:
                return None, "no offline data"
            return RawFile(store.path_for(url), cached, changed=False), f"offline: raw copy fetched {cached.fetched_at}"

    def known_companies(self) -> list[universe.Company]:
        if self.settings().mode == "offline":
            return universe.bundled_map()
        url = self.www_url + universe.COMPANY_TICKERS_PATH
        raw = self.raw_store().land(url, self.source(), universe.parse_company_tickers)
        return universe.parse_company_tickers(raw.path.read_bytes()) + universe.bundled_map()

    def resolve_universe(self) -> list[universe.Company]:
        items = self.settings().universe or universe.default_universe()
        return universe.resolve(items, self.known_companies())


def submissions_url(sec: SecResource, cik: str) -> str:
    return f"{sec.data_url}/submissions/CIK{cik}.json"
