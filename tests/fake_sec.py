"""A local stand-in for SEC's servers: serves the snapshot in SEC's URL layout, with faults on demand.

Bound to 127.0.0.1 on a free port, started and stopped by the test; it records every request.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipelines.lib.settings import SNAPSHOT_DIR

SNAPSHOT_DATA = SNAPSHOT_DIR / "data.sec.gov"


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 and the certificate a client must trust (SEC is https)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key, name = ec.generate_private_key(ec.SECP256R1()), x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "fake-sec")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "fake-sec.pem", directory / "fake-sec.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes gzip-compressed (about size / 1000), built a MiB at a time, never held whole."""
    compressor, zeros = zlib.compressobj(9, zlib.DEFLATED, 31), bytes(1 << 20)
    parts = [compressor.compress(zeros) for _ in range(size >> 20)]
    return b"".join(parts) + compressor.compress(bytes(size % (1 << 20))) + compressor.flush()


@dataclass
class Fault:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # None: the real file (for a truncated or stalled answer)
    truncate: bool = False  # announce the full length, send half of it
    reset: bool = False  # close the connection without answering
    stall: float = 0.0  # seconds to wait before answering
    trickle: tuple[int, float] | None = None  # (bytes, seconds): the whole answer, headers too, this slowly


@dataclass
class Seen:
    path: str
    user_agent: str | None
    headers: dict[str, str]
    at: float


class FakeSec:
    def __init__(self, root: Path = SNAPSHOT_DATA, tls: ssl.SSLContext | None = None):
        self.root = root
        self.scheme = "https" if tls else "http"
        self.faults: list[Fault] = []  # served first, one per request
        self.faults_for: dict[str, list[Fault]] = {}  # by request path, before the general queue
        self.requests: list[Seen] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

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
                    if fault.trickle:
                        return self._trickle(fault.status, body, fault.headers, *fault.trickle)
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

            def _trickle(self, status: int, body: bytes, headers: dict, size: int, interval: float) -> None:
                """Each piece arrives well within any read timeout; the whole never does."""
                head = {**headers, "Content-Length": str(len(body))}
                data = (f"HTTP/1.1 {status} {self.responses[status][0]}\r\n"
                        + "".join(f"{name}: {value}\r\n" for name, value in head.items()) + "\r\n").encode() + body
                self.close_connection = True
                try:
                    for start in range(0, len(data), size):
                        self.wfile.write(data[start:start + size])
                        time.sleep(interval)
                except OSError:
                    pass  # the client gave up (its deadline)

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
