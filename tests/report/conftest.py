"""A real ledger to render: records parsed from genuine fixtures, run through the real stages."""

import copy
from pathlib import Path

import pytest

from reprisma.emulator import CtgovEmulator, EutilsEmulator, load_corpus
from reprisma.pipeline import derive_all
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
