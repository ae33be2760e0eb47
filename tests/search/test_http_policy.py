"""reprisma's own retry policy (search/http.py), over real loopback HTTP to the emulators.

The waits are recorded by an injected ``sleep`` instead of slept: no test sleeps in backoff.
"""

from __future__ import annotations

import socket
import time

import pytest

from reprisma.emulator import Fault
from reprisma.emulator.eutils import EFETCH_ERROR_HEAD, ESEARCH_HEAD, RETSTART_MESSAGE
from reprisma.search.eutils import EutilsClient, efetch_pmids, parse_esearch
from reprisma.search.http import HttpClient, RetryPolicy, ServiceError, parse_retry_after

KEY = "KEY-9f3a7c51e0d2b6"  # recognisable: greps below must never find it


@pytest.fixture
def fast(eutils):
    eutils.rate_limit = False
    return RetryPolicy(backoff=0.25, backoff_max=4, attempts=6, retry_after_cap=120, retry_budget=600)


def client(policy, sleeps, rate=50.0):
    return HttpClient(rate, service="NCBI", policy=policy, sleep=sleeps.append)


def esearch(http, emu, **extra):
    return http.request("POST", emu.base_url + "esearch.fcgi",
                        {"db": "pubmed", "term": "psilocybin", "api_key": KEY, **extra}, check=parse_esearch)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retried_statuses(eutils, fast, status):
    sleeps = []
    eutils.faults.queue(Fault(kind="http_status", status=status, times=2, retry_after=0, path="esearch.fcgi"))
    body = esearch(client(fast, sleeps), eutils)
    assert parse_esearch(body).count > 0
    assert len(eutils.requests) == 3
    # exponential backoff from 0.25 s (Retry-After 0 is shorter, so backoff wins)
    assert sleeps == [0.25, 0.5]


@pytest.mark.parametrize("status", [400, 403, 404])
def test_other_client_errors_fail_at_once(eutils, fast, status):
    sleeps = []
    eutils.faults.queue(Fault(kind="http_status", status=status, times=5, path="esearch.fcgi"))
    with pytest.raises(ServiceError, match=rf"HTTP {status}"):
        esearch(client(fast, sleeps), eutils)
    assert len(eutils.requests) == 1 and sleeps == []


def test_external_viewer_error_400_is_retried(eutils, fast):
    sleeps = []
    eutils.faults.queue(Fault(kind="http_status", status=400, times=1, path="efetch.fcgi",
                              body="Error: External viewer error: Empty result - nothing to do\n",
                              content_type="text/plain"))
    body = client(fast, sleeps).request("POST", eutils.base_url + "efetch.fcgi",
                                        {"db": "pubmed", "id": "38011560", "retmode": "xml"}, check=efetch_pmids)
    assert efetch_pmids(body) == ["38011560"] and len(sleeps) == 1


def test_attempts_are_bounded_and_the_error_says_so(eutils, fast):
    sleeps = []
    eutils.faults.queue(Fault(kind="http_status", status=503, times=50, retry_after=0, path="esearch.fcgi"))
    with pytest.raises(ServiceError, match=r"HTTP 503.*gave up after 6 attempts; try again later"):
        esearch(client(fast, sleeps), eutils)
    assert len(eutils.requests) == 6
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 4.0]  # capped at backoff_max


def test_refused_connection_makes_exactly_the_policy_attempts(fast, capfd):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps = []
    http = client(fast, sleeps)
    with pytest.raises(ServiceError, match="connection refused.*gave up after 6 attempts"):
        http.request("GET", f"http://127.0.0.1:{port}/esearch.fcgi", {})
    assert http.attempts_made == 6  # was 35 with tenacity stacked on urllib3 Retry
    assert capfd.readouterr().err.count("waiting") == 5


