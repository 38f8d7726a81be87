"""Guards for reading a response from a server that is not trusted: an overall deadline per
request (requests' timeout bounds each read only) and a cap on the body that holds after
gzip/deflate decoding. Transport-level, nothing SEC-specific; the SEC client maps the errors."""

from __future__ import annotations

import socket
import threading
import zlib
from typing import Any, Callable

import requests
import urllib3
from requests_ratelimiter import LimiterAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MIB = 1 << 20
CHUNK_BYTES = MIB
_ZLIB_WBITS = {"": None, "identity": None, "gzip": 31, "x-gzip": 31, "deflate": 15}  # 31: gzip header


class BodyRefused(RuntimeError):
    """The body is over the cap or in an encoding we did not ask for: refused, not retried."""


class BodyCutShort(RuntimeError):
    """A compressed body ended before its end marker: a transport failure, worth a retry."""


class Deadline:
    """Shuts down the socket of the request in flight once `seconds` have passed. requests' timeout
    bounds each read, so a server sending a byte every few seconds could otherwise hold a request
    for ever; a shut-down socket makes the blocked read return at once, in headers or body."""

    _current = threading.local()  # the deadline of the request this thread is making

    def __init__(self, seconds: float):
        self.seconds, self.expired, self._done = seconds, False, False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "Deadline":
        Deadline._current.value = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._done, self._sock = True, None
        Deadline._current.value = None

    @classmethod
    def watch(cls, sock: socket.socket | None) -> None:
        """Called by the connection that is about to wait for a response."""
        deadline = getattr(cls._current, "value", None)
        if deadline is None or not isinstance(sock, socket.socket):
            return
        with deadline._lock:
            deadline._sock = sock
            if deadline.expired:
                _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            if self._sock is not None:
                _shutdown(self._sock)


def _shutdown(sock: socket.socket) -> None:
    try:  # the plain socket's shutdown: SSLSocket's own also drops its TLS state, which the read still uses
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _Watched:
    """Hands the connection's socket to the current request's deadline before waiting for headers."""

    sock: socket.socket | None

    def getresponse(self) -> urllib3.response.HTTPResponse:
        Deadline.watch(self.sock)
        return super().getresponse()  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class DeadlineAdapter(LimiterAdapter):
    """requests-ratelimiter's adapter (the 10/s limit) whose connections report to the deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


class Inflater:
    """Decodes gzip/deflate as the raw bytes arrive and never produces more than `cap` bytes: a
    1 MB gzip body can hold 1 GB of zeros, which must stop at the cap and not in memory."""

    def __init__(self, encoding: str, cap: int, sink: Callable[[bytes], object]):
        encoding = encoding.strip().lower()
        if encoding not in _ZLIB_WBITS:
            raise BodyRefused(f"unsupported Content-Encoding {encoding[:40]!r} (asked for gzip or deflate)")
        self.cap, self.sink, self.size = cap, sink, 0
        self._wbits = _ZLIB_WBITS[encoding]
        self._zlib = zlib.decompressobj(self._wbits) if self._wbits else None
        self._fed = self._pending = False

    def feed(self, data: bytes) -> None:
        self._fed = self._fed or bool(data)
        if self._zlib is None:
            return self._emit(data)
        while data or self._pending:
            if self._zlib.eof:  # a gzip body may be several members one after another
                self._zlib = zlib.decompressobj(self._wbits)
            # a chunk at a time (zlib holds twice its output while joining it), one byte over the cap at most
            room = min(CHUNK_BYTES, self.cap - self.size + 1)
            out = self._zlib.decompress(data, room)
            self._emit(out)
            self._pending = len(out) == room and not self._zlib.eof  # zlib may hold more output
            data = self._zlib.unused_data if self._zlib.eof else self._zlib.unconsumed_tail

    def finish(self) -> None:
        if self._zlib is not None and self._fed and not self._zlib.eof:
            raise BodyCutShort("compressed body ends before its end marker")

    def _emit(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.cap:
            raise BodyRefused(f"response larger than {self.cap / MIB:g} MiB, the cap for one response; refused")
        self.sink(chunk)


def read_body(resp: requests.Response, cap: int, sink: Callable[[bytes], object]) -> None:
    """The body as sent (decode_content=False), decompressed here under the cap, chunk by chunk."""
    length = resp.headers.get("Content-Length", "").strip()
    if length.isdigit() and int(length) > cap:
        raise BodyRefused(f"Content-Length {length} is over {cap / MIB:g} MiB, the cap for one response; refused")
    inflater = Inflater(resp.headers.get("Content-Encoding", ""), cap, sink)
    for chunk in resp.raw.stream(CHUNK_BYTES, decode_content=False):
        inflater.feed(chunk)
    inflater.finish()
