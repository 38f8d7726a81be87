"""Where the per-company Parquet partitions live: a local folder, or object storage (s3://, gs://, ...).

Through fsspec, so the same code writes a partition to a disk or to a bucket, and DuckDB reads it
from either (the filesystem is registered with the connection). A file is written whole on local
disk first and then published in one step: a rename on disk, a single upload to a bucket (an
object appears complete or not at all), so no reader ever sees half a partition.
"""

from __future__ import annotations

import glob
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import fsspec
from fsspec.implementations.local import LocalFileSystem


class PartitionStore:
    """A folder or bucket prefix; paths below it are relative, like 'cik=0001652044/facts.parquet'."""

    def __init__(self, url: str | Path) -> None:
        self.url = str(url).rstrip("/")
        self.fs, _ = fsspec.core.url_to_fs(self.url)
        self.local = isinstance(self.fs, LocalFileSystem)

    def __repr__(self) -> str:
        return f"PartitionStore({self.url!r})"

    def child(self, name: str) -> PartitionStore:
        return PartitionStore(f"{self.url}/{name}")

    def path(self, relative: str) -> str:
        """What fsspec and DuckDB open: a local path, or a URL with its scheme."""
        return f"{self.url}/{relative}"

    @contextmanager
    def writing(self, relative: str) -> Iterator[Path]:
        """A local file to write; published at `relative` only if the block succeeds."""
        if self.local:
            target = Path(self.path(relative))
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(target.name + ".tmp")
            try:
                yield temporary
                temporary.replace(target)
            finally:
                temporary.unlink(missing_ok=True)
            return
        with tempfile.TemporaryDirectory(prefix="capexwatch-") as scratch:
            temporary = Path(scratch) / Path(relative).name
            yield temporary
            self.fs.put_file(str(temporary), self.path(relative))

    def write_bytes(self, relative: str, content: bytes) -> None:
        with self.writing(relative) as temporary:
            temporary.write_bytes(content)

    def read_bytes(self, relative: str) -> bytes | None:
        try:
            return self.fs.cat_file(self.path(relative))
        except FileNotFoundError:
            return None

    def delete(self, relative: str) -> None:
        """Remove a file, or a folder with what it holds, if it is there."""
        if self.fs.exists(self.path(relative)):
            self.fs.rm(self.path(relative), recursive=True)

    def exists(self, relative: str) -> bool:
        return self.fs.exists(self.path(relative))

    def glob(self, pattern: str) -> list[str]:
        """Matching files as openable paths, sorted; listings are read afresh each time. On disk through
        the standard library: ten times faster than fsspec's walk (0.12 s for 2,400 companies' records)."""
        if self.local:  # the store's own folder literally (it may hold '[' or '*'), the pattern as a pattern
            return sorted(glob.glob(f"{glob.escape(self.fs._strip_protocol(self.url))}/{pattern}"))
        self.fs.invalidate_cache()
        return sorted(self.fs.unstrip_protocol(path) for path in self.fs.glob(self.path(pattern)))

    def read_many(self, paths: list[str]) -> list[bytes]:
        """Several small files at once (concurrently on object storage)."""
        if not paths:
            return []
        content = self.fs.cat(paths)
        return [content[key] for key in sorted(content)]

    def attach(self, conn: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """Let DuckDB read this store's paths (local paths need nothing)."""
        if not self.local and not conn.filesystem_is_registered(self.fs.protocol if isinstance(self.fs.protocol, str)
                                                                  else self.fs.protocol[0]):
            conn.register_filesystem(self.fs)
        return conn
