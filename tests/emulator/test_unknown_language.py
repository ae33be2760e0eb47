"""The opt-in used only for the example snapshot: records with no Language pass a [la] limit."""

from reprisma.emulator import load_corpus
from reprisma.emulator.pubmed_query import PubmedIndex, search

from .conftest import PSYNAMIC, PUBMED


def test_language_limit_and_records_without_language():
    corpus = load_corpus(pubmed_xml=[PUBMED / "metapub" / "pmid_38048813.xml"],
                         psynamic_csv=sorted(PSYNAMIC.glob("*.csv")))
    psynamic = {p for p, r in corpus.pubmed.items() if r.origin == "psynamic-csv"}
    assert psynamic and all(not corpus.pubmed[p].languages for p in psynamic)
    strict = search("english[la]", PubmedIndex(corpus.pubmed.values())).ids
    lenient = search("english[la]", PubmedIndex(corpus.pubmed.values(), unknown_language_matches=True)).ids
    assert set(strict).isdisjoint(psynamic)
    assert set(lenient) == set(strict) | psynamic
    # a record that does say its language is still judged by it (pmid_38048813 is German)
    assert "38048813" not in lenient
    assert "38048813" in search("german[la]", PubmedIndex(corpus.pubmed.values())).ids
