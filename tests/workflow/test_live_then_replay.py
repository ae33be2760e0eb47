"""Snakemake in live mode against the emulators, then replay offline: the counts agree."""

import json
from pathlib import Path

import pytest
import requests

from reprisma.emulator import CtgovEmulator, EutilsEmulator, load_corpus
from tests.workflow.conftest import run_snakemake

pytestmark = pytest.mark.workflow

FIX = Path(__file__).resolve().parents[1] / "fixtures"
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(
        pubmed_xml=sorted((FIX / "pubmed" / "metapub").glob("pmid_*.xml")),
        psynamic_csv=sorted((DATA / "psynamic").glob("*.csv")),
        ctgov_json=sorted((FIX / "clinicaltrials" / "biomcp").glob("*.json")),
    )


def services(eutils, ctgov) -> str:
    return f"services={{eutils: {{base_url: '{eutils.base_url}'}}, ctgov: {{base_url: '{ctgov.base_url}'}}}}"


def test_live_capture_then_offline_replay(scratch_project, corpus):
    with EutilsEmulator(corpus, unknown_language_matches=True) as eutils, CtgovEmulator(corpus) as ctgov:
        run_snakemake(scratch_project, "--config", "mode=live", "capture_id=t1", services(eutils, ctgov))
        # what the emulator serves for each search, asked independently of the capture code
        served = {}
        from reprisma.protocol import load_protocol

        for s in load_protocol(scratch_project / "config" / "config.yaml").searches:
            if s.source == "pubmed":
                r = requests.get(eutils.base_url + "esearch.fcgi", params={**s.params, "retmode": "json"})
                served[s.id] = int(r.json()["esearchresult"]["count"])
            else:
                r = requests.get(ctgov.base_url + "/studies", params={**s.params, "countTotal": "true", "pageSize": "1"})
                served[s.id] = r.json()["totalCount"]
    live_counts = json.loads((scratch_project / "reports" / "counts.json").read_text())
    assert {s["search_id"]: s["records_received"] for s in live_counts["searches"]} == served
    assert sum(served.values()) > 0, "the test corpus must give the searches something to find"
    lock = json.loads((scratch_project / "snapshots" / "greenway2020-update" / "LOCK").read_text())
    assert lock["capture_id"] == "t1"
    report_live = (scratch_project / "reports" / "report.html").read_bytes()

    # replay from scratch, with every socket refused: same ledger, same report
    for name in ("results", "reports", ".snakemake"):
        import shutil

        shutil.rmtree(scratch_project / name)
    run_snakemake(scratch_project, block_sockets=True)
    replay_counts = json.loads((scratch_project / "reports" / "counts.json").read_text())
    assert replay_counts == live_counts
    assert replay_counts["prisma"]["identification"]["records_identified"] == sum(served.values())
    assert (scratch_project / "reports" / "report.html").read_bytes() == report_live
