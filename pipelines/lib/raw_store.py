"""Raw landing zone: SEC responses stored unchanged, mirrored by URL path, with a sidecar.

A file lands only after it has been validated, through a temp file and an atomic
rename, so a failed or truncated download never replaces the last good copy. A stored file is
checked against the sha256 its sidecar recorded before it is used again (`RawStore.verified`),
so a copy changed on disk is never taken for what SEC sent.

Where the workers share no disk (partitions in a bucket: a Dask cluster, pods without a shared
volume), the raw zone is kept in the bucket too and the local folder is each worker's cache: a
landed file is uploaded with its sidecar (the sidecar last, so a sidecar there means the file is
complete), and a worker that lacks the bucket's copy, or holds an older one, downloads it before
use and checks it against the bucket's sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol
from urllib.parse import urlsplit

from pipelines.lib import atomic
from pipelines.lib.partition_store import PartitionStore
from pipelines.lib.sec_client import Response, SecClient


class NoOfflineData(LookupError):
    """The offline snapshot has no copy of this URL."""


class InvalidResponse(ValueError):
    """What a URL returned is not what it should be (malformed JSON, an error page, cut short)."""


class RawFileCorrupt(ValueError):
    """A stored raw file no longer has the sha256 recorded when it landed (edited, bit rot, a bad copy)."""


class UnsafePath(ValueError):
    """A URL or stored path would lead outside the directory it must stay in."""


@dataclass(frozen=True)
class RawMeta:
    url: str
    sha256: str
    bytes: int
    fetched_at: str
    source: str  # "live" or "offline-snapshot"
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class RawFile:
    path: Path
    meta: RawMeta
    changed: bool  # False when the stored copy was re-used


class Source(Protocol):
    name: str

    def fetch(self, url: str, cached: RawMeta | None) -> Response: ...


def inside(root: Path, path: Path, what: str) -> Path:
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UnsafePath(f"{what}: resolves to {resolved}, outside {root}")
    return path


def url_to_relpath(url: str) -> Path:
    """https://data.sec.gov/api/x.json -> data.sec.gov/api/x.json (SEC's own layout)."""
    parts = urlsplit(url)
    return Path(parts.netloc) / parts.path.lstrip("/")


class LiveSource:
    name = "live"

    def __init__(self, client: SecClient):
        self.client = client

    def fetch(self, url: str, cached: RawMeta | None) -> Response:
        if cached is None:
            return self.client.get(url)
        return self.client.get(url, etag=cached.etag, last_modified=cached.last_modified)


class SnapshotSource:
    """Serves the project's copy of real SEC responses, laid out like SEC's URLs."""

    name = "offline-snapshot"

    def __init__(self, snapshot_dir: Path):
        self.snapshot_dir = snapshot_dir

    def fetch(self, url: str, cached: RawMeta | None) -> Response:
        path = inside(self.snapshot_dir, self.snapshot_dir / url_to_relpath(url), url)
        if not path.is_file():
            raise NoOfflineData(f"no offline data: the snapshot has no copy of {url}")
        return Response(url=url, status=200, content=path.read_bytes(), etag=None, last_modified=None)


