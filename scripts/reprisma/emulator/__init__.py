"""Loopback emulators of NCBI E-utilities and the ClinicalTrials.gov API v2, serving real records.

    from reprisma.emulator import load_corpus, EutilsEmulator, CtgovEmulator, Fault
    corpus = load_corpus(pubmed_xml=[...], psynamic_csv=[...], ctgov_json=[...])
    with EutilsEmulator(corpus) as emu:
        emu.base_url            # http://127.0.0.1:PORT/entrez/eutils/
        emu.faults.queue(Fault(kind="http_status", status=503, times=2, path="efetch.fcgi"))
    with CtgovEmulator(corpus, data_timestamp="2025-06-16T09:00:00") as emu:
        emu.base_url            # http://127.0.0.1:PORT/api/v2

Both speak the real protocols (same paths, parameters, paging, bodies and error bodies) so a
client written for the real services runs unchanged; see each module for what is and is not
faithful. Used by the tests and to build the example snapshot; never a source of records itself.
"""

from .corpus import Corpus, CorpusError, CtgovStudy, PubmedRecord, load_corpus
from .ctgov import CtgovEmulator
from .eutils import EutilsEmulator
from .faults import FAULT_KINDS, Fault, FaultPlan

__all__ = ["Corpus", "CorpusError", "CtgovStudy", "PubmedRecord", "load_corpus", "CtgovEmulator",
           "EutilsEmulator", "Fault", "FaultPlan", "FAULT_KINDS"]
