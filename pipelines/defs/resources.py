"""Dagster resources for the two kinds of I/O: SEC (live or the offline snapshot) and DuckDB."""

import dataclasses
import datetime as dt
import functools
import json
from contextlib import contextmanager
from pathlib import Path
from typing import ContextManager, Iterator

import dagster as dg
import duckdb
import pydantic

from pipelines.lib import (companyfacts, documents, fact_partitions, publish, settings as settings_lib, submissions,
                           universe, warehouse)
from pipelines.lib.raw_store import LiveSource, NoOfflineData, RawFile, RawStore, SnapshotSource, Source, url_to_relpath
from pipelines.lib.sec_client import SecClient, SecNotFound, user_agent_receivers


@functools.lru_cache(maxsize=None)
def shared_client(user_agent: str, max_per_second: float, timeout: float, max_attempts: int,
                  allowed_hosts: tuple[str, ...]) -> SecClient:
    """One client per process (and setting), so every request of a run shares one rate limiter.
    allowed_hosts: where the User-Agent may go (SEC's hosts, or the base URLs a test points at)."""
    return SecClient(user_agent, max_per_second=max_per_second, timeout=timeout, max_attempts=max_attempts,
                     allowed_hosts=allowed_hosts)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse; by default warehouse/capexwatch.duckdb (CAPEXWATCH_WAREHOUSE_DIR moves it).

    It hands out no write access to the published file: writes happen only inside `build()`, on a
    private copy that is published whole (pipelines/lib/publish.py), whatever started the build."""

    database_path: str | None = None
    build_wait_seconds: float = 600.0  # how long a build waits for another build of the same warehouse
    rebuild: bool = False  # start from nothing and reload every stored partition (an unreadable file always is)

    def path(self) -> Path:
        return Path(self.database_path) if self.database_path else settings_lib.load_settings().database_path

    def build(self) -> ContextManager[publish.PrivateBuild]:
        return publish.private_build(self.path(), self.build_wait_seconds, self.rebuild)

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the published state."""
        conn = warehouse.connect(self.path(), read_only=True)
        try:
            yield conn
        finally:
            conn.close()


