"""The SEC client against a hostile network: a server that trickles bytes, a gzip bomb, redirects
away from SEC. Each is stopped at its bound (a deadline per attempt, a cap on the decompressed
size, SEC's hosts only) with a one-line error naming the URL, and the User-Agent never leaves SEC."""

from __future__ import annotations

import gzip
import json
import resource
import time
import tracemalloc
import zlib

import pytest

import reliability_log
from fake_sec import SNAPSHOT_DATA, Fault, FakeSec, gzip_bomb, self_signed_tls
from pipelines.defs.resources import SecResource
from pipelines.lib.http_guards import MIB
from pipelines.lib.sec_client import SecClient, SecError, origin
from pipelines.lib.settings import ConfigError

UA = "capexwatch tests tests@example.com"
GOOGL = "/api/xbrl/companyfacts/CIK0001652044.json"
FACTS = (SNAPSHOT_DATA / GOOGL.lstrip("/")).read_bytes()
TRICKLES = {  # whole answers of about 4 s, so that without a deadline a test fails, not hangs
    "headers": Fault(trickle=(1, 0.1), body=b"{}"),  # the status line alone takes seconds
    "body": Fault(trickle=(400, 0.2), body=bytes(8000)),  # headers at once, then 2 KB/s
}
DEADLINE = 1.5
BACKOFF = 0.5  # max_wait: the longest pause between attempts


def client(sec: FakeSec, **kwargs) -> SecClient:
    """A per-read timeout well above the trickle's interval: only the deadline can stop it."""
    return SecClient(UA, max_wait=BACKOFF, allowed_hosts=(sec.url,), **{"timeout": 5.0, **kwargs})


def timed_get(sec: FakeSec, **kwargs):
    """The response and the seconds the client took, on its own clock: the fake server stamps a request
    when its thread gets to it, which a busy machine can delay by most of a second."""
    started = time.monotonic()
    response = client(sec, **kwargs).get(sec.url + GOOGL)
    return response, time.monotonic() - started


def cut_at_the_deadline_then_retried(seconds: float) -> bool:
    """The first attempt cut at the deadline (not before), one pause, the retry answered at once; a cut
    only after the whole trickle (about 4 s) would take longer."""
    return DEADLINE + BACKOFF <= seconds < DEADLINE + BACKOFF + 2.0


def peak_rate(requests) -> int:
    times = sorted(r.at for r in requests)
    return max((sum(1 for t in times if start <= t < start + 1.0) for start in times), default=0)


@pytest.mark.parametrize("part", list(TRICKLES))
def test_a_trickling_answer_is_cut_at_the_deadline_and_retried(part):
    with FakeSec() as sec:
        sec.faults = [TRICKLES[part]]
        response, seconds = timed_get(sec, deadline=DEADLINE)
    assert response.content == FACTS and len(sec.requests) == 2
    assert cut_at_the_deadline_then_retried(seconds)
    reliability_log.record("network", f"server trickles the {part} (deadline {DEADLINE:g} s)",
                           "cut at the deadline, retried, survived", tried=1)


def test_the_deadline_cuts_a_trickle_over_tls_too(monkeypatch, tmp_path):
    """SEC is https: the watchdog shuts the socket under TLS without unwrapping it mid-read."""
    context, certificate = self_signed_tls(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate))  # requests' own way to trust a certificate
    with FakeSec(tls=context) as sec:
        sec.faults = [TRICKLES["body"]]
        response, seconds = timed_get(sec, deadline=DEADLINE)
    assert sec.url.startswith("https://") and response.content == FACTS and len(sec.requests) == 2
    assert cut_at_the_deadline_then_retried(seconds)
    reliability_log.record("network", "server trickles the body over TLS", "cut at the deadline, retried, survived")


@pytest.mark.parametrize("part", list(TRICKLES))
def test_a_server_that_always_trickles_fails_within_deadline_times_attempts(part):
    with FakeSec() as sec:
        url = sec.url + GOOGL
        sec.faults = [TRICKLES[part]] * 2
        started = time.monotonic()
        with pytest.raises(SecError) as error:
            client(sec, deadline=DEADLINE, max_attempts=2).get(url)
        elapsed = time.monotonic() - started
    assert str(error.value) == f"GET {url} failed after 2 attempts: no complete response within 1.5 s"
    assert len(sec.requests) == 2
    assert 2 * DEADLINE <= elapsed < 2 * DEADLINE + BACKOFF + 1.0
    reliability_log.record("network", f"server always trickles the {part}",
                           f"failed in one line after 2 attempts, {elapsed:.1f} s", tried=2, survived=2)


