"""Step 3: score candidate pairs and decide: ``match``, ``maybe``, ``cannot`` (or drop).

Scores (rapidfuzz, 0-100, computed pairwise in bulk with ``process.cpdist``):
``title_sim`` = ``fuzz.ratio`` of normalised titles, ``author_sim`` = ``fuzz.token_sort_ratio``
of surname lists (order-free), ``journal_sim`` = abbreviation-aware (``prep_journal``).

Pre-filter: candidates with title_sim < 80, no shared identifier and not the same volume and
first page cannot satisfy any rule below and are dropped before the detailed scoring.

Rules, in order (precision first — a false merge deletes a study):

1. identifiers: same PMID (``pmid``), same PMCID (``pmcid``), the same NCT registration
   (``nct_registration``): match. Same DOI (``doi``): match when the items are of the same kind,
   their titles agree (``title_sim`` >= 60 or one title empty) and have no contrast conflict;
   otherwise ``maybe``.
2. vetoes (never merged by fuzzy rules; recorded as ``cannot`` links when the titles are
   close, so union-find never chains across them): different kind of item (erratum, retraction
   notice, comment, reply, conference abstract vs article — except a conference label guessed
   only from a venue-name suffix when journal, year, volume, first page, title (>= 95) and authors
   (>= 85) all agree, or when the journal record can be that meeting abstract in print (a
   supplement issue or a single page; same journal and year, no other volume or first page,
   title >= 97, authors >= 90): one abstract indexed under the meeting and under the journal),
   contrast conflict in the titles
   (numbers, part/phase, in vivo/in vitro, men/women, ...), different DOIs, years more than one
   apart, different first pages (a one-digit typo in the first page with the same last page is
   not a difference), different volumes, an empty title. Pages no rule can parse (``87A``,
   ``01-Aug``) agree when written the same. A record without volume whose issue and first page
   equal the other's volume and issue has its fields shifted one column (an export artefact):
   the volumes agree and its page is unknown.
3. fuzzy rules (no veto):
   ``title+authors``: title_sim >= 95, author_sim >= 85, years at most 1 apart, at least two
   of {same year, same first page, same volume, compatible journal}, one of them the page or
   the journal;
   ``title+pages+volume``: title_sim >= 90, same first page and volume, years at most 1 apart,
   author_sim >= 70 or authors missing on one side;
   ``authors+pages``: title_sim >= 85, author_sim >= 95, same year and first page, and same
   volume or compatible journal.
   ``title+journal+pages+volume``: title_sim >= 97, same year, first page, volume and compatible
   journal (authors may be garbled: ``Group, ASCUS-LSIL Triage Study`` vs ``Solomon, D``);
   ``title-prefix+journal+pages+volume``: one title is a truncation of the other or sits inside
   it (the shorter, >= 30 characters and 4 words, aligns with part of the longer at
   ``partial_ratio`` >= 95), same year, first page, volume,
   compatible journal, author_sim >= 85, and no contrast conflict in the shared part;
   ``authors+journal+pages+volume``: author_sim >= 95, same year, first page, volume and
   compatible journal, one title marked as a translation (``[...]``), no veto — an
   original-language title vs its English translation (without the marker, abstracts printed
   on the same supplement page by the same group would merge);
   ``title+authors+year``: title_sim >= 97, author_sim >= 90 (or no authors on either), same year, and neither record has
   pages or volume (nothing that could contradict: conference papers, reports).
   ``author_sim`` is the larger of token_sort and token_set ratios when both lists name at least
   two people (truncated author lists).
   Titles of fewer than four words (``Erratum``, ``Editorial``) additionally need the same first
   page and the same volume or journal.
4. ``maybe``: not matched, no kind or contrast veto, title_sim >= 85 — or vetoed with
   title_sim >= 95 — listed for a human (``--maybe``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from .prep_journal import journal_similarity
from .prep_title import contrast_conflict, contrast_tokens

MAYBE_TITLE = 85.0
SCORED_COLUMNS = [
    "a", "b", "record_id_a", "record_id_b", "via", "decision", "rule", "veto", "score",
    "title_sim", "author_sim", "journal_sim", "year_a", "year_b", "volume_a", "volume_b",
    "page_a", "page_b", "doi_a", "doi_b",
]


def _take(records: pd.DataFrame, col: str, idx: np.ndarray) -> np.ndarray:
    return records[col].to_numpy()[idx]


def _cpdist(x: np.ndarray, y: np.ndarray, scorer, workers: int) -> np.ndarray:
    if len(x) == 0:
        return np.empty(0, dtype=np.float32)
    return process.cpdist(list(x), list(y), scorer=scorer, workers=workers, dtype=np.float32)


def _prefilter(records: pd.DataFrame, pairs: pd.DataFrame, workers: int) -> pd.DataFrame:
    """Drop pairs no rule can reach (title_sim < 80, no shared identifier, not the same volume and
    first page): most candidates, removed with one bulk title comparison."""
    a = pairs["a"].to_numpy(dtype=np.int64)
    b = pairs["b"].to_numpy(dtype=np.int64)
    title_sim = _cpdist(_take(records, "n_title", a), _take(records, "n_title", b), fuzz.ratio, workers)
    va, vb = _take(records, "n_volume", a), _take(records, "n_volume", b)
    pa, pb = _take(records, "n_page_first", a), _take(records, "n_page_first", b)
    la, lb = _take(records, "n_page_last", a), _take(records, "n_page_last", b)
    same_page = (pa != "") & (pb != "") & ((pa == pb) | ((la == "") & (pa == lb)) | ((lb == "") & (pb == la)))
    keep = (title_sim >= 80.0) | pairs["via"].isin(["pmid", "pmcid", "doi", "nct"]).to_numpy() | (
        same_page & (va != "") & (va == vb))
    return pairs[keep]


def match(records: pd.DataFrame, pairs: pd.DataFrame, workers: int = -1, keep_all: bool = False) -> pd.DataFrame:
    """Score ``pairs`` (from :func:`block`) and keep the ``match``/``maybe``/``cannot`` rows
    (with ``keep_all``, every pair that passed the pre-filter)."""
    if len(pairs):
        pairs = _prefilter(records, pairs, workers)
    if len(pairs) == 0:
        return pd.DataFrame({c: pd.Series([], dtype=np.int64 if c in ("a", "b") else object) for c in SCORED_COLUMNS})
    a = pairs["a"].to_numpy(dtype=np.int64)
    b = pairs["b"].to_numpy(dtype=np.int64)
    n = len(a)
    ta, tb = _take(records, "n_title", a), _take(records, "n_title", b)
    title_sim = _cpdist(ta, tb, fuzz.ratio, workers)
    empty_title = (ta == "") | (tb == "")
    title_sim[empty_title] = 0.0
    aa, ab = _take(records, "n_authors", a), _take(records, "n_authors", b)
    author_sim = _cpdist(aa, ab, fuzz.token_sort_ratio, workers)
    # Truncated author lists ("et al.", first six only): a subset agrees when it names >= 2 people.
    set_sim = _cpdist(aa, ab, fuzz.token_set_ratio, workers)
    min_count = np.minimum(_take(records, "n_author_count", a), _take(records, "n_author_count", b))
    author_sim = np.where(min_count >= 2, np.maximum(author_sim, set_sim), author_sim).astype(np.float32)
    authors_missing = (aa == "") | (ab == "")
    author_sim[authors_missing] = -1.0

    ya, yb = _take(records, "n_year", a), _take(records, "n_year", b)
    year_known = (ya > 0) & (yb > 0)
    year_gap = np.where(year_known, np.abs(ya - yb), 0)
    va, vb = _take(records, "n_volume", a), _take(records, "n_volume", b)
    vol_known = (va != "") & (vb != "")
    vol_eq, vol_ne = vol_known & (va == vb), vol_known & (va != vb)
    pa, pb = _take(records, "n_page_first", a), _take(records, "n_page_first", b)
    la, lb = _take(records, "n_page_last", a), _take(records, "n_page_last", b)
    ra, rb = _take(records, "n_page_raw", a), _take(records, "n_page_raw", b)
    page_known = (pa != "") & (pb != "")
    # A single page equal to the other's last page ("488" vs "487-488") agrees; so do two
    # unparsable page strings written the same.
    page_eq = (page_known & ((pa == pb) | ((la == "") & (pa == lb)) | ((lb == "") & (pb == la)))
               | ((ra != "") & (ra == rb)))
    # A typo in the first page ("2297-2108" vs "2097-2108", "2141-2147" vs "2142-2147"): same last
    # page and first pages of one length differing in one digit.
    for i in np.flatnonzero(page_known & ~page_eq & (la != "") & (la == lb)):
        x, y = pa[i], pb[i]
        if len(x) == len(y) and sum(c != d for c, d in zip(x, y)) == 1:
            page_eq[i] = True
    # Fields shifted by one column when the volume is missing (an export artefact): volume "",
    # issue "26", pages "9" is volume 26, issue 9 with the pages lost.
    ia, ib = _take(records, "n_issue", a), _take(records, "n_issue", b)
    shifted = (((va == "") & (ia != "") & (ia == vb) & (la == "") & (pa == ib))
               | ((vb == "") & (ib != "") & (ib == va) & (lb == "") & (pb == ia)))
    vol_eq = vol_eq | shifted
    page_ne = page_known & ~page_eq & ~shifted
    da, db = _take(records, "n_doi", a), _take(records, "n_doi", b)
    doi_eq = (da != "") & (da == db)
    doi_ne = (da != "") & (db != "") & (da != db)
    ka, kb = _take(records, "n_kind", a), _take(records, "n_kind", b)
    kind_ne = ka != kb
    weak_a, weak_b = _take(records, "n_kind_weak", a), _take(records, "n_kind_weak", b)
    kind_weak_only = kind_ne & ((weak_a & (kb == "")) | (weak_b & (ka == "")))

    close = (title_sim >= 80.0) | doi_eq | (page_eq & vol_eq & (author_sim >= 85))
    journal_sim = np.full(n, -1.0, dtype=np.float32)
    contrast = np.full(n, "", dtype=object)
    ja, jb = _take(records, "n_journal", a), _take(records, "n_journal", b)
    ca, cb = _take(records, "n_contrast", a), _take(records, "n_contrast", b)
    prefix_sim = np.zeros(n, dtype=np.float32)
    prefix_contrast = np.full(n, "", dtype=object)
    for i in np.flatnonzero(close):
        journal_sim[i] = journal_similarity(ja[i], jb[i])
        if ca[i] != cb[i]:
            contrast[i] = contrast_conflict(ca[i], cb[i])
        # Truncated titles (databases cut long titles, or drop a subtitle): compare the
        # shorter title with the same length of the longer one, words cut at the end dropped.
        # Also a title inside a longer one ("MEDICAL PROGRESS Atypical ..."): the aligned part.
        short, long_ = (ta[i], tb[i]) if len(ta[i]) <= len(tb[i]) else (tb[i], ta[i])
        if len(short) >= 30 and short.count(" ") >= 3 and len(long_) > len(short):
            al = fuzz.partial_ratio_alignment(short, long_)
            if al is not None and al.score >= 95:
                part = long_[al.dest_start:al.dest_end]
                prefix_sim[i] = al.score
                cut_s = " ".join(short.split()[1:-1])
                cut_l = " ".join(part.split()[1:-1])
                prefix_contrast[i] = contrast_conflict(contrast_tokens(cut_s), contrast_tokens(cut_l))
    prefix_sim = np.maximum(prefix_sim, title_sim)
    journal_ok = journal_sim >= 90.0
    contrast_ne = contrast != ""
    # Same journal, year, volume and first page, same title and authors: a venue-name
    # "Conference:" suffix on one side is a labelling difference, not a different item.
    same_place = year_known & (year_gap == 0) & page_eq & vol_eq & journal_ok
    # A meeting abstract indexed twice: once under the meeting ("Journal.Conference: ..."), once
    # as printed in that journal (a supplement issue, or a single page: a record without pages
    # could as well be the full article ahead of print). Nothing may disagree: same year and
    # journal, no different volume or first page, same title and authors.
    sa, sb = _take(records, "n_supplement", a), _take(records, "n_supplement", b)
    abstract_like_a = sa | ((pa != "") & (la == ""))
    abstract_like_b = sb | ((pb != "") & (lb == ""))
    printed = np.where(weak_a, abstract_like_b, abstract_like_a)
    same_abstract = (year_known & (year_gap == 0) & journal_ok & ~page_ne & ~vol_ne & printed
                     & (title_sim >= 97) & (author_sim >= 90))
    kind_ne = kind_ne & ~(kind_weak_only & ((same_place & (title_sim >= 95) & (author_sim >= 85)) | same_abstract))

    # Vetoes, most fundamental first.
    veto = np.full(n, "", dtype=object)

    def set_veto(mask: np.ndarray, text) -> None:
        m = mask & (veto == "")
        if isinstance(text, np.ndarray):
            veto[m] = text[m]
        else:
            veto[m] = text

    kind_text = np.full(n, "", dtype=object)
    for i in np.flatnonzero(kind_ne):
        kind_text[i] = f"kind {ka[i] or 'article'}/{kb[i] or 'article'}"
    set_veto(kind_ne, kind_text)
    contrast_text = np.full(n, "", dtype=object)
    for i in np.flatnonzero(contrast_ne):
        contrast_text[i] = "contrast " + contrast[i]
    set_veto(contrast_ne, contrast_text)
    set_veto(doi_ne, "different doi")
    set_veto(year_known & (year_gap > 1), "years differ")
    set_veto(page_ne, "different first page")
    set_veto(vol_ne, "different volume")
    set_veto(empty_title, "empty title")
    vetoed = veto != ""

    words_a = _take(records, "n_title_words", a)
    words_b = _take(records, "n_title_words", b)
    short_title = np.where(words_a == 0, words_b, words_a) < 4
    support = (year_known & (year_gap == 0)).astype(int) + page_eq + vol_eq + journal_ok
    short_ok = ~short_title | (page_eq & (vol_eq | journal_ok))
    year_close = year_gap <= 1

    rule = np.full(n, "", dtype=object)
    decision = np.full(n, "", dtype=object)

    r1 = (title_sim >= 95) & (author_sim >= 85) & year_close & (support >= 2) & (page_eq | journal_ok)
    r2 = (title_sim >= 90) & page_eq & vol_eq & year_close & ((author_sim >= 70) | authors_missing)
    r3 = (title_sim >= 85) & (author_sim >= 95) & year_known & (year_gap == 0) & page_eq & (vol_eq | journal_ok)
    same_issue_page = year_known & (year_gap == 0) & page_eq & vol_eq & journal_ok
    r4 = (title_sim >= 97) & same_issue_page
    fuzzy_ok = ~vetoed & short_ok
    for mask, name in ((r1, "title+authors"), (r2, "title+pages+volume"), (r3, "authors+pages"),
                       (r4, "title+journal+pages+volume")):
        m = mask & fuzzy_ok & (rule == "")
        rule[m] = name
        decision[m] = "match"

    # Truncated title: only with the same journal, year, volume and first page and the same authors,
    # and no contrast conflict in the part both titles share.
    only_contrast = (veto == "") | (contrast_ne & ~kind_ne)
    r5 = ((prefix_sim >= 95) & same_issue_page & (author_sim >= 85) & (author_sim >= 0) & ~kind_ne & ~doi_ne
          & (prefix_contrast == "") & only_contrast & ~empty_title & (rule == ""))
    rule[r5] = "title-prefix+journal+pages+volume"
    decision[r5] = "match"
    veto[r5] = ""
    # Same authors, journal, year, volume and first page: the same article even when one
    # database gives the original-language title and the other the English one.
    translated = _take(records, "n_translated", a) | _take(records, "n_translated", b)
    r6 = same_issue_page & (author_sim >= 95) & translated & ~vetoed & ~empty_title & (rule == "")
    # Nothing to contradict: neither record has pages nor volume (conference papers, reports).
    bare = (pa == "") & (pb == "") & (va == "") & (vb == "")
    no_authors = (aa == "") & (ab == "")
    r7 = (title_sim >= 97) & ((author_sim >= 90) | no_authors) & year_known & (year_gap == 0) & bare & ~vetoed & ~short_title & (rule == "")
    rule[r7] = "title+authors+year"
    decision[r7] = "match"
    rule[r6] = "authors+journal+pages+volume"
    decision[r6] = "match"
    vetoed = veto != ""

    # Identifiers override the fuzzy rules.
    pm = _take(records, "n_pmid", a)
    pmid_eq = (pm != "") & (pm == _take(records, "n_pmid", b))
    pc = _take(records, "n_pmcid", a)
    pmcid_eq = (pc != "") & (pc == _take(records, "n_pmcid", b))
    rg = _take(records, "n_registration", a)
    reg_eq = (rg != "") & (rg == _take(records, "n_registration", b))
    doi_ok = doi_eq & ~kind_ne & ~contrast_ne & ((title_sim >= 60) | empty_title)
    for mask, name in ((doi_ok, "doi"), (reg_eq, "nct_registration"), (pmcid_eq, "pmcid"), (pmid_eq, "pmid")):
        rule[mask] = name
        decision[mask] = "match"
        veto[mask] = ""

    strong_veto = vetoed & (decision == "")
    cannot = strong_veto & ((title_sim >= MAYBE_TITLE) | doi_eq)
    decision[cannot] = "cannot"
    maybe = (decision == "") & (((title_sim >= MAYBE_TITLE) & ~kind_ne & ~contrast_ne) | doi_eq)
    decision[maybe] = "maybe"

    score = np.round(0.6 * title_sim.astype(np.float64) + 0.3 * np.maximum(author_sim, 0).astype(np.float64)
                     + 2.5 * support, 2)
    out = pd.DataFrame({
        "a": a, "b": b,
        "record_id_a": _take(records, "record_id", a), "record_id_b": _take(records, "record_id", b),
        "via": pairs["via"].to_numpy(), "decision": decision, "rule": rule, "veto": veto, "score": score,
        "title_sim": np.round(title_sim.astype(np.float64), 1), "author_sim": np.round(author_sim.astype(np.float64), 1),
        "journal_sim": np.round(journal_sim.astype(np.float64), 1), "year_a": ya, "year_b": yb, "volume_a": va, "volume_b": vb,
        "page_a": pa, "page_b": pb, "doi_a": da, "doi_b": db,
    })
    if not keep_all:
        out = out[out["decision"] != ""]
    return out.reset_index(drop=True)
