"""HTTP client for SEC EDGAR: declared User-Agent, <= 10 requests/s, retries on 429/5xx.

Every attempt (retries and redirect hops included) passes through the rate limiter, so a burst of
failures can never push the request rate above SEC's published limit. The network is not trusted
further than that: each request has an overall deadline however slowly the server sends, a
response may not grow past a size cap once decompressed, and the User-Agent is sent to SEC's own
hosts only, redirects included.
"""

from __future__ import annotations

import email.utils
import io
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import tenacity
import urllib3

from pipelines.lib.http_guards import MIB, BodyCutShort, BodyRefused, Deadline, DeadlineAdapter, read_body
from pipelines.lib.settings import ConfigError, validate_user_agent

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SEC_MAX_REQUESTS_PER_SECOND = 10
SEC_HOSTS = ("https://www.sec.gov", "https://data.sec.gov", "https://sec.gov")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_REDIRECTS = 5
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                     urllib3.exceptions.HTTPError)


class SecError(RuntimeError):
    """A request to SEC failed for good; the message names the URL and the cause."""


class SecNotFound(SecError):
    """404: the URL (usually the CIK in it) does not exist at SEC."""


class SecAccessDenied(SecError):
    """403: SEC refused the request, in practice for a missing or undeclared User-Agent."""


class _Retryable(Exception):
    def __init__(self, url: str, status: int | None, retry_after: float | None, cause: str):
        super().__init__(f"{url}: {cause}")
        self.url, self.status, self.retry_after, self.cause = url, status, retry_after, cause


@dataclass(frozen=True)
class Response:
    url: str
    status: int  # 200, or 304 when a conditional request found nothing new
    content: bytes
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class _Limits:
    deadline: float  # seconds for one attempt: every redirect hop, headers and body
    max_bytes: int  # of the decompressed body


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After is either seconds or an HTTP date; both mean 'wait this long'."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the scheme's default port filled in: what 'the same server' means."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:  # a port that is not a number
        port = -1
    return scheme, parts.hostname or "", port


def user_agent_receivers(*base_urls: str) -> tuple[str, ...]:
    """Where the User-Agent may go: SEC's hosts, and configured base URLs only if they are SEC's or on
    this machine (a stand-in server, as the tests use). Run config can be edited by whoever launches
    a run; a base URL elsewhere would carry the User-Agent there, so it is refused."""
    sec = {origin(host) for host in SEC_HOSTS}
    for url in base_urls:
        if origin(url) not in sec and urlsplit(url).hostname not in LOOPBACK_HOSTS:
            raise ConfigError(f"base URL {_shown(url)} is neither SEC nor this machine; refused, since the "
                              "User-Agent would be sent there (leave data_url and www_url at their defaults)")
    return (*SEC_HOSTS, *base_urls)


