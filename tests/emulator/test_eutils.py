"""E-utilities emulator over real HTTP: bodies compared with genuine NCBI responses, history-server
paging, errors, politeness, request recording, and the unchanged Biopython client."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from reprisma.emulator import EutilsEmulator, load_corpus
from reprisma.emulator.eutils import RETSTART_MESSAGE

from .conftest import PSYNAMIC_A, PUBMED

BIOPYTHON = PUBMED / "biopython"
METAPUB = PUBMED / "metapub"
BIOMCP = PUBMED / "biomcp"


def _get(emu, util, **params):
    return requests.get(emu.base_url + util, params=params, timeout=10)


def _post(emu, util, **data):
    return requests.post(emu.base_url + util, data=data, timeout=10)


def _skeleton(xml_bytes: bytes) -> list[str]:
    """Element tags in document order, runs of <Id> collapsed (structure, not content)."""
    tags = [el.tag for el in ET.fromstring(xml_bytes).iter()]
    out = []
    for t in tags:
        if t == "Id" and out and out[-1] == "Id":
            continue
        out.append(t)
    return out


def _head(body: bytes, n=2) -> list[bytes]:
    return body.split(b"\n")[:n]


def _search_all(emu, term, **extra):
    r = _get(emu, "esearch.fcgi", db="pubmed", term=term, retmax=9999, **extra)
    return re.findall(r"<Id>(\d+)</Id>", r.text), int(re.search(r"<Count>(\d+)</Count>", r.text).group(1))


# --------------------------------------------------------------------------- esearch

def test_zero_hits_is_byte_identical_to_genuine_esearch8(eutils):
    genuine = (BIOPYTHON / "esearch8.xml").read_bytes()  # term=abcXYZ (db=protein; same structure)
    r = _get(eutils, "esearch.fcgi", db="pubmed", term="abcXYZ")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/xml; charset=UTF-8"
    assert r.content == genuine


def test_esearch_structure_matches_genuine_esearch1_and_esearch2(eutils):
    r = _get(eutils, "esearch.fcgi", db="pubmed", term="psilocybin")
    genuine1 = (BIOPYTHON / "esearch1.xml").read_bytes()
    assert _head(r.content) == _head(genuine1)
    assert _skeleton(r.content) == _skeleton(genuine1)
    assert r.content.endswith(b"</eSearchResult>\n") and genuine1.endswith(b"</eSearchResult>\n")
    assert re.search(rb"<IdList>\n(<Id>\d+</Id>\n)+</IdList>", r.content)
    count = int(re.search(rb"<Count>(\d+)</Count>", r.content).group(1))
    retmax = int(re.search(rb"<RetMax>(\d+)</RetMax>", r.content).group(1))
    assert retmax == min(20, count) == len(re.findall(rb"<Id>", r.content))  # default retmax 20, as esearch1
    h = _get(eutils, "esearch.fcgi", db="pubmed", term="psilocybin", usehistory="y")
    genuine2 = (BIOPYTHON / "esearch2.xml").read_bytes()
    skel = [t for t in _skeleton(genuine2) if t not in ("Translation", "From", "To")]
    assert _skeleton(h.content) == skel
    assert re.search(rb"<QueryKey>1</QueryKey><WebEnv>MCID_[0-9a-f]{24}</WebEnv><IdList>", h.content)


def test_esearch_json_matches_genuine_shape(eutils):
    genuine = json.loads((BIOMCP / "esearch_json_pten_d326n.json").read_text())
    r = _get(eutils, "esearch.fcgi", db="pubmed", term="psilocybin[tiab] AND depression[tiab]", retmode="json",
             retmax=3)
    assert r.headers["Content-Type"] == "application/json; charset=UTF-8"
    got = r.json()
    assert list(got) == list(genuine) and got["header"] == genuine["header"]
    assert list(got["esearchresult"]) == list(genuine["esearchresult"])
    assert all(isinstance(v, str) for k, v in got["esearchresult"].items() if k in ("count", "retmax", "retstart"))
    assert got["esearchresult"]["querytranslation"] == '"psilocybin"[Title/Abstract] AND "depression"[Title/Abstract]'
    assert r.content.endswith(b"}}\n")
    genuine_err = json.loads((BIOMCP / "esearch_json_phrase_not_found_errorlist.json").read_text())
    e = _get(eutils, "esearch.fcgi", db="pubmed", term="psilocybin zzqxnotaword", retmode="json").json()
    assert list(e["esearchresult"]) == list(genuine_err["esearchresult"])
    assert e["esearchresult"]["errorlist"] == {"phrasesnotfound": ["zzqxnotaword"], "fieldsnotfound": []}


def test_get_and_post_are_equivalent_and_default_sort_is_pmid_descending(eutils):
    g = _get(eutils, "esearch.fcgi", db="pubmed", term="ketamine", retmax=50)
    p = _post(eutils, "esearch.fcgi", db="pubmed", term="ketamine", retmax=50)
    assert g.content == p.content
    ids = [int(i) for i in re.findall(r"<Id>(\d+)</Id>", g.text)]
    assert ids == sorted(ids, reverse=True) and ids


def test_sort_by_publication_date(eutils, corpus):
    r = _get(eutils, "esearch.fcgi", db="pubmed", term="ketamine", retmax=100, sort="pub_date")
    ids = re.findall(r"<Id>(\d+)</Id>", r.text)
    keys = [corpus.pubmed[i].pub_date_sort for i in ids]
    assert keys == sorted(keys, reverse=True)


def test_date_limits_are_added_like_pubmed(eutils, corpus):
    r = _get(eutils, "esearch.fcgi", db="pubmed", term="psilocybin", datetype="edat", mindate="2024/01/01",
             maxdate="2024/12/31", retmax=9999)
    ids = set(re.findall(r"<Id>(\d+)</Id>", r.text))
    assert "<QueryTranslation>\"psilocybin\"[All Fields] AND 2024/01/01:2024/12/31[Date - Entry]" in r.text
    assert ids and all(corpus.pubmed[i].entrez_date.year == 2024 for i in ids)
    r = _get(eutils, "esearch.fcgi", db="pubmed", term="depression", mindate="2023", maxdate="2023", retmax=9999)
    ids = set(re.findall(r"<Id>(\d+)</Id>", r.text))
    assert "AND 2023:2023[Date - Publication]</QueryTranslation>" in r.text  # datetype defaults to pdat
    assert ids and all(any(d.year == 2023 for d in corpus.pubmed[i].pub_dates) for i in ids)


def test_history_paging_through_efetch_serves_exactly_the_search(eutils):
    s = _get(eutils, "esearch.fcgi", db="pubmed", term="psychedelic* OR psilocybin", usehistory="y", retmax=0)
    count = int(re.search(r"<Count>(\d+)</Count>", s.text).group(1))
    webenv = re.search(r"<WebEnv>(\S+)</WebEnv>", s.text).group(1)
    key = re.search(r"<QueryKey>(\d+)</QueryKey>", s.text).group(1)
    all_ids, _ = _search_all(eutils, "psychedelic* OR psilocybin")
    fetched = []
    for start in range(0, count, 7):
        f = _post(eutils, "efetch.fcgi", db="pubmed", WebEnv=webenv, query_key=key, retstart=start, retmax=7,
                  retmode="xml")
        assert f.status_code == 200
        root = ET.fromstring(f.content)
        fetched += [a.findtext("MedlineCitation/PMID") for a in root.findall("PubmedArticle")]
    assert fetched == all_ids and len(fetched) == count > 7


def test_esearch_within_a_webenv_and_query_key(eutils):
    s = _get(eutils, "esearch.fcgi", db="pubmed", term="ketamine", usehistory="y")
    webenv = re.search(r"<WebEnv>(\S+)</WebEnv>", s.text).group(1)
    both = _get(eutils, "esearch.fcgi", db="pubmed", term="depression", WebEnv=webenv, query_key="1",
                usehistory="y", retmax=9999)
    assert f"<WebEnv>{webenv}</WebEnv>" in both.text and "<QueryKey>2</QueryKey>" in both.text
    expected = set(_search_all(eutils, "ketamine AND depression")[0])
    assert set(re.findall(r"<Id>(\d+)</Id>", both.text)) == expected
    missing = _get(eutils, "esearch.fcgi", db="pubmed", term="#5", WebEnv=webenv)
    assert "<ERROR>Unable to obtain query #5</ERROR>" in missing.text


@pytest.mark.parametrize("retmode", ["xml", "json"])
def test_esearch_errors(eutils, retmode):
    def err(**p):
        r = _get(eutils, "esearch.fcgi", retmode=retmode, **p)
        assert r.status_code == 200
        return r.json()["esearchresult"]["ERROR"] if retmode == "json" else \
            ET.fromstring(r.content).findtext("ERROR")
    assert err(db="pubmed", term="") == "Empty term and query_key - nothing todo"
    assert err(db="nothing", term="x") == "Invalid db name specified: nothing"
    assert err(db="pubmed", term="psilocybin", retstart=9999) == RETSTART_MESSAGE
    assert err(db="pubmed", term="#1", WebEnv="MCID_000000000000000000000000") == "Unable to obtain query #1"
    assert err(db="pubmed", term="((psilocybin").startswith("Search Backend failed:")


def test_retstart_at_the_limit_is_still_served(eutils):
    r = _get(eutils, "esearch.fcgi", db="pubmed", term="psilocybin", retstart=9998)
    assert b"<ERROR>" not in r.content and b"<RetStart>9998</RetStart>" in r.content


# --------------------------------------------------------------------------- efetch

@pytest.mark.parametrize("name", ["biopython/pubmed1.xml", "biopython/pubmed2.xml", "metapub/pmid_38011560.xml",
                                  "metapub/pmid_34843274.xml"])
def test_efetch_by_id_is_byte_identical_to_the_genuine_response(eutils, name):
    genuine = (PUBMED / name).read_bytes()
    ids = [a.findtext("MedlineCitation/PMID") for a in ET.fromstring(genuine).findall("PubmedArticle")]
    r = _get(eutils, "efetch.fcgi", db="pubmed", id=",".join(ids), retmode="xml", rettype="abstract")
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/xml; charset=UTF-8"
    assert r.content == genuine


def test_efetch_of_unknown_pmid_is_the_genuine_empty_set(eutils):
    genuine = (METAPUB / "pmid_37909814.xml").read_bytes()  # efetch id=37909814 returned no article
    assert _get(eutils, "efetch.fcgi", db="pubmed", id="37909814").content == genuine


def test_efetch_serves_psynamic_records_in_the_set(eutils, corpus):
    r = _post(eutils, "efetch.fcgi", db="pubmed", id="38483940", retmode="xml")
    assert r.text.endswith(corpus.pubmed["38483940"].xml + "</PubmedArticleSet>")
    assert "<!-- converted by reprisma.emulator from PsyNamic CSV row -->" in r.text


def test_efetch_errors(eutils):
    r = _get(eutils, "efetch.fcgi", db="pubmed", WebEnv="MCID_ffffffffffffffffffffffff", query_key="1",
             retstart="0", retmax="20")
    assert r.status_code == 400
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eEfetchResult')
    assert ET.fromstring(r.content).findtext("ERROR") == ("Cannot retrieve history data. query_key: 1, WebEnv: "
                                                          "MCID_ffffffffffffffffffffffff, retstart: 0, retmax: 20")
    r = _get(eutils, "efetch.fcgi", db="pubmed")
    assert r.status_code == 400
    assert ET.fromstring(r.content).findtext("ERROR") == "ID list is empty! Possibly it has no correct IDs."


def test_history_cap_of_efetch(corpus):
    with EutilsEmulator(corpus, rate_limit=False, history_cap=3) as emu:
        s = _get(emu, "esearch.fcgi", db="pubmed", term="psilocybin", usehistory="y")
        webenv = re.search(r"<WebEnv>(\S+)</WebEnv>", s.text).group(1)
        part = _get(emu, "efetch.fcgi", db="pubmed", WebEnv=webenv, query_key=1, retstart=2, retmax=5)
        assert len(ET.fromstring(part.content).findall("PubmedArticle")) == 1  # clamped silently, like NCBI
        over = _get(emu, "efetch.fcgi", db="pubmed", WebEnv=webenv, query_key=1, retstart=3, retmax=5)
        assert over.status_code == 400
        assert ET.fromstring(over.content).findtext("ERROR") == RETSTART_MESSAGE


# --------------------------------------------------------------------------- epost

def test_epost_bodies_match_genuine(eutils):
    assert _post(eutils, "epost.fcgi", db="nothing").content == (BIOPYTHON / "epost2.xml").read_bytes()
    bad = _post(eutils, "epost.fcgi", db="pubmed", id="99999999999999999999999999999999")
    assert bad.content == (BIOPYTHON / "epost3.xml").read_bytes()
    ok = _post(eutils, "epost.fcgi", db="pubmed", id="11237011")
    genuine = (BIOPYTHON / "epost1.xml").read_text()
    mask = lambda s: re.sub(r"MCID_[0-9a-f]{24}", "MCID_x", s)  # noqa: E731
    assert mask(ok.text) == mask(genuine)


def test_epost_then_efetch(eutils):
    ok = _post(eutils, "epost.fcgi", db="pubmed", id="38011560,38483940,11237011")
    webenv = re.search(r"<WebEnv>(\S+)</WebEnv>", ok.text).group(1)
    f = _post(eutils, "efetch.fcgi", db="pubmed", WebEnv=webenv, query_key="1")
    assert [a.findtext("MedlineCitation/PMID") for a in ET.fromstring(f.content).findall("PubmedArticle")] == \
        ["38011560", "38483940"]  # 11237011 is not in the corpus: NCBI also omits unknown records


def test_webenv_strings_are_deterministic(corpus):
    seen = []
    for _ in range(2):
        with EutilsEmulator(corpus, rate_limit=False, seed="s") as emu:
            seen.append(re.search(r"<WebEnv>(\S+)</WebEnv>",
                                  _post(emu, "epost.fcgi", db="pubmed", id="1").text).group(1))
    assert seen[0] == seen[1]


# --------------------------------------------------------------------------- politeness and headers

def test_headers_like_the_cassettes(eutils):
    r = _get(eutils, "esearch.fcgi", db="pubmed", term="ketamine")
    assert r.headers["Access-Control-Expose-Headers"] == "X-RateLimit-Limit,X-RateLimit-Remaining"
    assert r.headers["Cache-Control"] == "private"
    assert r.headers["X-RateLimit-Limit"] == "3"
    r = _get(eutils, "esearch.fcgi", db="pubmed", term="ketamine", api_key="k")
    assert r.headers["X-RateLimit-Limit"] == "10"


def test_rate_limit_without_and_with_api_key(eutils):
    eutils.rate_limit = True
    eutils.rate_window = 30.0  # a wide window keeps the test deterministic on a loaded machine
    try:
        genuine = json.loads((BIOMCP / "esummary_rate_limit_exceeded.json").read_text())
        statuses = [_get(eutils, "esearch.fcgi", db="pubmed", term="ketamine") for _ in range(4)]
        assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
        assert [r.headers["X-RateLimit-Remaining"] for r in statuses[:3]] == ["2", "1", "0"]
        over = statuses[3]
        assert over.status_code == 429
        assert list(over.json()) == list(genuine)
        assert over.json()["error"] == genuine["error"] and over.json()["limit"] == "3"
        assert over.json()["count"] == "4" and over.json()["api-key"] == "127.0.0.1"
        assert over.headers["Retry-After"] and over.headers["X-RateLimit-Remaining"] == "0"
        keyed = [_get(eutils, "esearch.fcgi", db="pubmed", term="ketamine", api_key="abc") for _ in range(11)]
        assert [r.status_code for r in keyed] == [200] * 10 + [429]
        assert keyed[-1].json()["limit"] == "10" and keyed[-1].json()["api-key"] == "abc"
    finally:
        eutils.rate_window = 1.0


def test_rate_limit_window_expires(corpus):
    with EutilsEmulator(corpus, rate_window=0.3) as emu:
        codes = [_get(emu, "esearch.fcgi", db="pubmed", term="x").status_code for _ in range(3)]
        time.sleep(0.35)
        codes.append(_get(emu, "esearch.fcgi", db="pubmed", term="x").status_code)
        assert codes[:3] == [200] * 3 and codes[3] == 200  # the window has passed
        emu.rate_limit = False
        assert all(_get(emu, "esearch.fcgi", db="pubmed", term="x").status_code == 200 for _ in range(6))


def test_requests_are_recorded_with_the_key_redacted(eutils):
    _post(eutils, "esearch.fcgi", db="pubmed", term="ketamine", api_key="secret-key", tool="t", email="e@x")
    rec = eutils.requests[-1]
    assert rec.method == "POST" and rec.path == "/entrez/eutils/esearch.fcgi"
    assert rec.param("api_key") == "REDACTED" and rec.param("term") == "ketamine"
    assert "secret-key" not in repr(eutils.requests)


# --------------------------------------------------------------------------- Biopython, unchanged

def test_biopython_entrez_search_history_and_fetch(entrez, corpus):
    h = entrez.esearch(db="pubmed", term="psilocybin", usehistory="y", retmax=5)
    rec = entrez.read(h)
    h.close()
    count = int(rec["Count"])
    assert count == len(_search_all_entrez_ids(corpus))
    assert rec["WebEnv"].startswith("MCID_") and rec["QueryKey"] == "1" and len(rec["IdList"]) == 5
    got = []
    for start in range(0, count, 100):
        h = entrez.efetch(db="pubmed", webenv=rec["WebEnv"], query_key=rec["QueryKey"], retstart=start, retmax=100,
                          retmode="xml", rettype="abstract")
        data = entrez.read(h)
        h.close()
        got += [str(a["MedlineCitation"]["PMID"]) for a in data["PubmedArticle"]]
    assert got == sorted(_search_all_entrez_ids(corpus), key=int, reverse=True)
    p = entrez.read(entrez.epost(db="pubmed", id="38483940"))
    h = entrez.efetch(db="pubmed", webenv=p["WebEnv"], query_key=p["QueryKey"], retmode="xml")
    art = entrez.read(h)["PubmedArticle"][0]
    h.close()
    assert str(art["MedlineCitation"]["Article"]["ArticleTitle"]) == corpus.pubmed["38483940"].title
    with pytest.raises(RuntimeError, match="Invalid db name specified: nothing"):
        entrez.read(entrez.epost(db="nothing", id="1"))


def _search_all_entrez_ids(corpus):
    from reprisma.emulator.pubmed_query import PubmedIndex, search
    return search("psilocybin", PubmedIndex(corpus.pubmed.values())).ids


def test_psynamic_only_corpus_serves_levin_2024():
    corpus = load_corpus(psynamic_csv=[PSYNAMIC_A])
    with EutilsEmulator(corpus, rate_limit=False) as emu:
        r = _get(emu, "esearch.fcgi", db="pubmed", term="therapeutic alliance psilocybin", retmax=100)
        assert "<Id>38483940</Id>" in r.text


def test_reldate_counts_back_from_the_configured_today(corpus):
    import datetime as dt
    today = dt.date(2023, 12, 31)
    start = today - dt.timedelta(days=60)
    expected = {p for p, r in corpus.pubmed.items() if r.entrez_date and start <= r.entrez_date <= today}
    with EutilsEmulator(corpus, rate_limit=False, today=today) as emu:
        r = _get(emu, "esearch.fcgi", db="pubmed", term="depression OR ketamine OR cancer", reldate=60,
                 datetype="edat", retmax=9999)
    assert r.text.count("</QueryTranslation>") == 1
    assert f"AND {start:%Y/%m/%d}:{today:%Y/%m/%d}[Date - Entry]</QueryTranslation>" in r.text
    got = set(re.findall(r"<Id>(\d+)</Id>", r.text))
    assert got
    all_terms = set(_search_all_entrez_ids_for(corpus, "depression OR ketamine OR cancer"))
    assert got == expected & all_terms


def _search_all_entrez_ids_for(corpus, term):
    from reprisma.emulator.pubmed_query import PubmedIndex, search
    return search(term, PubmedIndex(corpus.pubmed.values())).ids


def test_rettype_count_and_field_parameter(eutils, corpus):
    _, count = _search_all(eutils, "ketamine")
    r = _get(eutils, "esearch.fcgi", db="pubmed", term="ketamine", rettype="count")
    assert r.text.endswith(f"<eSearchResult><Count>{count}</Count></eSearchResult>\n")
    j = _get(eutils, "esearch.fcgi", db="pubmed", term="ketamine", rettype="count", retmode="json").json()
    assert j["esearchresult"] == {"count": str(count)}
    titled, _ = _search_all(eutils, "ketamine", field="title")
    from reprisma.emulator.corpus import tokens
    assert set(titled) == {p for p, rec in corpus.pubmed.items() if "ketamine" in tokens(rec.title)} != set()
    assert "[Title]" in _get(eutils, "esearch.fcgi", db="pubmed", term="ketamine", field="title").text
