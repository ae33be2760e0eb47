"""Whatever a client sends, the emulators answer like the service (a result or an error body),
never with a crash (500) of their own."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_PIECES = list('abcdeklmnpst *"()[]:#/-,|0123456789') + ["AND ", "OR ", "NOT ", "AREA[", "RANGE[", "MAX",
                                                         "psilocybin", "melanoma", "[tiab]", "StartDate]"]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=15).map("".join)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(term=_TEXT, retmode=st.sampled_from(["xml", "json"]), extra=st.sampled_from([{}, {"usehistory": "y"},
                                                                                    {"retstart": "3"},
                                                                                    {"field": "tiab"}]))
def test_esearch_never_crashes(eutils, term, retmode, extra):
    r = requests.get(eutils.base_url + "esearch.fcgi", params=dict(db="pubmed", term=term, retmode=retmode, **extra),
                     timeout=10)
    assert r.status_code == 200
    if retmode == "json":
        assert "esearchresult" in json.loads(r.content)
    else:
        assert ET.fromstring(r.content).tag == "eSearchResult"
    assert eutils.errors == []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=_TEXT, param=st.sampled_from(["query.term", "query.cond", "query.intr", "filter.advanced", "pageSize",
                                       "pageToken", "fields", "sort", "filter.overallStatus", "filter.ids"]))
def test_ctgov_never_crashes(ctgov, q, param):
    r = requests.get(ctgov.base_url + "/studies", params={param: q}, timeout=10)
    assert r.status_code in (200, 400)
    if r.status_code == 200:
        assert "studies" in r.json()
    else:
        assert r.headers["Content-Type"] == "text/plain" and r.text
    assert ctgov.errors == []
