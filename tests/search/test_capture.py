"""The capture code against the emulators over real loopback HTTP: happy path and every fault."""

import json

import pytest
from search_helpers import make_protocol, served_pmids

from reprisma.emulator import Fault
from reprisma.search.capture import CaptureError, capture
from reprisma.search.http import ServiceError
from reprisma.snapshot import check_files, load_manifest, read_lock, read_raw


def test_pubmed_capture_pages_through_history_and_locks(tmp_path, eutils, ctgov, monkeypatch):
    monkeypatch.setenv("NCBI_API_KEY", "secret-key-123")
    monkeypatch.setenv("NCBI_EMAIL", "auditor@example.org")
    protocol = make_protocol(eutils, ctgov)
    expected = served_pmids(eutils, protocol.searches[0].query)
    assert len(expected) > 10, "needs more than one efetch batch"
    before = len(eutils.requests)
    out = capture(protocol, tmp_path, "c1")
    manifest = load_manifest(out)
    s = manifest["searches"][0]
    assert s["count_reported"] == s["records_received"] == len(expected)
    assert s["query"] == protocol.searches[0].query
    assert s["query_translation"] == "\"psilocybin\"[All Fields] AND 2020/01/01:2025/12/31[Date - Entry]"
    efetches = [f for f in s["files"] if f["request"]["endpoint"] == "efetch.fcgi"]
    assert len(efetches) == -(-len(expected) // 10)
    assert [f["request"]["params"]["retstart"] for f in efetches] == [str(i) for i in range(0, len(expected), 10)]
    assert check_files(out, manifest) == []
    assert read_lock(tmp_path, "t")["capture_id"] == "c1"
    # secrets never reach the snapshot; the identity NCBI asks for does go with every request
    assert "secret-key-123" not in json.dumps(manifest)
    assert all(r.param("api_key") == "REDACTED" and r.param("email") == "auditor@example.org"
               and r.param("tool") == "reprisma" for r in eutils.requests[before:])
    assert not (tmp_path / "t" / ".partial-c1").exists()


def test_ctgov_capture_pages_by_token(tmp_path, eutils, ctgov):
    protocol = make_protocol(eutils, ctgov, ctgov_search={"intervention": "oxytocin OR pembrolizumab"})
    import requests

    total = requests.get(ctgov.base_url + "/studies", params={**protocol.searches[1].params, "countTotal": "true"}).json()["totalCount"]
    assert total > 3
    out = capture(protocol, tmp_path, "c1")
    s = load_manifest(out)["searches"][1]
    assert s["count_reported"] == s["records_received"] == total
    assert s["data_timestamp"] == "2026-08-11T00:00:00"
    pages = [f for f in s["files"] if f["request"]["endpoint"] == "studies"]
    assert len(pages) == -(-total // 3)
    assert pages[0]["request"]["params"]["countTotal"] == "true"
    assert all("pageToken" in p["request"]["params"] for p in pages[1:])


@pytest.mark.parametrize("fault", [
    Fault(kind="http_status", status=503, times=2, path="efetch.fcgi"),
    Fault(kind="http_status", status=429, times=1, path="esearch.fcgi"),
    Fault(kind="http_status", status=500, times=1, path="efetch.fcgi"),
    Fault(kind="drop_connection", times=1, path="efetch.fcgi"),
    Fault(kind="truncate_body", times=2, path="efetch.fcgi"),
    Fault(kind="slow", delay=0.5, times=1, path="efetch.fcgi"),
    Fault(kind="expire_webenv", times=1, path="efetch.fcgi", after=1),
    Fault(kind="count_mismatch", missing=1, times=1, path="efetch.fcgi"),
], ids=lambda f: f"{f.kind}-{f.status}")
def test_transient_faults_are_survived(tmp_path, eutils, ctgov, fault):
    protocol = make_protocol(eutils, ctgov)
    expected = served_pmids(eutils, protocol.searches[0].query)
    eutils.faults.queue(fault)
    out = capture(protocol, tmp_path, "c1")
    assert eutils.faults.fired, "the fault must actually have happened"
    s = load_manifest(out)["searches"][0]
    assert s["records_received"] == len(expected)


def test_lasting_outage_fails_and_locks_nothing(tmp_path, eutils, ctgov):
    protocol = make_protocol(eutils, ctgov)
    eutils.faults.queue(Fault(kind="http_status", status=502, times=50, path="efetch.fcgi", retry_after=0))
    with pytest.raises(ServiceError, match="HTTP 502"):
        capture(protocol, tmp_path, "c1")
    assert not (tmp_path / "t" / "LOCK").exists()
    assert not (tmp_path / "t" / "c1").exists()


def test_count_mismatch_fails_naming_what_is_missing(tmp_path, eutils, ctgov):
    protocol = make_protocol(eutils, ctgov)
    eutils.faults.queue(Fault(kind="count_mismatch", missing=2, path="esearch.fcgi"))
    with pytest.raises(CaptureError, match=r"pm: esearch listed \d+ distinct ids, announced Count \d+"):
        capture(protocol, tmp_path, "c1")
    assert not (tmp_path / "t" / "LOCK").exists()


def test_efetch_serving_fewer_fails_naming_ids(tmp_path, eutils, ctgov):
    """A short batch is never stored: retried, and when it stays short the error names the ids."""
    protocol = make_protocol(eutils, ctgov)
    eutils.faults.queue(Fault(kind="count_mismatch", missing=1, times=50, path="efetch.fcgi"))
    with pytest.raises(ServiceError, match=r"pm: .*efetch batch at retstart 0: asked for 10 records, received 9; "
                                           r"missing 1 \(first: \d+\).*gave up after 6 attempts"):
        capture(protocol, tmp_path, "c1")
    assert not list((tmp_path / "t" / ".partial-c1").rglob("efetch-*"))
    assert not (tmp_path / "t" / "LOCK").exists()


def test_ctgov_total_larger_than_served_fails(tmp_path, eutils, ctgov):
    protocol = make_protocol(eutils, ctgov, ctgov_search={"intervention": "oxytocin"})
    ctgov.faults.queue(Fault(kind="count_mismatch", missing=3, path="/studies"))
    with pytest.raises(CaptureError, match=r"ct: received \d+ studies, ClinicalTrials.gov announced \d+"):
        capture(protocol, tmp_path, "c1")


def test_interrupted_capture_resumes_from_finished_batches(tmp_path, eutils, ctgov):
    protocol = make_protocol(eutils, ctgov, batch=5)
    expected = served_pmids(eutils, protocol.searches[0].query)
    n_batches = -(-len(expected) // 5)
    assert n_batches >= 3
    # the third efetch keeps failing: the capture stops after two finished batches
    eutils.faults.queue(Fault(kind="http_status", status=502, times=50, path="efetch.fcgi", after=2, retry_after=0))
    with pytest.raises(ServiceError):
        capture(protocol, tmp_path, "resume")
    partial = tmp_path / "t" / ".partial-resume"
    assert len(list(partial.rglob("efetch-*.xml.gz"))) == 2
    eutils.faults.reset()
    before = len(eutils.requests)
    out = capture(protocol, tmp_path, "resume")
    fetched = [r for r in eutils.requests[before:] if r.path.endswith("efetch.fcgi")]
    assert len(fetched) == n_batches - 2
    s = load_manifest(out)["searches"][0]
    assert s["records_received"] == len(expected)
    assert check_files(out, load_manifest(out)) == []


def test_large_result_is_cut_into_date_slices(tmp_path, eutils, ctgov):
    """Past the esearch ceiling the window is halved until every slice fits; slices add up."""
    from reprisma.search import capture as capture_mod
    from reprisma.search.eutils import EutilsClient
    from reprisma.search.http import HttpClient

    protocol = make_protocol(eutils, ctgov, term="psilocybin OR ketamine", window=("2000-01-01", "2025-12-31"))
    search = protocol.searches[0]
    expected = served_pmids(eutils, search.query)
    # slices stop at one day: the ceiling must hold the busiest entry day (PsyNamic dates are years)
    from collections import Counter

    busiest = max(Counter(eutils.corpus.pubmed[p].entrez_date for p in expected).values())
    ceiling = max(busiest, len(expected) // 2)
    assert ceiling < len(expected)
    client = EutilsClient(eutils.base_url, "reprisma", None, None, HttpClient(3.0))
    entry = capture_mod.capture_pubmed(search, client, 10, tmp_path, esearch_max=ceiling)
    assert len(entry["slices"]) >= 2
    assert sum(s["count"] for s in entry["slices"]) == len(expected) == entry["records_received"]
    assert all(s["count"] <= ceiling for s in entry["slices"])


def test_rate_limit_is_kept_without_a_key(tmp_path, eutils, ctgov, monkeypatch):
    """The emulator enforces NCBI's 3 requests/s with 429s; the capture never trips it (a 429
    would show as a retried, extra request)."""
    monkeypatch.delenv("NCBI_API_KEY", raising=False)
    protocol = make_protocol(eutils, ctgov, batch=3)
    expected = served_pmids(eutils, protocol.searches[0].query)
    before = len(eutils.requests)
    capture(protocol, tmp_path, "c1")
    assert len(eutils.requests) - before == 1 + -(-len(expected) // 3)


def test_raw_bodies_are_kept_exactly(tmp_path, eutils, ctgov):
    import requests

    protocol = make_protocol(eutils, ctgov)
    out = capture(protocol, tmp_path, "c1")
    s = load_manifest(out)["searches"][0]
    first = [f for f in s["files"] if f["request"]["endpoint"] == "efetch.fcgi"][0]
    ids = sorted(served_pmids(eutils, protocol.searches[0].query), key=int, reverse=True)[:10]
    eutils.rate_limit = False
    direct = requests.get(eutils.base_url + "efetch.fcgi", params={"db": "pubmed", "id": ",".join(ids), "retmode": "xml"})
    assert read_raw(out, first["path"]) == direct.content


def test_warns_when_ncbi_email_is_unset(tmp_path, eutils, ctgov, monkeypatch, capfd):
    monkeypatch.delenv("NCBI_EMAIL", raising=False)
    capture(make_protocol(eutils, ctgov), tmp_path, "c1")
    assert "warning: NCBI_EMAIL is not set" in capfd.readouterr().err
    monkeypatch.setenv("NCBI_EMAIL", "someone@example.org")
    capture(make_protocol(eutils, ctgov), tmp_path, "c2")
    assert "NCBI_EMAIL" not in capfd.readouterr().err


def test_one_day_window_over_the_ceiling_is_one_line(tmp_path, eutils, ctgov):
    from collections import Counter

    from reprisma.search import capture as capture_mod
    from reprisma.search.eutils import EutilsClient
    from reprisma.search.http import HttpClient

    protocol = make_protocol(eutils, ctgov, term="psilocybin OR ketamine", window=("2000-01-01", "2025-12-31"))
    search = protocol.searches[0]
    expected = served_pmids(eutils, search.query)
    busiest = max(Counter(eutils.corpus.pubmed[p].entrez_date for p in expected).values())
    assert busiest >= 2
    client = EutilsClient(eutils.base_url, "reprisma", None, None, HttpClient(3.0))
    with pytest.raises(CaptureError, match=rf"pm: the one-day window \S+ alone has {busiest} records, more than "
                                           rf"PubMed's {busiest - 1} esearch limit; narrow the search"):
        capture_mod.capture_pubmed(search, client, 10, tmp_path, esearch_max=busiest - 1)


def test_a_wrong_service_address_fails_at_once(tmp_path, eutils, ctgov):
    protocol = make_protocol(eutils, ctgov)
    protocol.config["services"]["eutils"]["base_url"] = "htp://nowhere/"
    with pytest.raises(ServiceError, match=r"pm: .*not a usable service address.*nothing is locked"):
        capture(protocol, tmp_path, "c1")
