"""Shared fixtures: the real-data corpus and running emulators (loopback HTTP, no mocks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprisma.emulator import CtgovEmulator, EutilsEmulator, load_corpus

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = TESTS / "fixtures"
PUBMED = FIXTURES / "pubmed"
CTGOV = FIXTURES / "clinicaltrials"
PSYNAMIC = TESTS / "data" / "psynamic"
PSYNAMIC_A = PSYNAMIC / "pubmed_results_20250306_subset.csv"
PSYNAMIC_B = PSYNAMIC / "pubmed_results_20250813_subset.csv"
NCBI_BASE = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"


@pytest.fixture(scope="session")
def corpus():
    return load_corpus(pubmed_xml=[PUBMED], psynamic_csv=[PSYNAMIC_A, PSYNAMIC_B], ctgov_json=[CTGOV])


@pytest.fixture(scope="module")
def _eutils_server(corpus):
    with EutilsEmulator(corpus, rate_limit=False, today=None) as emu:
        yield emu


@pytest.fixture
def eutils(_eutils_server):
    """A running E-utilities emulator (rate limit off; reset before each test)."""
    _eutils_server.reset()
    _eutils_server.rate_limit = False
    yield _eutils_server
    assert _eutils_server.errors == []
    _eutils_server.reset()
    _eutils_server.rate_limit = False


@pytest.fixture(scope="module")
def _ctgov_server(corpus):
    with CtgovEmulator(corpus, data_timestamp="2025-06-16T09:00:00") as emu:
        yield emu


@pytest.fixture
def ctgov(_ctgov_server):
    _ctgov_server.reset()
    yield _ctgov_server
    assert _ctgov_server.errors == []
    _ctgov_server.reset()


@pytest.fixture
def entrez(eutils, monkeypatch):
    """Bio.Entrez pointed at the emulator: the genuine client, only the base URL replaced."""
    from Bio import Entrez

    real_build = Entrez._build_request

    def build(cgi, *args, **kwargs):
        return real_build(cgi.replace(NCBI_BASE, eutils.base_url), *args, **kwargs)

    monkeypatch.setattr(Entrez, "_build_request", build)
    monkeypatch.setattr(Entrez, "email", "reprisma-tests@example.org")
    monkeypatch.setattr(Entrez, "tool", "reprisma-tests")
    monkeypatch.setattr(Entrez, "api_key", "test-key-not-secret")  # 0.1 s between requests, not 0.37
    monkeypatch.setattr(Entrez, "max_tries", 3)
    monkeypatch.setattr(Entrez, "sleep_between_tries", 0)
    return Entrez