class SecClient:
    def __init__(
        self,
        user_agent: str,
        max_per_second: float = SEC_MAX_REQUESTS_PER_SECOND,
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_wait: float = 60.0,
        deadline: float = 120.0,
        max_bytes: int = 256 * MIB,
        download_deadline: float = 3600.0,
        max_download_bytes: int = 16 * 1024 * MIB,
        allowed_hosts: tuple[str, ...] = SEC_HOSTS,
    ):
        """timeout bounds each read; deadline one whole attempt; max_bytes the decompressed body.
        download_* are the same for `download` (the bulk archive, about 1.3 GB); allowed_hosts are
        the scheme://host[:port] the User-Agent may be sent to, the first URL and every redirect."""
        self.user_agent = validate_user_agent(user_agent)
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.get_limits = _Limits(deadline, max_bytes)
        self.download_limits = _Limits(download_deadline, max_download_bytes)
        self.allowed_hosts = frozenset(origin(host) for host in allowed_hosts)
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"})
        # One bucket for all SEC hosts: the 10/s limit is per client, not per host.
        adapter = DeadlineAdapter(
            per_second=min(max_per_second, SEC_MAX_REQUESTS_PER_SECOND),
            per_host=False,
            bucket_name="sec",
            limit_statuses=(),
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Response:
        """GET with retries; conditional when etag/last_modified of a cached copy are given."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._with_retries(url, headers, self.get_limits)

    def download(self, url: str, target: Path) -> None:
        """Stream a large file (the bulk archive) to target, through the same limiter and retries."""
        self._with_retries(url, {}, self.download_limits, target)

    def _with_retries(self, url: str, headers: dict[str, str], limits: _Limits, target: Path | None = None) -> Response:
        if origin(url) not in self.allowed_hosts:
            raise SecError(f"GET {url}: {_shown(url)} is not SEC; not requested (the User-Agent goes only to SEC)")
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self._wait,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, headers, limits, target)
        except _Retryable as exc:
            raise SecError(f"GET {url} failed after {self.max_attempts} attempts: {exc.cause}") from exc

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_wait)
        return tenacity.wait_exponential_jitter(initial=0.5, max=self.max_wait)(state)

    def _attempt(self, url: str, headers: dict[str, str], limits: _Limits, target: Path | None) -> Response:
        """One attempt within its deadline; a transport failure (or the deadline) is retried."""
        deadline, overrun = Deadline(limits.deadline), f"no complete response within {limits.deadline:g} s"
        try:
            with deadline:
                response = self._follow(url, headers, limits, target)
        except _TRANSPORT_ERRORS as exc:
            # ChunkedEncodingError/ProtocolError is also how a body shorter than its Content-Length shows up.
            raise _Retryable(url, None, None, overrun if deadline.expired else f"{type(exc).__name__}: {exc}") from exc
        except zlib.error as exc:
            raise _Retryable(url, None, None, f"corrupt compressed body ({exc})") from exc
        except BodyCutShort as exc:
            raise _Retryable(url, None, None, str(exc)) from exc
        except BodyRefused as exc:
            raise SecError(f"GET {url}: {exc}") from exc
        if deadline.expired:  # a cut status line reads as "HTTP/1.1 200 OK" with an empty body
            raise _Retryable(url, None, None, overrun)
        return response

    def _follow(self, url: str, headers: dict[str, str], limits: _Limits, target: Path | None) -> Response:
        """Redirects followed here, not by requests, so each hop is checked (SEC only) and limited."""
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            with self.session.get(current, headers=headers, timeout=self.timeout, stream=True,
                                  allow_redirects=False) as resp:
                if not resp.is_redirect:
                    return self._response(url, resp, limits, target)
                current = urljoin(current, resp.headers["Location"])
            if origin(current) not in self.allowed_hosts:
                raise SecError(f"GET {url}: redirected to {_shown(current)}, which is not SEC; not followed "
                               "(the User-Agent goes only to SEC)")
        raise SecError(f"GET {url}: more than {MAX_REDIRECTS} redirects; not followed")

    def _response(self, url: str, resp: requests.Response, limits: _Limits, target: Path | None) -> Response:
        if resp.status_code in RETRY_STATUSES:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            raise _Retryable(url, resp.status_code, retry_after, f"HTTP {resp.status_code}")
        if resp.status_code == 403:
            # the User-Agent itself stays out of the message: messages end up in logs
            raise SecAccessDenied(
                f"GET {url}: HTTP 403 from SEC; SEC refuses clients without a declared "
                "User-Agent 'Name email': check SEC_USER_AGENT"
            )
        if resp.status_code == 404:
            raise SecNotFound(f"GET {url}: HTTP 404, no such document at SEC (unknown CIK or accession?)")
        if resp.status_code not in (200, 304):
            raise SecError(f"GET {url}: unexpected HTTP {resp.status_code}")
        content = b""
        if resp.status_code == 200 and target is not None:
            with target.open("wb") as handle:
                read_body(resp, limits.max_bytes, handle.write)
        elif resp.status_code == 200:
            buffer = io.BytesIO()
            read_body(resp, limits.max_bytes, buffer.write)
            content = buffer.getvalue()  # no copy: BytesIO hands over its buffer
        return Response(url=url, status=resp.status_code, content=content, etag=resp.headers.get("ETag"),
                        last_modified=resp.headers.get("Last-Modified"))


def _shown(url: str) -> str:
    """scheme://host[:port] of url, for messages (never a userinfo part)."""
    scheme, host, port = origin(url)
    return f"{scheme}://{host}" + ("" if port == _DEFAULT_PORTS.get(scheme) else f":{port}")