def test_the_bulk_download_has_its_own_deadline_and_cap(tmp_path):
    with FakeSec() as sec:
        url = sec.url + GOOGL
        roomy = client(sec, max_bytes=MIB, deadline=DEADLINE, download_deadline=60.0, max_download_bytes=8 * MIB)
        roomy.download(url, tmp_path / "facts.json")  # 3 MB: over get's cap, under download's
        sec.faults = [TRICKLES["body"]]
        with pytest.raises(SecError, match=r"failed after 1 attempts: no complete response within 1 s$"):
            client(sec, download_deadline=1.0, max_attempts=1).download(url, tmp_path / "slow.json")
        with pytest.raises(SecError, match=f"Content-Length {len(FACTS)} is over 1 MiB"):
            roomy.get(url)
    assert (tmp_path / "facts.json").read_bytes() == FACTS


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(1 << 30)


def test_a_gzip_bomb_is_refused_at_the_cap_without_being_inflated(bomb):
    cap = 16 * MIB
    with FakeSec() as sec:
        url = sec.url + GOOGL
        sec.faults = [Fault(200, {"Content-Encoding": "gzip"}, bomb)]
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        tracemalloc.start()
        try:
            with pytest.raises(SecError) as error:
                client(sec, max_bytes=cap).get(url)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) * 1024
    assert len(bomb) < 2 * MIB  # 1 GiB of zeros in about 1 MB
    assert str(error.value) == f"GET {url}: response larger than 16 MiB, the cap for one response; refused"
    assert len(sec.requests) == 1  # refused for good, not retried
    # the body so far (BytesIO keeps up to an eighth spare) and a few 1 MiB chunks in flight, not 1 GiB
    assert peak < cap * 1.125 + 8 * MIB and rss_growth < 200 * MIB
    reliability_log.record("network", "gzip bomb (1 MB inflating to 1 GiB)", "refused at the cap, never inflated",
                           peak_mib=round(peak / MIB, 1), rss_growth_mib=round(rss_growth / MIB, 1))


def test_a_body_announced_over_the_cap_is_refused_before_it_is_read():
    with FakeSec() as sec:
        url = sec.url + GOOGL
        sec.faults = [Fault(200, body=bytes(MIB + 1))]
        with pytest.raises(SecError) as error:
            client(sec, max_bytes=MIB).get(url)
    assert str(error.value) == f"GET {url}: Content-Length 1048577 is over 1 MiB, the cap for one response; refused"


ENCODED = {
    "gzip": ("gzip", gzip.compress(FACTS)),
    "deflate": ("deflate", zlib.compress(FACTS)),
    "gzip in two members": ("gzip", gzip.compress(FACTS[:1000]) + gzip.compress(FACTS[1000:])),
}


@pytest.mark.parametrize("name", list(ENCODED))
def test_compressed_answers_are_decoded_in_full(name):
    encoding, body = ENCODED[name]
    with FakeSec() as sec:
        sec.faults = [Fault(200, {"Content-Encoding": encoding}, body)]
        assert client(sec).get(sec.url + GOOGL).content == FACTS


def test_a_gzip_body_cut_before_its_end_is_retried_and_an_unknown_encoding_refused():
    with FakeSec() as sec:
        url = sec.url + GOOGL
        sec.faults = [Fault(200, {"Content-Encoding": "gzip"}, gzip.compress(FACTS)[:5000])]
        assert client(sec).get(url).content == FACTS and len(sec.requests) == 2
        sec.faults = [Fault(200, {"Content-Encoding": "br"}, b"\x0b\x02\x80")]
        with pytest.raises(SecError, match=r"unsupported Content-Encoding 'br' \(asked for gzip or deflate\)"):
            client(sec).get(url)


def test_a_redirect_to_another_host_is_not_followed(tmp_path):
    with FakeSec() as sec, FakeSec(tmp_path) as other:
        url = sec.url + GOOGL
        sec.faults = [Fault(302, {"Location": other.url + GOOGL}, b"")]
        with pytest.raises(SecError) as error:
            client(sec).get(url)
        assert other.requests == [] and len(sec.requests) == 1
    assert str(error.value) == (f"GET {url}: redirected to {other.url}, which is not SEC; not followed "
                                "(the User-Agent goes only to SEC)")
    reliability_log.record("network", "redirect to another host", "not followed, the other host got no request")