class SecResource(dg.ConfigurableResource):
    """SEC EDGAR, live (declared User-Agent, <= 10 req/s) or from the project's offline snapshot.

    Unset fields come from the environment (see pipelines/lib/settings.py): offline unless
    SEC_USER_AGENT is set. Base URLs are configurable so tests can point at a local server.
    The User-Agent is read only from SEC_USER_AGENT, never config: config is stored with every run.
    """

    mode: str | None = None
    warehouse_dir: str | None = None
    snapshot_dir: str | None = None
    tickers: list[str] | None = None  # tickers or CIKs; unset: CAPEXWATCH_UNIVERSE or the default
    partitions_url: str | None = None  # Parquet partitions: a folder or s3://...; unset: the warehouse folder
    data_url: str = "https://data.sec.gov"
    www_url: str = "https://www.sec.gov"
    max_requests_per_second: float = 10.0
    timeout_seconds: float = 30.0
    max_attempts: int = 5
    filing_years: int = 3  # live: how many years of 10-K/10-Q documents to fetch

    def settings(self) -> settings_lib.Settings:
        base = settings_lib.load_settings()
        overrides = {
            "mode": self.mode,
            "warehouse_dir": Path(self.warehouse_dir) if self.warehouse_dir else None,
            "snapshot_dir": Path(self.snapshot_dir) if self.snapshot_dir else None,
            "universe": tuple(self.tickers) if self.tickers else None,
            "partitions_url": self.partitions_url,
        }
        resolved = dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})
        if resolved.mode == "offline":
            settings_lib.require_snapshot(resolved.snapshot_dir)
        if resolved.mode == "live":
            resolved = dataclasses.replace(resolved, user_agent=settings_lib.validate_user_agent(resolved.user_agent))
        return resolved

    @pydantic.model_validator(mode="before")
    @classmethod
    def _no_user_agent(cls, fields: object) -> object:
        """Refused, not ignored as pydantic would; a TypeError so that pydantic does not echo the value."""
        if isinstance(fields, dict) and "user_agent" in fields:
            raise TypeError("SecResource takes no user_agent: set SEC_USER_AGENT in the environment "
                            "(config is stored in Dagster's run records)")
        return fields

    def source(self) -> Source:
        current = self.settings()
        if current.mode == "live":
            return LiveSource(shared_client(current.user_agent, self.max_requests_per_second, self.timeout_seconds,
                                            self.max_attempts, user_agent_receivers(self.data_url, self.www_url)))
        return SnapshotSource(current.snapshot_dir)

    def raw_store(self) -> RawStore:
        current = self.settings()
        return RawStore(current.raw_dir, current.shared_raw_zone())

    def companyfacts_url(self, cik: str) -> str:
        return f"{self.data_url}/api/xbrl/companyfacts/CIK{cik}.json"

    def land_companyfacts(self, cik: str) -> tuple[RawFile | None, str]:
        """Fetch one company's companyfacts into the raw zone; (None, why) when there is no copy.

        Offline, a copy fetched by an earlier live run is used when the snapshot has none, once it
        has passed its sha256 check (RawFileCorrupt otherwise).
        """
        store, url = self.raw_store(), self.companyfacts_url(cik)
        try:
            raw = store.land(url, self.source(), lambda content: companyfacts.validate(content, cik))
            return raw, f"{raw.meta.source}, sha256 {raw.meta.sha256[:12]}"
        except NoOfflineData:
            stored = store.verified(url)
            if stored is None:
                return None, "no offline data"
            return stored, f"offline: raw copy fetched {stored.meta.fetched_at}"

    def submissions_url(self, cik: str) -> str:
        return f"{self.data_url}/submissions/CIK{cik}.json"

    def discover_filings(self, cik: str) -> list[submissions.Filing]:
        """A company's 10-K/10-Q filings, newest first: live from SEC's submissions feed (and its
        paged older files while they reach into the window), offline from the snapshot's index."""
        current = self.settings()
        if current.mode == "offline":
            return submissions.offline_filings(current.snapshot_dir / "filings.csv", cik, self._snapshot_feed(cik))
        since = (dt.date.today() - dt.timedelta(days=366 * self.filing_years)).isoformat()
        validate = functools.partial(submissions.validate, cik=cik)
        feed = self._feed(cik)
        filings = submissions.periodic_filings(feed)
        for page in submissions.page_names(feed):
            if filings and min(f.filed or "" for f in filings) <= since:
                break
            url = f"{self.data_url}/submissions/{page}"
            filings += submissions.periodic_filings(
                self.raw_store().land(url, self.source(), validate).path.read_bytes()
            )
        return [f for f in filings if (f.filed or "") >= since]

    def _feed(self, cik: str) -> bytes:
        return self.raw_store().land(self.submissions_url(cik), self.source(),
                                     functools.partial(submissions.validate, cik=cik)).path.read_bytes()

    def stored_feed(self, cik: str) -> bytes | None:
        """The company's submissions feed as it landed when its filings were discovered (live: SEC's;
        offline: the snapshot's, where it has one), or None."""
        raw = self.raw_store().verified(self.submissions_url(cik))
        return raw.path.read_bytes() if raw else None

    def _snapshot_feed(self, cik: str) -> bytes | None:
        """The snapshot's copy of the company's submissions feed, if it has one (Microsoft's)."""
        try:
            return self._feed(cik)
        except NoOfflineData:
            return None

    def land_filing_document(self, cik: str, filing: submissions.Filing) -> RawFile:
        """The XBRL document of a filing (inline, or an instance .xml), refused unless it is that
        filing's complete document (this CIK, and the feed's report date when it gives one)."""
        url = filing.url(self.www_url, cik)
        return self.raw_store().land(url, self.source(), lambda content: documents.validate(
            content, filing.primary_document, cik, filing.report_date or None, f"{filing.form} {filing.accn}"))

    def known_companies(self) -> list[universe.Company]:
        if self.settings().mode == "offline":
            return universe.bundled_map()
        url = self.www_url + universe.COMPANY_TICKERS_PATH
        raw = self.raw_store().land(url, self.source(), universe.parse_company_tickers)
        return universe.parse_company_tickers(raw.path.read_bytes()) + universe.bundled_map()

    def resolve_universe(self) -> list[universe.Company]:
        """The configured companies; a CIK outside the ticker map joins only once confirmed."""
        items = self.settings().universe or universe.default_universe()
        known = self.known_companies()
        mapped = {company.cik for company in known}
        return [c if c.cik in mapped or self._stored(c.cik) else self.confirm_filer(c.cik)
                for c in universe.resolve(items, known)]

    def _stored(self, cik: str) -> bool:
        """Confirmed when it was first added (the sensors resolve the universe every minute)."""
        record = fact_partitions.read_record(self.settings().partition_store("facts_parquet"), cik)
        return record is not None and record.get("status") != fact_partitions.REMOVED

    def confirm_filer(self, cik: str) -> universe.Company:
        """A CIK the ticker map does not know, checked before anything is stored for it: live, SEC
        must have its submissions (which name it); offline, the snapshot or an earlier live run
        must hold its data."""
        current = self.settings()
        if current.mode == "offline":
            snapshot_facts = current.snapshot_dir / url_to_relpath(self.companyfacts_url(cik))
            if snapshot_facts.is_file() or self.raw_store().read_meta(self.companyfacts_url(cik)) \
                    or self.discover_filings(cik):
                return universe.Company("", cik, f"CIK {cik}")
            raise universe.UnknownCompany(
                f"CIK {cik} is not in the ticker map and the offline snapshot holds nothing for it: check the "
                "number (EDGAR's company search shows every filer's CIK), or refresh it with --mode live")
        try:
            feed = json.loads(self._feed(cik))
        except SecNotFound as exc:
            raise universe.UnknownCompany(f"CIK {cik} is not an SEC filer: SEC has no submissions for it "
                                          "(HTTP 404); check the number") from exc
        return universe.Company("", cik, str(feed.get("name") or f"CIK {cik}"))
