"""The one place that decides the environment: offline or live, and where files live.

Read when a resource or the CLI is built, never at import time, so tests can point
everything at a temporary directory through the environment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.lib.partition_store import PartitionStore

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = PACKAGE_DIR.parent
SNAPSHOT_DIR = PACKAGE_DIR / "snapshot"
SQL_DIR = PROJECT_DIR / "sql"
CONCEPTS_FILE = PACKAGE_DIR / "concepts.yaml"
COMPANIES_FILE = PACKAGE_DIR / "reference" / "companies.csv"
CLOUD_SEGMENTS_FILE = PACKAGE_DIR / "reference" / "cloud_segments.csv"
REPORTED_MEASURES_FILE = PACKAGE_DIR / "reference" / "reported_measures.csv"
METRIC_DEFINITIONS_FILE = PACKAGE_DIR / "reference" / "metric_definitions.csv"
COLUMN_DEFINITIONS_FILE = PACKAGE_DIR / "reference" / "column_definitions.csv"

# SEC asks automated clients to declare who they are: "Sample Company admin@example.com".
_USER_AGENT_SHAPE = re.compile(r"\S.*\s+\S+@\S+\.\S+")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    mode: str  # "offline" | "live"
    user_agent: str | None = field(repr=False)  # an email address: kept out of logs and reprs
    warehouse_dir: Path
    snapshot_dir: Path
    universe: tuple[str, ...]  # tickers or CIKs as the user wrote them; empty = default
    partitions_url: str = ""  # folder or bucket (s3://...) for the Parquet partitions; "" = warehouse_dir

    @property
    def database_path(self) -> Path:
        return self.warehouse_dir / "capexwatch.duckdb"

    @property
    def raw_dir(self) -> Path:
        return self.warehouse_dir / "raw"

    def partition_store(self, name: str) -> PartitionStore:
        """facts_parquet (one file per company, from either path) or filings_parquet, on disk or in a bucket."""
        return PartitionStore(f"{(self.partitions_url or str(self.warehouse_dir)).rstrip('/')}/{name}")

    def shared_raw_zone(self) -> PartitionStore | None:
        """With partitions in a bucket the workers may share no disk, so the raw zone goes there too
        (raw/ beside the partitions) and raw_dir is each worker's cache; on disk, None."""
        store = self.partition_store("raw")
        return None if store.local else store


def validate_user_agent(user_agent: str | None) -> str:
    """Live mode must not send a single request without a declared "Name email". The value never
    appears in the message (it holds an email address, and messages end up in logs); a control
    character is refused outright, since CR/LF in a header would add headers of its own."""
    example = "set it to one line 'Name email', e.g. 'Jane Analyst jane@example.com'"
    if not user_agent or not user_agent.strip():
        raise ConfigError(f"live mode needs SEC_USER_AGENT, which is not set: {example}")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in user_agent):
        raise ConfigError(f"SEC_USER_AGENT contains a control character (a line break, tab or similar): {example}")
    if not user_agent.isascii():
        raise ConfigError(f"SEC_USER_AGENT contains a character outside ASCII, which an HTTP header cannot carry: "
                          f"{example}")
    if not _USER_AGENT_SHAPE.fullmatch(user_agent.strip()):
        raise ConfigError(f"SEC_USER_AGENT has no email address after the name: {example}")
    return user_agent.strip()


def require_snapshot(snapshot_dir: Path) -> Path:
    """An offline snapshot is a folder in SEC's URL layout with its filings index; anything else is a
    mistyped setting, said once, not a failure per company."""
    if not (snapshot_dir / "filings.csv").is_file():
        what = "does not exist" if not snapshot_dir.exists() else "has no filings.csv (not a capexwatch snapshot)"
        raise ConfigError(f"CAPEXWATCH_SNAPSHOT_DIR {snapshot_dir} {what}: point it at a snapshot folder "
                          f"such as {SNAPSHOT_DIR}, or unset it")
    return snapshot_dir


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from the environment: offline unless SEC_USER_AGENT is set."""
    env = dict(os.environ if env is None else env)
    declared = env.get("SEC_USER_AGENT") or ""
    user_agent = declared if declared.strip() else None  # blank is unset
    mode = (env.get("CAPEXWATCH_MODE") or ("live" if user_agent else "offline")).lower()
    if mode not in ("offline", "live"):
        raise ConfigError(f"CAPEXWATCH_MODE must be 'offline' or 'live', got {mode!r}")
    if mode == "live":
        user_agent = validate_user_agent(user_agent)
    universe = tuple(
        item.strip() for item in env.get("CAPEXWATCH_UNIVERSE", "").split(",") if item.strip()
    )
    return Settings(
        mode=mode,
        user_agent=user_agent,
        warehouse_dir=Path(env.get("CAPEXWATCH_WAREHOUSE_DIR") or PROJECT_DIR / "warehouse"),
        snapshot_dir=Path(env.get("CAPEXWATCH_SNAPSHOT_DIR") or SNAPSHOT_DIR),
        universe=universe,
        partitions_url=env.get("CAPEXWATCH_PARTITIONS_URL", ""),
    )
