"""The SEC client and raw landing zone against a local server: User-Agent, retries, rate limit."""

from __future__ import annotations

import hashlib
import json

import pytest

import reliability_log
from fake_sec import Fault, FakeSec
from pipelines.defs.resources import SecResource
from pipelines.lib import companyfacts
from pipelines.lib.raw_store import InvalidResponse, LiveSource, RawStore
from pipelines.lib.sec_client import SecAccessDenied, SecClient, SecError, SecNotFound, parse_retry_after
from pipelines.lib.settings import ConfigError, load_settings

UA = "capexwatch tests tests@example.com"
GOOGL = "/api/xbrl/companyfacts/CIK0001652044.json"


def client(sec: FakeSec, **kwargs) -> SecClient:
    """A client that may talk to this stand-in (SEC's own hosts are the default)."""
    return SecClient(UA, max_wait=2.0, allowed_hosts=(sec.url,), **kwargs)


def test_live_client_refuses_to_start_without_a_user_agent():
    with FakeSec() as sec:
        for missing in (None, "", "no-email-here"):
            with pytest.raises(ConfigError, match="SEC_USER_AGENT"):
                SecClient(missing)
        assert sec.requests == []


MALFORMED_USER_AGENTS = {  # value -> what the message says is wrong
    "": "which is not set",
    "   ": "which is not set",
    "Sam Tester": "has no email address",
    "Sam Tester\r\nX-Injected: yes sam@corp.test": "contains a control character",
    "Sam Tester sam@corp.test\r\n": "contains a control character",
    "Sam\tTester sam@corp.test": "contains a control character",
    "Sam\x00Tester sam@corp.test": "contains a control character",
    "Sam\x7fTester sam@corp.test": "contains a control character",
    "Sam \u540d\u524d Tester sam@corp.test": "outside ASCII",  # a header cannot carry it
}


def test_a_malformed_user_agent_is_refused_without_echoing_it(monkeypatch, tmp_path):
    """Messages end up in logs and run records: they say what is wrong, never the value."""
    with FakeSec() as sec:
        for value, problem in MALFORMED_USER_AGENTS.items():
            entry_points = [lambda: SecClient(value, allowed_hosts=(sec.url,)),
                            lambda: load_settings({"SEC_USER_AGENT": value, "CAPEXWATCH_MODE": "live"})]
            if "\x00" not in value:  # the environment itself cannot hold a NUL
                monkeypatch.setenv("SEC_USER_AGENT", value)
                entry_points.append(lambda: SecResource(mode="live", warehouse_dir=str(tmp_path)).source())
            refusals = []
            for entry_point in entry_points:
                with pytest.raises(ConfigError) as error:
                    entry_point()
                refusals.append(str(error.value))
            assert all(problem in message and "SEC_USER_AGENT" in message for message in refusals), value
            assert not any(part in message for message in refusals for part in ("Tester", "sam@corp", "Injected")), value
        assert sec.requests == []
    reliability_log.record("secrets", "User-Agent with CR/LF or another control character",
                           "refused before any request, value not echoed", tried=len(MALFORMED_USER_AGENTS))


def test_a_blank_user_agent_is_unset_so_offline():
    assert load_settings({"SEC_USER_AGENT": "  \t "}).mode == "offline"


def test_the_settings_never_show_the_user_agent():
    """Settings objects end up in reprs, tracebacks and debug logs; the email address must not."""
    settings = load_settings({"SEC_USER_AGENT": UA})
    assert settings.user_agent == UA and "tests@example.com" not in repr(settings)


def test_user_agent_is_declared_on_every_request():
    with FakeSec() as sec:
        doc = json.loads(client(sec).get(sec.url + GOOGL).content)
    assert doc["entityName"] == "ALPHABET INC."
    assert [r.user_agent for r in sec.requests] == [UA]


def test_429_with_retry_after_is_waited_out_then_succeeds():
    with FakeSec() as sec:
        sec.faults = [Fault(429, {"Retry-After": "1"})]
        response = client(sec).get(sec.url + GOOGL)
        assert response.status == 200 and len(sec.requests) == 2
        assert sec.requests[1].at - sec.requests[0].at >= 0.95


def test_server_errors_are_retried_with_backoff():
    with FakeSec() as sec:
        sec.faults = [Fault(503), Fault(502), Fault(500)]
        assert client(sec).get(sec.url + GOOGL).status == 200
        assert len(sec.requests) == 4


def test_persistent_server_errors_end_in_a_clear_error():
    with FakeSec() as sec:
        sec.faults = [Fault(503)] * 3
        with pytest.raises(SecError, match=r"failed after 3 attempts: HTTP 503"):
            client(sec, max_attempts=3).get(sec.url + GOOGL)
        assert len(sec.requests) == 3


def test_404_and_403_are_not_retried():
    with FakeSec() as sec:
        with pytest.raises(SecNotFound, match="CIK9999999999.json: HTTP 404"):
            client(sec).get(sec.url + "/api/xbrl/companyfacts/CIK9999999999.json")
        sec.faults = [Fault(403)]
        with pytest.raises(SecAccessDenied, match="User-Agent"):
            client(sec).get(sec.url + GOOGL)
        assert len(sec.requests) == 2


def test_never_more_than_ten_requests_in_any_second():
    with FakeSec() as sec:
        c = client(sec)
        for _ in range(25):
            c.get(sec.url + GOOGL)
        times = [r.at for r in sec.requests]
    peak = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert len(times) == 25 and peak <= 10


def test_truncated_download_never_replaces_the_stored_copy(tmp_path):
    store = RawStore(tmp_path)
    with FakeSec() as sec:
        source = LiveSource(client(sec, max_attempts=2))
        url = sec.url + GOOGL
        first = store.land(url, source, companyfacts.validate)
        good = first.path.read_bytes()
        sec.faults = [Fault(500), Fault(200, body=b'{"cik": 1652044, "facts": {"us-gaap": {')]
        with pytest.raises(InvalidResponse, match=r"CIK0001652044.json: not valid JSON"):
            # a 500, then a body that is cut short: rejected before it can land
            store.land(url, source, companyfacts.validate)
    assert first.path.read_bytes() == good
    assert store.read_meta(url).sha256 == hashlib.sha256(good).hexdigest()
    assert not list(first.path.parent.glob(".*.tmp"))


def test_short_body_against_its_content_length_is_retried(tmp_path):
    with FakeSec() as sec:
        body = (sec.root / GOOGL.lstrip("/")).read_bytes()
        sec.faults = [Fault(200, body=body, truncate=True)]
        response = client(sec).get(sec.url + GOOGL)
        assert response.content == body and len(sec.requests) == 2


def test_unchanged_document_is_reused_through_a_conditional_request(tmp_path):
    store = RawStore(tmp_path)
    with FakeSec() as sec:
        source = LiveSource(client(sec))
        first = store.land(sec.url + GOOGL, source, companyfacts.validate)
        again = store.land(sec.url + GOOGL, source, companyfacts.validate)
        assert first.changed and not again.changed
        assert sec.requests[1].headers.get("If-None-Match") == first.meta.etag
    assert first.meta.sha256 == "62d42c65a87b9c92cdaf9e5f342dd3a8cdbba2d2e3e4c5c495f2b884dab991c8"


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None
