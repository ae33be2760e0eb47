"""A real ledger to render: records parsed from genuine fixtures, run through the real stages."""

import copy
from pathlib import Path

import pytest

from reprisma.emulator import CtgovEmulator, EutilsEmulator, load_corpus
from reprisma.pipeline import derive_all
from reprisma.screen.stage import screen_records
from reprisma.protocol import load_protocol, deep_update, validate_config
from reprisma.replay import open_capture
from reprisma.search.capture import capture

TESTS = Path(__file__).resolve().parents[1]
FIX = TESTS / "fixtures"


@pytest.fixture(scope="session")
def example_run(tmp_path_factory):
    """Capture from the emulators (metapub + PsyNamic subset + CT.gov fixtures), then derive every stage."""
    root = tmp_path_factory.mktemp("snap")
    corpus = load_corpus(pubmed_xml=[FIX / "pubmed" / "metapub"],
                         psynamic_csv=sorted((TESTS / "data" / "psynamic").glob("*.csv")),
                         ctgov_json=[FIX / "clinicaltrials"])
    base = load_protocol(TESTS.parent / "config" / "config.yaml")
    with EutilsEmulator(corpus, unknown_language_matches=True, rate_limit=False) as eu, CtgovEmulator(corpus) as ct:
        live = validate_config(deep_update(base.config, {"services": {"eutils": {"base_url": eu.base_url},
                                                                      "ctgov": {"base_url": ct.base_url}}}))
        capture(live, root, "example", kind="example")
    cap = open_capture(base, root)
    derived = derive_all(base, cap, base=root)
    return base, cap, derived


CONFLICTS = 25  # the tests lower the report's cap (reprisma.report.render.CONFLICTS_LISTED) below this
LISTED = 20


@pytest.fixture(scope="session")
def conflict_screening(example_run, tmp_path_factory):
    """The screening stage on the example run with real decision files: two reviewers disagree
    at title/abstract on the first CONFLICTS + 1 screened records; a consensus row settles the last."""
    protocol, _, d = example_run
    ids = sorted(r["record_id"] for r in d["eligibility"] if r["eligible"])[:CONFLICTS + 1]
    folder = tmp_path_factory.mktemp("screening")
    header = "record_id\tstage\treviewer\tdecision\treason\tdate\n"
    files = {"ana.tsv": [f"{i}\ttitle_abstract\tana\tinclude\t\t2026-11-20\n" for i in ids],
             "ben.tsv": [f"{i}\ttitle_abstract\tben\texclude\twrong population\t2026-11-21\n" for i in ids],
             "consensus.tsv": [f"{ids[-1]}\ttitle_abstract\tconsensus\tinclude\t\t2026-11-22\n"]}
    for name, rows in files.items():
        (folder / name).write_text(header + "".join(rows), encoding="utf-8")
    screening = screen_records(d["records"], d["clusters"], d["eligibility"], protocol,
                                 sorted(folder.glob("*.tsv"))).ledger
    return screening, ids


@pytest.fixture(scope="session")
def seed_run():
    """The protocol as published (config/greenway2020.yaml) replayed from its committed example
    snapshot, every stage derived as the workflow does."""
    root = TESTS.parent
    protocol = load_protocol(root / "config" / "greenway2020.yaml")
    cap = open_capture(protocol, root / "snapshots")
    return protocol, cap, derive_all(protocol, cap, base=root)
