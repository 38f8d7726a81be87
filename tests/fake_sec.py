"""A local stand-in for SEC's servers: serves the snapshot in SEC's URL layout, with faults on demand.

Bound to 127.0.0.1 on a free port, started and stopped by the test; it records every request.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipelines.lib.settings import SNAPSHOT_DIR

SNAPSHOT_DATA = SNAPSHOT_DIR / "data.sec.gov"


@dataclass
class Fault:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # None: the real file (for a truncated or stalled answer)
    truncate: bool = False  # announce the full length, send half of it
    reset: bool = False  # close the connection without answering
    stall: float = 0.0  # seconds to wait before answering


@dataclass
class Seen:
    path: str
    user_agent: str | None
    headers: dict[str, str]
    at: float


class FakeSec:
    def __init__(self, root: Path = SNAPSHOT_DATA):
        self.root = root
        self.faults: list[Fault] = []  # served first, one per request
        self.faults_for: dict[str, list[Fault]] = {}  # by request path, before the general queue
        self.requests: list[Seen] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "FakeSec":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                fake.requests.append(Seen(self.path, self.headers.get("User-Agent"), dict(self.headers), time.monotonic()))
                if not self.headers.get("User-Agent") or "python-requests" in self.headers["User-Agent"]:
                    return self._send(403, b"<html>Undeclared Automated Tool</html>")
                path = fake.root / self.path.lstrip("/")
                queue = fake.faults_for.get(self.path) or fake.faults
                if queue:
                    fault = queue.pop(0)
                    if fault.reset:
                        self.close_connection = True
                        return self.connection.shutdown(socket.SHUT_RDWR)
                    time.sleep(fault.stall)
                    body = fault.body if fault.body is not None else path.read_bytes()
                    return self._send(fault.status, body, fault.headers, fault.truncate)
                if not path.is_file():
                    return self._send(404, b"<html>Not Found</html>")
                body = path.read_bytes()
                etag = f'"{len(body)}"'
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", {"ETag": etag})
                self._send(200, body, {"ETag": etag, "Content-Type": "application/json"})

            def _send(self, status: int, body: bytes, headers: dict | None = None, truncate: bool = False) -> None:
                try:
                    self._write(status, body, headers, truncate)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout): nothing more to say

            def _write(self, status: int, body: bytes, headers: dict | None, truncate: bool) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if truncate else body)
                if truncate:
                    self.close_connection = True

        return Handler
