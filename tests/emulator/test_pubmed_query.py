"""The PubMed query evaluator: syntax, fields, dates, translations, PubMed's phrase dropping, and
set-algebra properties (hypothesis). Expected sets are computed from the real records directly."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reprisma.emulator import pubmed_query as pq
from reprisma.emulator.corpus import tokens


@pytest.fixture(scope="module")
def index(corpus):
    return pq.PubmedIndex(corpus.pubmed.values())


def _ids(index, q, **kw):
    return pq.search(q, index, **kw).ids


def _word_in(text, word):
    return word in tokens(text)


def test_untagged_word_searches_all_fields(corpus, index):
    expected = {p for p, r in corpus.pubmed.items()
                if any(_word_in(t, "psilocybin") for t in (r.title, r.abstract, *r.keywords, *r.mesh))}
    got = pq.search("psilocybin", index)
    assert got.ids == expected and expected
    assert got.translation == '"psilocybin"[All Fields]'


def test_case_insensitive_and_whole_words(index):
    assert _ids(index, "PSILOCYBIN") == _ids(index, "psilocybin")
    # "psilocybin" is not a whole word of "psilocybin-assisted"? it is: punctuation separates words
    assert _ids(index, "psilocybin-assisted") <= _ids(index, "psilocybin")
    assert not _ids(index, "psilocy", not_found="keep")  # no partial-word matches


def test_wildcard(corpus, index):
    expected = {p for p, r in corpus.pubmed.items()
                if any(w.startswith("psychedelic") for t in (r.title, r.abstract, *r.keywords, *r.mesh)
                       for w in tokens(t))}
    res = pq.search("psychedelic*", index)
    assert res.ids == expected and expected
    assert res.translation == "psychedelic*[All Fields]"
    assert _ids(index, "psychedelic") <= res.ids


def test_phrase_and_field_tags(corpus, index):
    phrase = ["major", "depressive", "disorder"]

    def has(text):
        w = tokens(text)
        return any(w[i:i + 3] == phrase for i in range(len(w)))

    ti = {p for p, r in corpus.pubmed.items() if has(r.title)}
    tiab = {p for p, r in corpus.pubmed.items() if has(r.title) or has(r.abstract) or any(has(k) for k in r.keywords)}
    assert _ids(index, '"major depressive disorder"[ti]') == ti
    assert _ids(index, '"major depressive disorder"[tiab]') == tiab
    assert _ids(index, "major depressive disorder[Title/Abstract]") == tiab  # unquoted words before a tag
    assert pq.search('"major depressive disorder"[tiab]', index).translation == \
        '"major depressive disorder"[Title/Abstract]'


def test_mesh_language_pubtype_author_journal(corpus, index):
    rec = corpus.pubmed["38011560"]
    assert "38011560" in _ids(index, f'"{rec.mesh[0]}"[mh]')
    assert _ids(index, f"{rec.mesh[0].lower()}[mesh]") == _ids(index, f'"{rec.mesh[0]}"[MeSH Terms]')
    eng = {p for p, r in corpus.pubmed.items() if "eng" in r.languages}
    assert _ids(index, "english[la]") == eng == _ids(index, "eng[lang]")
    assert pq.search("English[la]", index).translation == '"english"[Language]'
    reviews = {p for p, r in corpus.pubmed.items() if "Review" in r.publication_types}
    assert _ids(index, "review[pt]") == reviews and reviews
    first = rec.authors[0]  # "Lastname Initials"
    last, initials = first.rsplit(" ", 1)
    assert "38011560" in _ids(index, f"{last} {initials}[au]")
    assert "38011560" in _ids(index, f"{last} {initials[0]}[au]")  # initial truncation
    assert "38011560" in _ids(index, f'"{rec.journals[0]}"[ta]')
    # PsyNamic rows carry authors but no journal or language
    assert "38483940" in _ids(index, "levin aw[au]")
    assert "38483940" not in _ids(index, "english[la]")


def test_dates(corpus, index):
    lo, hi = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
    expected = {p for p, r in corpus.pubmed.items() if any(lo <= d <= hi for d in r.pub_dates)}
    res = pq.search('"2024/01/01"[dp] : "2024/12/31"[dp]', index)
    assert res.ids == expected and expected
    assert res.translation == "2024/01/01:2024/12/31[Date - Publication]"
    assert _ids(index, "2024:2024[pdat]") == expected == _ids(index, "2024[dp]")
    assert _ids(index, "2024/01/01:2024/12/31[Date - Publication]") == expected
    edat = {p for p, r in corpus.pubmed.items() if r.entrez_date and r.entrez_date.year == 2023}
    assert _ids(index, "2023[edat]") == edat
    crdt = {p for p, r in corpus.pubmed.items() if r.create_date and r.create_date.year == 2023}
    assert _ids(index, "2023/01/01:2023/12/31[crdt]") == crdt
    assert pq.search("2023[edat]", index).translation == '"2023"[Date - Entry]'


def test_left_to_right_boolean_logic(index):
    a, b, c = _ids(index, "psilocybin"), _ids(index, "ketamine"), _ids(index, "depression")
    assert _ids(index, "psilocybin OR ketamine AND depression") == (a | b) & c
    assert _ids(index, "psilocybin OR (ketamine AND depression)") == a | (b & c)
    assert _ids(index, "psilocybin NOT ketamine") == a - b
    assert _ids(index, "psilocybin ketamine") == a & b  # implicit AND
    res = pq.search("psilocybin OR ketamine AND depression", index)
    assert res.translation == '("psilocybin"[All Fields] OR "ketamine"[All Fields]) AND "depression"[All Fields]'


def test_unknown_unquoted_word_is_reported_and_dropped_like_pubmed(index):
    a = _ids(index, "psilocybin")
    res = pq.search("psilocybin AND zzqxunknownword", index)
    assert res.ids == a
    assert res.phrases_not_found == ["zzqxunknownword"]
    assert res.translation == '"psilocybin"[All Fields]'
    kept = pq.search("psilocybin AND zzqxunknownword", index, not_found="keep")
    assert kept.ids == set() and kept.phrases_not_found == ["zzqxunknownword"]
    only = pq.search("zzqxunknownword", index)
    assert only.ids == set() and only.translation == "(zzqxunknownword[All Fields])"
    quoted = pq.search('"zzqx unknown phrase"', index)
    assert quoted.ids == set() and quoted.quoted_phrases_not_found == ["zzqx unknown phrase"]


def test_unknown_field_tag_is_reported(index):
    res = pq.search("psilocybin[xyz]", index)
    assert res.fields_not_found == ["xyz"]
    assert res.ids == _ids(index, "psilocybin")


@pytest.mark.parametrize("bad", ["((psilocybin", "psilocybin)", "AND psilocybin", "psilocybin OR", "()",
                                 '"unclosed', "2020:2021", "[tiab]", "2020/13/01:2021[dp]"])
def test_syntax_errors_raise_a_clear_error(index, bad):
    with pytest.raises(pq.QuerySyntaxError):
        pq.search(bad, index)


def test_history_references(index):
    stored = sorted(_ids(index, "ketamine"))
    got = pq.search("#1 AND depression", index, history=lambda k: stored if k == 1 else (_ for _ in ()).throw(
        pq.HistoryError(k)))
    assert got.ids == set(stored) & _ids(index, "depression")
    assert got.translation.startswith("#1 AND")
    with pytest.raises(pq.HistoryError, match=r"Unable to obtain query #2"):
        pq.search("#2", index, history=lambda k: (_ for _ in ()).throw(pq.HistoryError(k)))


def test_translation_round_trips(index):
    for q in ["psychedelic* AND english[la] NOT review[pt]", '"2020/01/01"[dp] : "2025/08/13"[dp]',
              "(psilocybin OR ketamine) AND depression[tiab]", "levin aw[au] OR ketamine[mh]"]:
        res = pq.search(q, index)
        assert pq.search(res.translation, index).ids == res.ids


# --------------------------------------------------------------------------- properties

def _vocabulary(corpus):
    counts = {}
    for r in corpus.pubmed.values():
        for w in set(tokens(r.title)):
            if re.fullmatch(r"[a-z]{4,}", w):
                counts[w] = counts.get(w, 0) + 1
    return sorted(w for w, n in counts.items() if n >= 2)[:400]


@pytest.fixture(scope="module")
def vocab(corpus):
    return _vocabulary(corpus)


_TAGS = st.sampled_from(["", "[tiab]", "[ti]", "[all fields]", "*"])


def _atom(vocab):
    return st.tuples(st.sampled_from(vocab), _TAGS).map(lambda t: t[0] + t[1])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_boolean_set_algebra(index, vocab, data):
    a = data.draw(_atom(vocab))
    b = data.draw(_atom(vocab))
    A, B = _ids(index, a, not_found="keep"), _ids(index, b, not_found="keep")
    a_or_b = _ids(index, f"{a} OR {b}", not_found="keep")
    a_and_b = _ids(index, f"{a} AND {b}", not_found="keep")
    a_not_b = _ids(index, f"{a} NOT {b}", not_found="keep")
    assert len(a_or_b) >= max(len(A), len(B))
    assert len(a_and_b) <= min(len(A), len(B))
    assert a_or_b == A | B and a_and_b == A & B and a_not_b == A - B
    assert len(a_not_b) == len(A) - len(a_and_b)
    assert _ids(index, f"({a}) OR ({b})", not_found="keep") == a_or_b
    # words present in the corpus are never dropped, so PubMed's mode gives the same answers
    assert _ids(index, f"{a} AND {b}") == a_and_b


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_wildcard_is_a_superset_of_the_word(index, vocab, data):
    w = data.draw(st.sampled_from(vocab))
    assert _ids(index, w) <= _ids(index, w + "*")
    assert _ids(index, f"{w}[ti]") <= _ids(index, f"{w}[tiab]") <= _ids(index, w)


_PIECES = st.sampled_from(["psilocybin", "ketamine", "AND", "OR", "NOT", "(", ")", '"', "[tiab]", "[xyz]", "[dp]",
                           ":", "2020", "2020/01/01", "#1", "*", "depress*", "[au]", " ", "and", "levin aw", "[",
                           "]", "::", "#", "[la]", "english", "ö", "-"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(_PIECES, max_size=12))
def test_any_input_gives_a_result_or_a_syntax_error_never_a_crash(index, parts):
    q = " ".join(parts)
    try:
        res = pq.search(q, index, history=lambda k: (_ for _ in ()).throw(pq.HistoryError(k)))
    except (pq.QuerySyntaxError, pq.HistoryError):
        return
    assert isinstance(res.translation, str) and res.ids <= index.all_ids


def test_mdat_is_the_records_revision_date():
    """[mdat]: PubMed's modification date, from MedlineCitation/DateRevised of the genuine XML."""
    from pathlib import Path

    from reprisma.emulator import load_corpus
    from reprisma.emulator.pubmed_query import PubmedIndex, search

    xml = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "pubmed" / "metapub").glob("pmid_*.xml"))
    corpus = load_corpus(pubmed_xml=xml)
    revised = {p: r.modified_date for p, r in corpus.pubmed.items()}
    assert any(revised.values())
    pmid, day = next((p, d) for p, d in sorted(revised.items()) if d)
    index = PubmedIndex(corpus.pubmed.values())
    on_day = search(f'"{day:%Y/%m/%d}"[mdat] : "{day:%Y/%m/%d}"[mdat]', index).ids
    assert pmid in on_day and all(revised[p] == day for p in on_day)