class RawStore:
    def __init__(self, root: Path, shared: PartitionStore | None = None):
        self.root = root
        self.shared = shared  # the bucket's copy of the raw zone, when workers share no disk

    def relative(self, url: str) -> str:
        """url's key in the bucket: its local path below the raw zone, so the same '..' check holds."""
        return self.path_for(url).relative_to(self.root).as_posix()

    def path_for(self, url: str) -> Path:
        """Where url is stored; a URL whose path climbs out of the raw zone ('..') is refused."""
        return inside(self.root, self.root / url_to_relpath(url), url)

    def read_meta(self, url: str) -> RawMeta | None:
        meta_path = _meta_path(self.path_for(url))
        if not (meta_path.is_file() and self.path_for(url).is_file()):
            return None
        return RawMeta(**json.loads(meta_path.read_text()))

    def verified(self, url: str) -> RawFile | None:
        """The stored copy of url, after checking its bytes against the recorded sha256; None when
        there is none. Every re-use and every read-back for staging goes through here."""
        self._take_shared(url)
        meta = self.read_meta(url)
        if meta is None:
            return None
        path = self.path_for(url)
        with path.open("rb") as handle:
            actual = hashlib.file_digest(handle, "sha256").hexdigest()
        if actual != meta.sha256:
            raise RawFileCorrupt(
                f"stored raw file {path} is not the copy that landed: recorded sha256 {meta.sha256}, actual "
                f"{actual}; delete it and its {_meta_path(path).name}, or refresh live to fetch it again")
        return RawFile(path, meta, changed=False)

    def land(self, url: str, source: Source, validate: Callable[[bytes], object]) -> RawFile:
        """Fetch url through source, validate it, store it atomically; re-use if unchanged. A stored
        copy that fails its sha256 is fetched again unconditionally when live; offline it stops here."""
        path = self.path_for(url)
        try:
            stored = self.verified(url)
        except RawFileCorrupt:
            if not isinstance(source, LiveSource):
                raise
            stored = None  # no If-None-Match: SEC's 304 would keep the changed copy
        cached = stored.meta if stored else None
        response = source.fetch(url, cached)
        if response.status == 304 and cached is not None:
            return self._share(RawFile(path, cached, changed=False))
        try:
            validate(response.content)  # before anything is written
        except ValueError as exc:
            raise InvalidResponse(f"{url}: {exc}") from exc
        digest = hashlib.sha256(response.content).hexdigest()
        if cached is not None and cached.sha256 == digest:
            return self._share(RawFile(path, cached, changed=False))
        meta = RawMeta(
            url=url,
            sha256=digest,
            bytes=len(response.content),
            fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            source=source.name,
            etag=response.etag,
            last_modified=response.last_modified,
        )
        atomic.write_bytes(path, response.content)
        atomic.write_bytes(_meta_path(path), json.dumps(asdict(meta), indent=2).encode())
        return self._share(RawFile(path, meta, changed=True))

    def write_listing(self, relative: str, content: bytes) -> None:
        """A file of the project's own beside SEC's (a company's list of landed documents), shared
        like them."""
        path = inside(self.root, self.root / relative, relative)
        atomic.write_bytes(path, content)
        if self.shared is not None:
            self.shared.write_bytes(relative, content)

    def read_listing(self, relative: str) -> bytes | None:
        """The shared copy where there is one (another worker may have written it), else the local one,
        which is then shared (a listing written before the raw zone went to the bucket)."""
        if self.shared is not None and (content := self.shared.read_bytes(relative)) is not None:
            return content
        path = inside(self.root, self.root / relative, relative)
        if not path.is_file():
            return None
        content = path.read_bytes()
        if self.shared is not None:
            self.shared.write_bytes(relative, content)
        return content

    def _shared_meta(self, url: str) -> RawMeta | None:
        content = self.shared.read_bytes(_meta_path(Path(self.relative(url))).as_posix()) if self.shared else None
        return RawMeta(**json.loads(content)) if content else None

    def _share(self, raw: RawFile) -> RawFile:
        """Upload a landed file unless the bucket already has this version; the sidecar goes last."""
        if self.shared is not None and (shared := self._shared_meta(raw.meta.url)) != raw.meta:
            if shared is None or shared.sha256 != raw.meta.sha256:
                self.shared.fs.put_file(str(raw.path), self.shared.path(self.relative(raw.meta.url)))
            self.shared.write_bytes(_meta_path(Path(self.relative(raw.meta.url))).as_posix(),
                                    _meta_path(raw.path).read_bytes())
        return raw

    def _take_shared(self, url: str) -> None:
        """Bring the bucket's version of url into the local cache when the cache lacks it or holds
        another; a download that does not match the bucket's sha256 is refused, not cached."""
        shared = self._shared_meta(url)
        if shared is None or shared == self.read_meta(url):
            return
        content = self.shared.read_bytes(self.relative(url))
        actual = hashlib.sha256(content or b"").hexdigest()
        if actual != shared.sha256:
            raise RawFileCorrupt(f"the shared copy of {url} in {self.shared.url} is not the copy that landed: "
                                 f"recorded sha256 {shared.sha256}, actual {actual}; refresh it live to land it again")
        path = self.path_for(url)
        atomic.write_bytes(path, content)
        atomic.write_bytes(_meta_path(path), json.dumps(asdict(shared), indent=2).encode())


    def land_download(self, url: str, download: Callable[[Path], None], validate: Callable[[Path], object]) -> RawFile:
        """A file too large for memory (the bulk archive): streamed to a temp file, validated, renamed."""
        path = self.path_for(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.download")
        try:
            download(temporary)
            try:
                validate(temporary)
            except ValueError as exc:
                raise InvalidResponse(f"{url}: {exc}") from exc
            digest = hashlib.sha256()
            with temporary.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            meta = RawMeta(url=url, sha256=digest.hexdigest(), bytes=temporary.stat().st_size,
                           fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), source="live")
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        atomic.write_bytes(_meta_path(path), json.dumps(asdict(meta), indent=2).encode())
        return RawFile(path, meta, changed=True)


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")
