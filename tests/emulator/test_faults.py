"""Every fault kind on both emulators, seen through real HTTP clients (requests + urllib3 Retry,
Bio.Entrez)."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from reprisma.emulator import Fault


def _esearch(emu, **params):
    return requests.get(emu.base_url + "esearch.fcgi", params=dict(db="pubmed", **params), timeout=10)


def _efetch(emu, **params):
    return requests.post(emu.base_url + "efetch.fcgi", data=dict(db="pubmed", **params), timeout=10)


def test_fault_validation():
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault(kind="explode")
    with pytest.raises(ValueError):
        Fault(kind="slow", times=0)


def test_http_status_fault_times_path_and_reset(eutils):
    eutils.faults.queue(Fault(kind="http_status", status=503, times=2, path="efetch.fcgi"))
    assert _esearch(eutils, term="ketamine").status_code == 200  # other paths unaffected
    r1, r2, r3 = (_efetch(eutils, id="38011560") for _ in range(3))
    assert (r1.status_code, r2.status_code, r3.status_code) == (503, 503, 200)
    assert r1.headers["Retry-After"] == "1" and b"503 Service Temporarily Unavailable" in r1.content
    assert eutils.faults.fired == [("http_status", "/entrez/eutils/efetch.fcgi")] * 2
    eutils.faults.queue(Fault(kind="http_status", status=500, times=5))
    eutils.faults.reset()
    assert _efetch(eutils, id="38011560").status_code == 200 and eutils.faults.fired == []


def test_after_skips_matching_requests(eutils):
    eutils.faults.queue(Fault(kind="http_status", status=502, after=1, path="efetch.fcgi"))
    assert [_efetch(eutils, id="1").status_code for _ in range(3)] == [200, 502, 200]


def test_retry_with_urllib3_honours_retry_after(eutils):
    eutils.faults.queue(Fault(kind="http_status", status=429, times=2, retry_after=1, path="esearch.fcgi"))
    s = requests.Session()
    s.mount("http://", HTTPAdapter(max_retries=Retry(total=3, status_forcelist=[429, 500, 502, 503],
                                                     backoff_factor=0, respect_retry_after_header=True,
                                                     allowed_methods=None)))
    t0 = time.monotonic()
    r = s.get(eutils.base_url + "esearch.fcgi", params={"db": "pubmed", "term": "ketamine"}, timeout=10)
    assert r.status_code == 200
    assert time.monotonic() - t0 >= 1.9  # waited Retry-After (1 s) twice
    assert len([q for q in eutils.requests if q.path.endswith("esearch.fcgi")]) == 3


def test_429_fault_has_the_genuine_rate_limit_body(eutils):
    from .conftest import PUBMED
    genuine = json.loads((PUBMED / "biomcp" / "esummary_rate_limit_exceeded.json").read_text())
    eutils.faults.queue(Fault(kind="http_status", status=429))
    r = _esearch(eutils, term="x", api_key="k")
    assert r.status_code == 429 and list(r.json()) == list(genuine) and r.json()["limit"] == "10"
    assert r.headers["X-RateLimit-Remaining"] == "0" and r.headers["Retry-After"] == "1"


def test_drop_connection(eutils, ctgov):
    eutils.faults.queue(Fault(kind="drop_connection", path="efetch.fcgi"))
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        _efetch(eutils, id="38011560")
    assert _efetch(eutils, id="38011560").status_code == 200  # next request is served
    ctgov.faults.queue(Fault(kind="drop_connection", path="/studies"))
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        requests.get(ctgov.base_url + "/studies", timeout=10)


def test_truncated_body(eutils, ctgov):
    full = _efetch(eutils, id="38011560").content
    eutils.faults.queue(Fault(kind="truncate_body", path="efetch.fcgi", keep=0.5))
    r = _efetch(eutils, id="38011560")
    assert r.status_code == 200 and len(r.content) == len(full) // 2 == int(r.headers["Content-Length"])
    with pytest.raises(ET.ParseError):
        ET.fromstring(r.content)
    ctgov.faults.queue(Fault(kind="truncate_body"))
    r = requests.get(ctgov.base_url + "/studies", timeout=10)
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)


def test_slow_response(eutils, ctgov):
    eutils.faults.queue(Fault(kind="slow", delay=0.6, path="esearch.fcgi"))
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(eutils.base_url + "esearch.fcgi", params={"db": "pubmed", "term": "x"}, timeout=0.2)
    ctgov.faults.queue(Fault(kind="slow", delay=0.3))
    t0 = time.monotonic()
    assert requests.get(ctgov.base_url + "/version", timeout=5).status_code == 200
    assert time.monotonic() - t0 >= 0.3


def test_count_mismatch_esearch_and_history(eutils):
    eutils.faults.queue(Fault(kind="count_mismatch", path="esearch.fcgi", missing=2))
    s = _esearch(eutils, term="ketamine", usehistory="y", retmax=9999)
    count = int(re.search(r"<Count>(\d+)</Count>", s.text).group(1))
    ids = re.findall(r"<Id>(\d+)</Id>", s.text)
    assert len(ids) == count - 2
    webenv = re.search(r"<WebEnv>(\S+)</WebEnv>", s.text).group(1)
    f = _efetch(eutils, WebEnv=webenv, query_key="1", retmax=9999)
    assert len(ET.fromstring(f.content).findall("PubmedArticle")) == count - 2


def test_count_mismatch_efetch(eutils):
    eutils.faults.queue(Fault(kind="count_mismatch", path="efetch.fcgi"))
    r = _efetch(eutils, id="12091962,9997")
    assert len(ET.fromstring(r.content).findall("PubmedArticle")) == 1


def test_count_mismatch_ctgov_total(ctgov):
    honest = requests.get(ctgov.base_url + "/studies", params={"countTotal": "true"}, timeout=5).json()
    ctgov.faults.queue(Fault(kind="count_mismatch", path="/studies", missing=3))
    r = requests.get(ctgov.base_url + "/studies", params={"countTotal": "true", "pageSize": 1000}, timeout=5).json()
    assert r["totalCount"] == honest["totalCount"] + 3 == len(r["studies"]) + 3


def test_expired_webenv(eutils):
    s = _esearch(eutils, term="ketamine", usehistory="y")
    webenv = re.search(r"<WebEnv>(\S+)</WebEnv>", s.text).group(1)
    assert _efetch(eutils, WebEnv=webenv, query_key="1").status_code == 200
    eutils.faults.queue(Fault(kind="expire_webenv", path="efetch.fcgi"))
    r = _efetch(eutils, WebEnv=webenv, query_key="1", retstart="0", retmax="20")
    assert r.status_code == 400
    assert ET.fromstring(r.content).findtext("ERROR").startswith(
        f"Cannot retrieve history data. query_key: 1, WebEnv: {webenv}")
    s2 = _esearch(eutils, term="#1", WebEnv=webenv)
    assert "<ERROR>Unable to obtain query #1</ERROR>" in s2.text


def test_ctgov_http_status_fault(ctgov):
    ctgov.faults.queue(Fault(kind="http_status", status=429, retry_after=7))
    r = requests.get(ctgov.base_url + "/studies", timeout=5)
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    ctgov.faults.queue(Fault(kind="http_status", status=500, body="custom"))
    r = requests.get(ctgov.base_url + "/studies", timeout=5)
    assert (r.status_code, r.text) == (500, "custom")


def test_biopython_retries_a_server_error(entrez, eutils):
    eutils.faults.queue(Fault(kind="http_status", status=502, times=1, path="esearch.fcgi"))
    rec = entrez.read(entrez.esearch(db="pubmed", term="ketamine"))
    assert int(rec["Count"]) > 0
    assert [k for k, _ in eutils.faults.fired] == ["http_status"]


def test_trickle_sends_the_whole_body_slowly(eutils):
    honest = _esearch(eutils, term="ketamine").content
    eutils.faults.queue(Fault(kind="trickle", chunk=100, delay=0.05, path="esearch.fcgi"))
    t0 = time.monotonic()
    r = _esearch(eutils, term="ketamine")
    elapsed = time.monotonic() - t0
    assert r.status_code == 200 and r.content == honest  # same answer, only slower
    assert elapsed >= (len(honest) // 100) * 0.05 * 0.9
    assert eutils.faults.fired == [("trickle", "/entrez/eutils/esearch.fcgi")]


def test_cycle_token_points_back_at_the_page_served(ctgov):
    params = {"pageSize": 2}
    first = requests.get(ctgov.base_url + "/studies", params=params, timeout=5).json()
    token = first["nextPageToken"]
    ctgov.faults.queue(Fault(kind="cycle_token", path="/studies"))
    again = requests.get(ctgov.base_url + "/studies", params={**params, "pageToken": token}, timeout=5).json()
    assert again["nextPageToken"] == token  # the loop a capture must detect
    normal = requests.get(ctgov.base_url + "/studies", params={**params, "pageToken": token}, timeout=5).json()
    assert normal["nextPageToken"] != token and normal["studies"] == again["studies"]
