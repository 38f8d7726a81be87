"""HTTP client for SEC EDGAR: declared User-Agent, <= 10 requests/s, retries on 429/5xx.

Every attempt (retries included) passes through the rate limiter, so a burst of
failures can never push the request rate above SEC's published limit.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from pathlib import Path

import requests
import tenacity
from requests_ratelimiter import LimiterAdapter

from pipelines.lib.settings import validate_user_agent

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SEC_MAX_REQUESTS_PER_SECOND = 10


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


class SecClient:
    def __init__(
        self,
        user_agent: str,
        max_per_second: float = SEC_MAX_REQUESTS_PER_SECOND,
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_wait: float = 60.0,
    ):
        self.user_agent = validate_user_agent(user_agent)
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"})
        # One bucket for all SEC hosts: the 10/s limit is per client, not per host.
        adapter = LimiterAdapter(
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
        return self._with_retries(url, headers)

    def download(self, url: str, target: Path) -> None:
        """Stream a large file (the bulk archive) to target, through the same limiter and retries."""
        self._with_retries(url, {}, target)

    def _with_retries(self, url: str, headers: dict[str, str], target: Path | None = None) -> Response:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self._wait,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, headers, target)
        except _Retryable as exc:
            raise SecError(f"GET {url} failed after {self.max_attempts} attempts: {exc.cause}") from exc

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_wait)
        return tenacity.wait_exponential_jitter(initial=0.5, max=self.max_wait)(state)

    def _attempt(self, url: str, headers: dict[str, str], target: Path | None = None) -> Response:
        """One request; with a target, the body is streamed to that file instead of memory."""
        try:
            resp = self.session.get(url, headers=headers, timeout=self.timeout, stream=target is not None)
            if target is not None and resp.status_code == 200:
                with target.open("wb") as handle:
                    for chunk in resp.iter_content(chunk_size=1 << 20):
                        handle.write(chunk)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            # ChunkedEncodingError is also how a body shorter than its Content-Length shows up.
            raise _Retryable(url, None, None, f"{type(exc).__name__}: {exc}") from exc
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
        return Response(
            url=url,
            status=resp.status_code,
            content=resp.content if resp.status_code == 200 and target is None else b"",
            etag=resp.headers.get("ETag"),
            last_modified=resp.headers.get("Last-Modified"),
        )
