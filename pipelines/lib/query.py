"""Ad-hoc SQL on the warehouse, read-only, and the formats results are printed in."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from tabulate import tabulate

from pipelines.lib import warehouse

FORMATS = ("table", "csv", "json", "markdown")


class QueryError(ValueError):
    """The warehouse is missing, or DuckDB refused the statement; one line says which."""


def read_only(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.is_file():
        raise QueryError(f"no warehouse at {path}: run `capexwatch refresh` first")
    return warehouse.connect(path, read_only=True)


def run(path: Path, sql: str, params: list | dict | None = None) -> pd.DataFrame:
    """The result of one statement; writes fail, the connection being read-only."""
    conn = read_only(path)
    try:
        return conn.execute(sql, params).df()
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {first_line(exc)}") from exc
    finally:
        conn.close()


def first_line(exc: Exception) -> str:
    return " ".join(str(exc).strip().splitlines()[:1]) or type(exc).__name__


def render(frame: pd.DataFrame, fmt: str) -> str:
    if fmt == "json":
        return frame.to_json(orient="records", date_format="iso", indent=1)
    if fmt == "csv":
        return frame.map(_join_lists).to_csv(index=False).rstrip("\n")
    readable = frame.map(lambda value: _readable(_join_lists(value)))
    style = "github" if fmt == "markdown" else "simple"
    return tabulate(readable, headers="keys", tablefmt=style, showindex=False, disable_numparse=True)


def _join_lists(value: object) -> object:
    """DuckDB lists arrive as arrays; in a table cell or CSV field they read as 'a; b'."""
    return "; ".join(map(str, value)) if isinstance(value, (list, tuple, np.ndarray)) else value


def _readable(value: object) -> str:
    """Amounts with thousands separators, ratios with four significant digits, nulls empty."""
    if pd.isna(value):
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    return str(value)
