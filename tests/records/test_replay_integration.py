"""The records stage on a real capture: emulators over loopback -> snapshot (gzip) -> replay -> records."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprisma.emulator import CtgovEmulator, EutilsEmulator, load_corpus
from reprisma.protocol import pubmed_query, validate_config
from reprisma.records import merge_records, records_jsonl_text, validate_record
from reprisma.replay import iter_capture_records, open_capture
from reprisma.search.capture import capture

TESTS = Path(__file__).resolve().parents[1]
FIX = TESTS / "fixtures"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    corpus = load_corpus(
        pubmed_xml=[FIX / "pubmed" / "metapub", FIX / "pubmed" / "biopython"],
        psynamic_csv=[TESTS / "records" / "data" / "psynamic_rows.csv"],
        ctgov_json=[FIX / "clinicaltrials" / "biomcp", FIX / "clinicaltrials" / "cyanheads"],
    )
    root = tmp_path_factory.mktemp("snapshots")
    with EutilsEmulator(corpus) as eutils, CtgovEmulator(corpus, data_timestamp="2026-08-11T00:00:00") as ctgov:
        window = ("1900-01-01", "2026-12-31")
        searches = []
        for sid, term in (("pm1", "depression"), ("pm2", "psilocybin OR ketamine OR depression")):
            limits = {"date_field": "edat", "date_from": window[0], "date_to": window[1]}
            searches.append({"id": sid, "source": "pubmed", "term": term, "limits": limits,
                             "query": pubmed_query(term, limits, window)})
        searches.append({"id": "ct", "source": "ctgov", "intervention": "oxytocin OR pembrolizumab"})
        protocol = validate_config({
            "protocol": {"id": "t", "title": "records integration"},
            "searches": searches,
            "services": {"eutils": {"base_url": eutils.base_url, "batch_size": 2},
                         "ctgov": {"base_url": ctgov.base_url, "page_size": 2}},
        }, "test.yaml")
        capture(protocol, root, "c1")
    return protocol, root


def test_replayed_capture_parses_into_valid_records(snapshot):
    protocol, root = snapshot
    cap = open_capture(protocol, root)
    parsed = list(iter_capture_records(cap))
    for rec in parsed:
        validate_record(rec)
        assert rec["raw_file"].endswith(".gz")
    per_search = {s["search_id"]: s["records_received"] for s in cap.manifest["searches"]}
    for sid, n in per_search.items():
        assert n > 0
        assert sum(1 for r in parsed if r["search_ids"] == [sid]) == n
    merged = merge_records(parsed)
    # the two PubMed searches overlap: the overlap is merged, every search still counted
    assert sum(len(r["search_ids"]) for r in merged) == sum(per_search.values())
    assert any(r["search_ids"] == ["pm1", "pm2"] for r in merged)
    assert records_jsonl_text(parsed) == records_jsonl_text(reversed(parsed))