@pytest.mark.parametrize("header,expected", [
    ("7", 7.0),            # honoured
    ("21600", 120.0),      # six hours: capped
    ("soon", 0.25),        # malformed: ignored, backoff applies
    ("-3", 0.25),
    ("", 0.25),
])
def test_retry_after(eutils, fast, header, expected, capfd):
    sleeps = []
    eutils.faults.queue(Fault(kind="http_status", status=429, times=1, retry_after=header, path="esearch.fcgi"))
    esearch(client(fast, sleeps), eutils)
    assert sleeps == [expected]
    err = capfd.readouterr().err
    assert f"waiting {expected:.3g} s: rate limited by NCBI" in err
    assert ("(Retry-After)" in err) == (expected != 0.25)


def test_retry_after_http_date():
    now = 1_000_000_000.0
    assert parse_retry_after("Sun, 09 Sep 2001 01:47:00 GMT", now=now) == pytest.approx(20.0)  # 1e9 is 01:46:40 UTC
    assert parse_retry_after("Sun, 09 Sep 2001 01:40:00 GMT", now=now) == 0.0
    assert parse_retry_after("Sun, 99 Foo", now=now) is None


def test_retry_budget_stops_early(eutils, fast):
    sleeps = []
    policy = RetryPolicy(backoff=0, attempts=10, retry_after_cap=120, retry_budget=20)
    eutils.faults.queue(Fault(kind="http_status", status=429, times=50, retry_after=8, path="esearch.fcgi"))
    with pytest.raises(ServiceError, match="gave up after 3 attempts"):
        esearch(client(policy, sleeps), eutils)
    assert sleeps == [8.0, 8.0]  # a third wait would pass the 20 s budget


def test_every_attempt_passes_the_rate_limiter(eutils):
    """With NCBI's limit on (3/s without a key, 429 above it), retries of 5xx answers are spaced
    by the limiter: the emulator never has to answer 429."""
    eutils.rate_limit = True
    http = HttpClient(3.0, service="NCBI", policy=RetryPolicy(backoff=0), sleep=lambda s: None)
    waits = []
    real_wait = http.limiter.wait
    http.limiter.wait = lambda: (waits.append(time.monotonic()), real_wait())
    eutils.faults.queue(Fault(kind="http_status", status=503, times=3, retry_after=0, path="esearch.fcgi"))
    t0 = time.monotonic()
    for _ in range(3):
        http.request("POST", eutils.base_url + "esearch.fcgi", {"db": "pubmed", "term": "ketamine"},
                     check=parse_esearch)
    assert len(waits) == http.attempts_made == len(eutils.requests) == 6  # 3 x 503 + 3 answers, no 429
    assert time.monotonic() - t0 >= 5 * 1.1 / 3 - 0.05


def test_transient_ncbi_error_bodies_are_retried(eutils, fast):
    sleeps = []
    http = client(fast, sleeps)
    # esearch: HTTP 200 with an <ERROR> of a back-end hiccup
    eutils.faults.queue(Fault(kind="http_status", status=200, times=1, path="esearch.fcgi",
                              content_type="text/xml; charset=UTF-8",
                              body=f"{ESEARCH_HEAD}<eSearchResult><ERROR>Search Backend failed: "
                                   "temporarily unavailable</ERROR></eSearchResult>\n"))
    assert parse_esearch(esearch(http, eutils)).count > 0
    # efetch: HTTP 200 with an eFetchResult <ERROR>
    eutils.faults.queue(Fault(kind="http_status", status=200, times=1, path="efetch.fcgi",
                              content_type="text/xml; charset=UTF-8",
                              body=f"{EFETCH_ERROR_HEAD}<eFetchResult>\n\t<ERROR>Backend failed: try again"
                                   "</ERROR>\n</eFetchResult>\n"))
    body = http.request("POST", eutils.base_url + "efetch.fcgi", {"db": "pubmed", "id": "38011560"},
                        check=efetch_pmids)
    assert efetch_pmids(body) == ["38011560"]
    assert len(sleeps) == 2


def test_the_retstart_ceiling_is_not_transient(eutils, fast):
    sleeps = []
    eutils.faults.queue(Fault(kind="http_status", status=200, times=5, path="esearch.fcgi",
                              content_type="text/xml; charset=UTF-8",
                              body=f"{ESEARCH_HEAD}<eSearchResult><ERROR>{RETSTART_MESSAGE}</ERROR></eSearchResult>\n"))
    with pytest.raises(ServiceError, match="PubMed refused the query"):
        esearch(client(fast, sleeps), eutils)
    assert sleeps == []


