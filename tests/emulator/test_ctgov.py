"""ClinicalTrials.gov API v2 emulator over real HTTP: paging, countTotal, fields, filters, queries,
errors and /version. Expected sets are computed from the real study JSON files directly."""

from __future__ import annotations

import json

import pytest
import requests

from reprisma.emulator import CtgovEmulator

from .conftest import CTGOV


@pytest.fixture(scope="module")
def studies():
    """nct -> study object, first occurrence wins, from the genuine fixture files."""
    out = {}
    for path in sorted(CTGOV.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for st in data.get("studies", [data] if "protocolSection" in data else []):
            out.setdefault(st["protocolSection"]["identificationModule"]["nctId"], st)
    return out


def _get(emu, path, **params):
    return requests.get(emu.base_url + path, params=params, timeout=10)


def _walk(emu, **params):
    pages = []
    token = None
    while True:
        p = dict(params, **({"pageToken": token} if token else {}))
        r = _get(emu, "/studies", **p)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        token = pages[-1].get("nextPageToken")
        if not token:
            return pages


def _ncts(pages):
    return [s["protocolSection"]["identificationModule"]["nctId"] for p in pages for s in p["studies"]]


def test_paging_with_tokens_and_count_total_on_first_page_only(ctgov, studies):
    pages = _walk(ctgov, pageSize=5, countTotal="true")
    assert _ncts(pages) == sorted(studies)  # every study once, default order NCT id
    assert pages[0]["totalCount"] == len(studies)
    assert all("totalCount" not in p for p in pages[1:])
    assert all(len(p["studies"]) == 5 for p in pages[:-1]) and "nextPageToken" not in pages[-1]
    genuine = json.loads((CTGOV / "biomcp" / "search_phelan_limit5_20260811.json").read_text())
    assert list(pages[0]) == list(genuine)  # studies, totalCount, nextPageToken


def test_body_is_compact_json(ctgov):
    r = _get(ctgov, "/studies", pageSize=1)
    assert r.headers["Content-Type"] == "application/json"
    assert r.content == json.dumps(r.json(), separators=(",", ":"), ensure_ascii=False).encode()


def test_page_size_defaults_and_limits(ctgov, studies):
    assert len(_get(ctgov, "/studies").json()["studies"]) == min(10, len(studies))
    assert len(_get(ctgov, "/studies", pageSize=0).json()["studies"]) == min(10, len(studies))
    big = _get(ctgov, "/studies", pageSize=5000).json()  # coerced down to 1,000
    assert len(big["studies"]) == len(studies) and "nextPageToken" not in big
    for bad in ("-1", "abc", "1.5"):
        r = _get(ctgov, "/studies", pageSize=bad)
        assert r.status_code == 400 and r.headers["Content-Type"] == "text/plain"


def test_page_tokens_are_opaque_and_bound_to_the_query(ctgov):
    first = _get(ctgov, "/studies", pageSize=2, **{"query.cond": "melanoma"}).json()
    token = first["nextPageToken"]
    assert _get(ctgov, "/studies", pageSize=2, pageToken=token, **{"query.cond": "melanoma"}).status_code == 200
    # pageSize and countTotal may change between pages (the spec allows it)
    assert _get(ctgov, "/studies", pageSize=7, pageToken=token, countTotal="true",
                **{"query.cond": "melanoma"}).status_code == 200
    other = _get(ctgov, "/studies", pageSize=2, pageToken=token, **{"query.cond": "lymphoma"})
    assert other.status_code == 400
    assert _get(ctgov, "/studies", pageToken="not-a-token").status_code == 400


def test_query_areas_and_filters(ctgov, studies):
    def cond_has(st, word):
        m = st["protocolSection"].get("conditionsModule", {})
        return word in " ".join(m.get("conditions", []) + m.get("keywords", [])).lower()

    melanoma = {n for n, s in studies.items() if cond_has(s, "melanoma")}
    got = set(_ncts(_walk(ctgov, **{"query.cond": "melanoma"})))
    assert melanoma <= got and melanoma
    completed = {n for n, s in studies.items() if s["protocolSection"]["statusModule"]["overallStatus"] == "COMPLETED"}
    assert set(_ncts(_walk(ctgov, **{"filter.overallStatus": "COMPLETED"}))) == completed
    both = {n for n, s in studies.items() if s["protocolSection"]["statusModule"]["overallStatus"] in
            ("COMPLETED", "TERMINATED")}
    assert set(_ncts(_walk(ctgov, **{"filter.overallStatus": "COMPLETED|TERMINATED"}))) == both
    assert set(_ncts(_walk(ctgov, **{"filter.overallStatus": "COMPLETED,TERMINATED"}))) == both
    ids = sorted(studies)[:3]
    assert _ncts(_walk(ctgov, **{"filter.ids": ",".join(ids)})) == ids
    phelan_completed = set(_ncts(_walk(ctgov, **{"query.cond": "Phelan-McDermid Syndrome",
                                                 "filter.overallStatus": "COMPLETED"})))
    assert phelan_completed == {n for n in completed if cond_has(studies[n], "phelan-mcdermid")}


def test_essie_boolean_and_phrases(ctgov):
    mel = set(_ncts(_walk(ctgov, **{"query.cond": "melanoma"})))
    lym = set(_ncts(_walk(ctgov, **{"query.cond": "lymphoma"})))
    assert set(_ncts(_walk(ctgov, **{"query.cond": "melanoma OR lymphoma"}))) == mel | lym
    assert set(_ncts(_walk(ctgov, **{"query.cond": "melanoma AND NOT lymphoma"}))) == mel - lym
    assert set(_ncts(_walk(ctgov, **{"query.cond": '"Phelan-McDermid Syndrome"'}))) <= \
        set(_ncts(_walk(ctgov, **{"query.cond": "Phelan"})))


def test_filter_advanced_date_ranges(ctgov, studies):
    def start(st):
        return st["protocolSection"]["statusModule"].get("startDateStruct", {}).get("date")

    expected = {n for n, s in studies.items() if start(s) and start(s) >= "2020-01-01"}
    got = set(_ncts(_walk(ctgov, **{"filter.advanced": "AREA[StartDate]RANGE[2020-01-01,MAX]"})))
    assert got == expected and expected
    before = {n for n, s in studies.items() if start(s) and start(s)[:4] < "2020"}
    assert set(_ncts(_walk(ctgov, **{"filter.advanced": "AREA[StartDate]RANGE[MIN,2019-12-31]"}))) == before
    posted = {n for n, s in studies.items()
              if s["protocolSection"]["statusModule"].get("studyFirstPostDateStruct", {}).get("date", "") >= "2019"}
    assert set(_ncts(_walk(ctgov, **{"filter.advanced": "AREA[StudyFirstPostDate]RANGE[2019-01-01,MAX]"}))) == posted
    p3 = {n for n, s in studies.items() if "PHASE3" in s["protocolSection"].get("designModule", {}).get("phases", [])}
    assert set(_ncts(_walk(ctgov, **{"filter.advanced": "AREA[Phase]PHASE3"}))) == p3


def test_fields_select_pieces_and_modules(ctgov, studies):
    r = _get(ctgov, "/studies", fields="NCTId,BriefTitle", pageSize=100).json()
    for s in r["studies"]:
        ident = s["protocolSection"]["identificationModule"]
        assert list(s) == ["protocolSection"] and list(s["protocolSection"]) == ["identificationModule"]
        assert set(ident) <= {"nctId", "briefTitle"} and ident["briefTitle"] == \
            studies[ident["nctId"]]["protocolSection"]["identificationModule"]["briefTitle"]
    one = _get(ctgov, "/studies/NCT00184067", fields="ConditionsModule|HasResults|InterventionName").json()
    full = studies["NCT00184067"]
    assert one["protocolSection"]["conditionsModule"] == full["protocolSection"]["conditionsModule"]
    assert one["hasResults"] == full["hasResults"]
    assert [i["name"] for i in one["protocolSection"]["armsInterventionsModule"]["interventions"]] == \
        [i["name"] for i in full["protocolSection"]["armsInterventionsModule"]["interventions"]]
    bad = _get(ctgov, "/studies", fields="StudyDesign")
    assert bad.status_code == 400 and bad.text == "Parameter 'fields' contains invalid field name: 'StudyDesign'"


def test_sort_by_date(ctgov, studies):
    got = _ncts(_walk(ctgov, sort="StartDate", pageSize=100))
    dates = [studies[n]["protocolSection"]["statusModule"]["startDateStruct"]["date"] for n in got]
    padded = [d + "-01" * (2 - d.count("-")) for d in dates]
    assert padded == sorted(padded, reverse=True)  # date fields sort descending by default
    asc = _ncts(_walk(ctgov, sort="StartDate:asc", pageSize=100))
    assert [p for p in asc] != got
    assert _get(ctgov, "/studies", sort="Nonsense").status_code == 400


def test_single_study(ctgov, studies):
    r = _get(ctgov, "/studies/NCT02513394")
    assert r.status_code == 200 and r.json() == studies["NCT02513394"]
    assert _get(ctgov, "/studies/nct2513394").json() == studies["NCT02513394"]  # pattern allows short/lower forms
    nf = _get(ctgov, "/studies/NCT09999999")
    assert nf.status_code == 404 and nf.headers["Content-Type"] == "text/plain"
    assert _get(ctgov, "/studies/XYZ123").status_code == 400
    assert _get(ctgov, "/studies/NCT02513394", foo="1").status_code == 400


def test_errors_are_plain_text_400(ctgov):
    for params, text in [({"filter.phase": "PHASE3"}, "`filter.phase` is unknown parameter"),
                         ({"query.recrs": "x"}, "`query.recrs` is unknown parameter"),
                         ({"filter.overallStatus": "RECRUITNG"}, "Invalid value in parameter overallStatus")]:
        r = _get(ctgov, "/studies", **params)
        assert (r.status_code, r.text) == (400, text)
    for params in ({"countTotal": "yes"}, {"filter.ids": "NCT0"}, {"query.term": "((melanoma"},
                   {"format": "csv"}, {"filter.geo": "distance(39.0,-77.1,50mi)"}):
        assert _get(ctgov, "/studies", **params).status_code == 400


def test_version_and_data_timestamp(ctgov, corpus):
    assert _get(ctgov, "/version").json() == {"apiVersion": "2.0.5", "dataTimestamp": "2025-06-16T09:00:00"}
    with CtgovEmulator(corpus) as other:
        assert requests.get(other.base_url + "/version", timeout=5).json()["dataTimestamp"] == "2025-06-16T00:00:00"
    with pytest.raises(ValueError):
        CtgovEmulator(corpus, data_timestamp="yesterday")


def test_requests_are_recorded(ctgov):
    _get(ctgov, "/studies", **{"query.intr": "psilocybin"})
    rec = ctgov.requests[-1]
    assert rec.path == "/api/v2/studies" and rec.param("query.intr") == "psilocybin"