def test_redirects_within_sec_are_followed_through_the_rate_limiter_five_at_most():
    with FakeSec() as sec:
        hops = [f"/hop{n}" for n in range(5)]
        for here, there in zip(hops, hops[1:] + [GOOGL]):
            sec.faults_for[here] = [Fault(301, {"Location": there}, b"")]
        response = client(sec, max_per_second=2).get(sec.url + hops[0])
        followed = list(sec.requests)
        sec.faults_for["/hop5"] = [Fault(302, {"Location": "/hop0"}, b"")]
        for here, there in zip(hops, hops[1:] + ["/hop0"]):
            sec.faults_for[here] = [Fault(301, {"Location": there}, b"")]
        with pytest.raises(SecError, match=r"/hop5: more than 5 redirects; not followed$"):
            client(sec).get(sec.url + "/hop5")
    assert json.loads(response.content)["entityName"] == "ALPHABET INC."
    assert [r.path for r in followed] == hops + [GOOGL] and all(r.user_agent == UA for r in followed)
    assert peak_rate(followed) <= 2  # every hop waited for the limiter
    assert [r.path for r in sec.requests[len(followed):]] == ["/hop5", *hops]
    reliability_log.record("network", "redirect within SEC (5 hops)", "followed, each hop rate-limited; a 6th refused",
                           tried=2, peak_rate=peak_rate(followed))


def test_only_secs_https_hosts_are_allowed_by_default():
    assert origin("https://WWW.sec.gov:443/x") == origin("https://www.sec.gov/y") == ("https", "www.sec.gov", 443)
    with FakeSec() as sec:
        with pytest.raises(SecError, match=r"^GET http://127\.0\.0\.1:\d+/\S+: http://127\.0\.0\.1:\d+ is not SEC; "
                                           r"not requested"):
            SecClient(UA).get(sec.url + GOOGL)
        sec.faults = [Fault(301, {"Location": "http://www.sec.gov" + GOOGL}, b"")]  # https -> http: not SEC
        with pytest.raises(SecError, match=r"redirected to http://www.sec.gov, which is not SEC"):
            SecClient(UA, allowed_hosts=(sec.url, "https://www.sec.gov")).get(sec.url + GOOGL)
        assert len(sec.requests) == 1


def test_the_resource_allows_its_own_base_urls(monkeypatch, tmp_path):
    monkeypatch.setenv("SEC_USER_AGENT", UA)
    with FakeSec() as data, FakeSec() as www:
        sec_client = SecResource(mode="live", warehouse_dir=str(tmp_path), data_url=data.url,
                                 www_url=www.url).source().client
        data.faults = [Fault(302, {"Location": www.url + GOOGL}, b"")]  # data.sec.gov -> www.sec.gov
        assert sec_client.get(data.url + GOOGL).content == FACTS
        assert [r.path for r in www.requests] == [GOOGL]
    assert sec_client.allowed_hosts == {origin(data.url), origin(www.url), *map(origin, ["https://www.sec.gov",
                                        "https://data.sec.gov", "https://sec.gov"])}


@pytest.mark.parametrize("field", ["data_url", "www_url"])
def test_a_base_url_elsewhere_is_refused_before_any_request(monkeypatch, tmp_path, field):
    """Run config is editable by whoever launches a run: it must not be a way to send the User-Agent
    to another host. Only SEC's own hosts, or a stand-in on this machine, may be base URLs."""
    monkeypatch.setenv("SEC_USER_AGENT", UA)
    for url in ("https://collector.example", "http://www.sec.gov", "https://www.sec.gov.example"):
        with pytest.raises(ConfigError) as refused:
            SecResource(mode="live", warehouse_dir=str(tmp_path), **{field: url}).source()
        assert "is neither SEC nor this machine" in str(refused.value) and UA not in str(refused.value)
    assert SecResource(mode="live", warehouse_dir=str(tmp_path), **{field: "https://www.sec.gov"}).source()
    reliability_log.record("secrets", f"{field} pointed at another host in run config",
                           "refused before any request; the User-Agent goes to SEC (or this machine) only")