HTML_PAGE = ("<!DOCTYPE html>\n<html><head><title>NCBI - WWW Error 500 Diagnostic</title></head>\n"
             "<body><h1>Error</h1><p>Server Error</p></body></html>\n")


def test_html_error_page_with_http_200_is_retried(eutils, fast):
    sleeps = []
    eutils.faults.queue(Fault(kind="http_status", status=200, times=1, path="efetch.fcgi", body=HTML_PAGE,
                              content_type="text/html"))
    body = client(fast, sleeps).request("POST", eutils.base_url + "efetch.fcgi",
                                        {"db": "pubmed", "id": "38011560"}, check=efetch_pmids)
    assert efetch_pmids(body) == ["38011560"] and len(sleeps) == 1


def test_stalled_server_hits_the_read_timeout(eutils, capfd):
    policy = RetryPolicy(backoff=0, read_timeout=0.5, deadline=30)
    eutils.faults.queue(Fault(kind="slow", delay=3.0, times=1, path="esearch.fcgi"))
    t0 = time.monotonic()
    esearch(HttpClient(50.0, service="NCBI", policy=policy), eutils)
    assert time.monotonic() - t0 < 2.5
    assert "NCBI did not answer in time" in capfd.readouterr().err


def test_trickling_body_hits_the_deadline(eutils, capfd):
    """Each piece arrives well within the read timeout; only the whole-answer deadline stops it."""
    policy = RetryPolicy(backoff=0, read_timeout=5, deadline=1.0)
    eutils.faults.queue(Fault(kind="trickle", chunk=20, delay=0.1, times=1, path="esearch.fcgi"))
    t0 = time.monotonic()
    body = esearch(HttpClient(50.0, service="NCBI", policy=policy), eutils)
    assert parse_esearch(body).count > 0
    assert time.monotonic() - t0 < 3.0
    assert "NCBI sent its answer too slowly" in capfd.readouterr().err


def test_persistent_trickle_fails_with_one_line(eutils):
    policy = RetryPolicy(backoff=0, attempts=2, read_timeout=5, deadline=0.5)
    eutils.faults.queue(Fault(kind="trickle", chunk=20, delay=0.1, times=5, path="esearch.fcgi"))
    with pytest.raises(ServiceError, match=r"no complete answer within 0.5 s \(gave up after 2 attempts"):
        esearch(HttpClient(50.0, service="NCBI", policy=policy), eutils)


def test_secrets_are_scrubbed_from_errors_and_progress(eutils, fast, capfd):
    """NCBI's 429 body echoes the API key; neither the error nor a progress line may show it."""
    sleeps = []
    http = EutilsClient(eutils.base_url, "reprisma", "someone@example.org", KEY, client(fast, sleeps))
    eutils.faults.queue(Fault(kind="http_status", status=429, times=50, retry_after=0, path="esearch.fcgi"))
    with pytest.raises(ServiceError) as err:
        http.esearch("psilocybin")
    out = capfd.readouterr()
    text = str(err.value) + out.out + out.err
    assert "API rate limit exceeded" in str(err.value)
    assert KEY not in text and "someone@example.org" not in text


def test_policy_from_environment():
    p = RetryPolicy.from_env({"REPRISMA_HTTP_RETRY_AFTER_CAP": "30", "REPRISMA_HTTP_ATTEMPTS": "3"})
    assert (p.retry_after_cap, p.attempts, p.backoff) == (30.0, 3, RetryPolicy().backoff)
    with pytest.raises(ServiceError, match=r"REPRISMA_HTTP_DEADLINE='soon': expected a number"):
        RetryPolicy.from_env({"REPRISMA_HTTP_DEADLINE": "soon"})
    with pytest.raises(ServiceError, match="out of range"):
        RetryPolicy.from_env({"REPRISMA_HTTP_ATTEMPTS": "0"})
