"""Fixtures of the capture tests: the real-data corpus and both emulators on loopback HTTP."""

from pathlib import Path

import pytest

from reprisma.emulator import CtgovEmulator, EutilsEmulator, load_corpus

TESTS = Path(__file__).resolve().parents[1]
FIX = TESTS / "fixtures"


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(
        pubmed_xml=[FIX / "pubmed" / "metapub", FIX / "pubmed" / "biopython"],
        psynamic_csv=sorted((TESTS / "data" / "psynamic").glob("*.csv")),
        ctgov_json=[FIX / "clinicaltrials" / "biomcp", FIX / "clinicaltrials" / "cyanheads"],
    )


@pytest.fixture
def eutils(corpus):
    with EutilsEmulator(corpus, rate_limit=True) as emu:
        yield emu


@pytest.fixture
def ctgov(corpus):
    with CtgovEmulator(corpus, data_timestamp="2026-08-11T00:00:00") as emu:
        yield emu


@pytest.fixture(autouse=True)
def no_real_backoff(monkeypatch):
    """No test sleeps in real backoff: retries wait 0 s (Retry-After is capped at 0 s too)."""
    monkeypatch.setenv("REPRISMA_HTTP_BACKOFF", "0")
    monkeypatch.setenv("REPRISMA_HTTP_RETRY_AFTER_CAP", "0")
