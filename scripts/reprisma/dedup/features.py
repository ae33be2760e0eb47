"""Named pair features: what :mod:`.rules` compares, one small function each.

Every feature is registered in :data:`FEATURES` (name -> :class:`Feature`, in computation order)
with a one-line description; :func:`compute` evaluates them all for a batch of candidate pairs
and returns ``{name: array}``. A feature may use the features registered before it (``f[...]``).
Scores come from rapidfuzz (0-100, computed in bulk with ``process.cpdist``); ``-1`` means "not
comparable" (a field missing on one side).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from .prep_journal import journal_similarity
from .prep_title import contrast_conflict, contrast_tokens
from .rules import CLOSE_TITLE

Arrays = dict[str, np.ndarray]


class Pairs:
    """Both sides of a batch of pairs: ``pair.a("n_title")`` / ``pair.b("n_title")``."""

    def __init__(self, records: pd.DataFrame, a: np.ndarray, b: np.ndarray, workers: int) -> None:
        self.records, self.ia, self.ib, self.workers = records, a, b, workers
        self.n = len(a)

    def a(self, col: str) -> np.ndarray:
        return self.records[col].to_numpy()[self.ia]

    def b(self, col: str) -> np.ndarray:
        return self.records[col].to_numpy()[self.ib]

    def both(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        return self.a(col), self.b(col)

    def cpdist(self, col: str, scorer) -> np.ndarray:
        x, y = self.both(col)
        return cpdist(x, y, scorer, self.workers)

    def equal(self, col: str) -> np.ndarray:
        """Same non-empty value on both sides."""
        x, y = self.both(col)
        return (x != "") & (x == y)

    def differ(self, col: str) -> np.ndarray:
        """Non-empty on both sides and different."""
        x, y = self.both(col)
        return (x != "") & (y != "") & (x != y)


@dataclass(frozen=True)
class Feature:
    name: str
    doc: str
    fn: Callable[[Pairs, Arrays], np.ndarray]


FEATURES: dict[str, Feature] = {}


def feature(doc: str):
    def register(fn):
        FEATURES[fn.__name__] = Feature(fn.__name__, doc, fn)
        return fn
    return register


def cpdist(x: np.ndarray, y: np.ndarray, scorer, workers: int) -> np.ndarray:
    if len(x) == 0:
        return np.empty(0, dtype=np.float32)
    return process.cpdist(list(x), list(y), scorer=scorer, workers=workers, dtype=np.float32)


def notice_similarity(x: np.ndarray, y: np.ndarray, workers: int) -> np.ndarray:
    """Title similarity of a notice and an article (see ``core_sim``)."""
    sim = cpdist(x, y, fuzz.ratio, workers)
    part = cpdist(x, y, fuzz.partial_ratio, workers)
    shorter = np.array([min((len(u), u), (len(v), v))[1] for u, v in zip(x, y)], dtype=object)
    long_enough = np.array([len(s) >= 30 and s.count(" ") >= 3 for s in shorter], dtype=bool)
    return np.where(long_enough, np.maximum(sim, part), sim).astype(np.float32)


def same_first_page(p: Pairs) -> np.ndarray:
    """First pages agree, or a single page equals the other's last page (``488`` vs ``487-488``)."""
    pa, pb = p.both("n_page_first")
    la, lb = p.both("n_page_last")
    return (pa != "") & (pb != "") & ((pa == pb) | ((la == "") & (pa == lb)) | ((lb == "") & (pb == la)))


# --- titles -----------------------------------------------------------------------------------

@feature("a title is empty on either side")
def empty_title(p: Pairs, f: Arrays) -> np.ndarray:
    ta, tb = p.both("n_title")
    return (ta == "") | (tb == "")


@feature("fuzz.ratio of the normalised titles (0 when one is empty)")
def title_sim(p: Pairs, f: Arrays) -> np.ndarray:
    s = p.cpdist("n_title", fuzz.ratio)
    s[f["empty_title"]] = 0.0
    return s


@feature("the title of the pair's first record (the second's when it has none) has fewer than four words:"
         " Erratum, Editorial")
def short_title(p: Pairs, f: Arrays) -> np.ndarray:
    wa, wb = p.both("n_title_words")
    return np.where(wa == 0, wb, wa) < 4


@feature("one title is marked as a translation (MEDLINE's [...])")
def translated(p: Pairs, f: Arrays) -> np.ndarray:
    return p.a("n_translated") | p.b("n_translated")


# --- authors ----------------------------------------------------------------------------------

@feature("authors missing on one side")
def authors_missing(p: Pairs, f: Arrays) -> np.ndarray:
    aa, ab = p.both("n_authors")
    return (aa == "") | (ab == "")


@feature("no authors on either side")
def no_authors(p: Pairs, f: Arrays) -> np.ndarray:
    aa, ab = p.both("n_authors")
    return (aa == "") & (ab == "")


@feature("fuzz.token_sort_ratio of surname lists; the larger of it and token_set_ratio when both name"
         " >= 2 people (truncated lists); -1 when one side has none")
def author_sim(p: Pairs, f: Arrays) -> np.ndarray:
    s = p.cpdist("n_authors", fuzz.token_sort_ratio)
    set_sim = p.cpdist("n_authors", fuzz.token_set_ratio)
    min_count = np.minimum(p.a("n_author_count"), p.b("n_author_count"))
    s = np.where(min_count >= 2, np.maximum(s, set_sim), s).astype(np.float32)
    s[f["authors_missing"]] = -1.0
    return s


# --- year, volume, pages ----------------------------------------------------------------------

@feature("both years known")
def year_known(p: Pairs, f: Arrays) -> np.ndarray:
    ya, yb = p.both("n_year")
    return (ya > 0) & (yb > 0)


@feature("|year a - year b| (0 when one is unknown)")
def year_gap(p: Pairs, f: Arrays) -> np.ndarray:
    ya, yb = p.both("n_year")
    return np.where(f["year_known"], np.abs(ya - yb), 0)


@feature("both years known and equal")
def same_year(p: Pairs, f: Arrays) -> np.ndarray:
    return f["year_known"] & (f["year_gap"] == 0)


@feature("years at most one apart (or one unknown)")
def year_close(p: Pairs, f: Arrays) -> np.ndarray:
    return f["year_gap"] <= 1


@feature("volume, issue and pages shifted one column on one side (volume missing: issue = the other's"
         " volume, single page = the other's issue)")
def shifted(p: Pairs, f: Arrays) -> np.ndarray:
    va, vb = p.both("n_volume")
    ia, ib = p.both("n_issue")
    pa, pb = p.both("n_page_first")
    la, lb = p.both("n_page_last")
    return (((va == "") & (ia != "") & (ia == vb) & (la == "") & (pa == ib))
            | ((vb == "") & (ib != "") & (ib == va) & (lb == "") & (pb == ia)))


@feature("same volume (or the volume recovered from a shifted record)")
def vol_eq(p: Pairs, f: Arrays) -> np.ndarray:
    return p.equal("n_volume") | f["shifted"]


@feature("both volumes known and different")
def vol_ne(p: Pairs, f: Arrays) -> np.ndarray:
    return p.differ("n_volume")


@feature("same first page (single page = other's last page; identical unparsable page strings;"
         " a one-digit typo in the first page with the same last page)")
def page_eq(p: Pairs, f: Arrays) -> np.ndarray:
    pa, pb = p.both("n_page_first")
    la, lb = p.both("n_page_last")
    ra, rb = p.both("n_page_raw")
    page_known = (pa != "") & (pb != "")
    eq = same_first_page(p) | ((ra != "") & (ra == rb))
    for i in np.flatnonzero(page_known & ~eq & (la != "") & (la == lb)):
        x, y = pa[i], pb[i]
        if len(x) == len(y) and sum(c != d for c, d in zip(x, y)) == 1:
            eq[i] = True
    return eq


@feature("both first pages known and not the same page (a shifted record's page is unknown)")
def page_ne(p: Pairs, f: Arrays) -> np.ndarray:
    pa, pb = p.both("n_page_first")
    return (pa != "") & (pb != "") & ~f["page_eq"] & ~f["shifted"]


@feature("neither record has pages or volume (conference papers, reports)")
def bare(p: Pairs, f: Arrays) -> np.ndarray:
    pa, pb = p.both("n_page_first")
    va, vb = p.both("n_volume")
    return (pa == "") & (pb == "") & (va == "") & (vb == "")


# --- identifiers ------------------------------------------------------------------------------

@feature("same normalised DOI")
def doi_eq(p: Pairs, f: Arrays) -> np.ndarray:
    return p.equal("n_doi")


@feature("both DOIs known and different")
def doi_ne(p: Pairs, f: Arrays) -> np.ndarray:
    return p.differ("n_doi")


@feature("same PMID")
def pmid_eq(p: Pairs, f: Arrays) -> np.ndarray:
    return p.equal("n_pmid")


@feature("same PMCID")
def pmcid_eq(p: Pairs, f: Arrays) -> np.ndarray:
    return p.equal("n_pmcid")


@feature("same NCT registration (two registry records)")
def reg_eq(p: Pairs, f: Arrays) -> np.ndarray:
    return p.equal("n_registration")


# --- issue 15: notices, generic titles, other languages -----------------------------------------

@feature("for pairs of different kinds (0 otherwise): fuzz.ratio of the titles without a notice's own words"
         " (erratum, reply, comment, ...), or partial_ratio when the shorter has >= 30 characters and 4 words"
         " (a notice's title often carries a cut citation): how close a notice is to the article it is about")
def core_sim(p: Pairs, f: Arrays) -> np.ndarray:
    out = np.zeros(p.n, dtype=np.float32)
    ka, kb = p.both("n_kind")
    m = np.flatnonzero((ka != kb) & ~f["empty_title"])
    if len(m):
        ca, cb = p.both("n_title_core")
        out[m] = notice_similarity(ca[m], cb[m], p.workers)
    return out


@feature("both issues known and different")
def issue_ne(p: Pairs, f: Arrays) -> np.ndarray:
    return p.differ("n_issue")


@feature("a generic title (prep: a standing column or a title recurring at different places) on either side")
def generic(p: Pairs, f: Arrays) -> np.ndarray:
    return p.a("n_generic") | p.b("n_generic")


@feature("volume, first page (both known) and issue (when both known) agree")
def locators_agree(p: Pairs, f: Arrays) -> np.ndarray:
    pa, pb = p.both("n_page_first")
    return (p.equal("n_volume") | f["shifted"]) & f["page_eq"] & (pa != "") & (pb != "") & ~f["issue_ne"]


@feature("the titles are in different languages (function words), or one is marked as a translation")
def other_language(p: Pairs, f: Arrays) -> np.ndarray:
    return p.differ("n_lang") | f["translated"]


@feature("the same page range: first and last pages known on both sides, equal, the range longer than one"
         " page, and neither record in a supplement (where one range can hold many abstracts)")
def same_page_range(p: Pairs, f: Arrays) -> np.ndarray:
    pa, pb = p.both("n_page_first")
    la, lb = p.both("n_page_last")
    sa, sb = p.both("n_supplement")
    return (pa != "") & (pa == pb) & (la != "") & (la == lb) & (la != pa) & ~sa & ~sb


# --- the detailed comparisons (only for pairs close enough to matter) -------------------------

@feature("close enough for the detailed comparisons: title_sim >= 80, same DOI, same page and volume with"
         " author_sim >= 85, or the same page range and volume")
def close(p: Pairs, f: Arrays) -> np.ndarray:
    return ((f["title_sim"] >= CLOSE_TITLE) | f["doi_eq"] | (f["page_eq"] & f["vol_eq"] & (f["author_sim"] >= 85))
            | (f["same_page_range"] & f["vol_eq"]))


@feature("abbreviation-aware journal similarity (prep_journal; -1 when not close)")
def journal_sim(p: Pairs, f: Arrays) -> np.ndarray:
    out = np.full(p.n, -1.0, dtype=np.float32)
    ja, jb = p.both("n_journal")
    for i in np.flatnonzero(f["close"]):
        out[i] = journal_similarity(ja[i], jb[i])
    return out


@feature("journal_sim >= 90: the same journal")
def journal_ok(p: Pairs, f: Arrays) -> np.ndarray:
    return f["journal_sim"] >= 90.0


@feature("the titles' contrast conflict (numbers, part/phase, in vivo/in vitro, men/women, ...), '' if none")
def contrast(p: Pairs, f: Arrays) -> np.ndarray:
    out = np.full(p.n, "", dtype=object)
    ca, cb = p.both("n_contrast")
    for i in np.flatnonzero(f["close"]):
        if ca[i] != cb[i]:
            out[i] = contrast_conflict(ca[i], cb[i])
    return out


@feature("the titles contrast")
def contrast_ne(p: Pairs, f: Arrays) -> np.ndarray:
    return f["contrast"] != ""


def _prefix(p: Pairs, f: Arrays) -> tuple[np.ndarray, np.ndarray]:
    """Truncated titles (databases cut long titles, or drop a subtitle): the shorter title
    (>= 30 characters, 4 words) against the part of the longer one it aligns with
    (``partial_ratio_alignment`` >= 95), and the contrast conflict of that part with the words cut
    at either end dropped. Also a title inside a longer one (``MEDICAL PROGRESS Atypical ...``)."""
    sim = np.zeros(p.n, dtype=np.float32)
    conflict = np.full(p.n, "", dtype=object)
    ta, tb = p.both("n_title")
    for i in np.flatnonzero(f["close"]):
        short, long_ = (ta[i], tb[i]) if len(ta[i]) <= len(tb[i]) else (tb[i], ta[i])
        if len(short) >= 30 and short.count(" ") >= 3 and len(long_) > len(short):
            al = fuzz.partial_ratio_alignment(short, long_)
            if al is not None and al.score >= 95:
                part = long_[al.dest_start:al.dest_end]
                sim[i] = al.score
                cut_s = " ".join(short.split()[1:-1])
                cut_l = " ".join(part.split()[1:-1])
                conflict[i] = contrast_conflict(contrast_tokens(cut_s), contrast_tokens(cut_l))
    return sim, conflict


@feature("the shorter title aligned inside the longer one (partial_ratio, >= 95 counts; else title_sim)")
def prefix_sim(p: Pairs, f: Arrays) -> np.ndarray:
    sim, conflict = _prefix(p, f)
    f["_prefix_conflict"] = conflict
    return np.maximum(sim, f["title_sim"])


@feature("contrast conflict inside the part both titles share ('' if none)")
def prefix_contrast(p: Pairs, f: Arrays) -> np.ndarray:
    return f.pop("_prefix_conflict")


# --- places and kinds -------------------------------------------------------------------------

@feature("same year, first page, volume and journal")
def same_issue_page(p: Pairs, f: Arrays) -> np.ndarray:
    return f["same_year"] & f["page_eq"] & f["vol_eq"] & f["journal_ok"]


@feature("a meeting abstract indexed under the meeting (weak conference kind) and as printed in that"
         " journal (a supplement or a single page): same year and journal, no other volume or first"
         " page, title_sim >= 97, author_sim >= 90")
def same_abstract(p: Pairs, f: Arrays) -> np.ndarray:
    sa, sb = p.both("n_supplement")
    pa, pb = p.both("n_page_first")
    la, lb = p.both("n_page_last")
    abstract_like_a = sa | ((pa != "") & (la == ""))
    abstract_like_b = sb | ((pb != "") & (lb == ""))
    printed = np.where(p.a("n_kind_weak"), abstract_like_b, abstract_like_a)
    return (f["same_year"] & f["journal_ok"] & ~f["page_ne"] & ~f["vol_ne"] & printed
            & (f["title_sim"] >= 97) & (f["author_sim"] >= 90))


@feature("different kind of item (erratum, retraction, comment, reply, conference abstract, registration"
         " vs article), except a conference kind guessed only from the venue name when the place, title"
         " (>= 95) and authors (>= 85) agree, or when it is the same meeting abstract in print")
def kind_ne(p: Pairs, f: Arrays) -> np.ndarray:
    ka, kb = p.both("n_kind")
    wa, wb = p.both("n_kind_weak")
    ne = ka != kb
    weak_only = ne & ((wa & (kb == "")) | (wb & (ka == "")))
    excused = weak_only & ((f["same_issue_page"] & (f["title_sim"] >= 95) & (f["author_sim"] >= 85))
                           | f["same_abstract"])
    return ne & ~excused


@feature("the two kinds, for a kind veto ('kind erratum/article')")
def kind_text(p: Pairs, f: Arrays) -> np.ndarray:
    ka, kb = p.both("n_kind")
    out = np.full(p.n, "", dtype=object)
    for i in np.flatnonzero(f["kind_ne"]):
        out[i] = f"kind {ka[i] or 'article'}/{kb[i] or 'article'}"
    return out


@feature("how many of {same year, same first page, same volume, same journal} hold")
def support(p: Pairs, f: Arrays) -> np.ndarray:
    return f["same_year"].astype(int) + f["page_eq"] + f["vol_eq"] + f["journal_ok"]


@feature("a short title (< 4 words) has the same first page and the same volume or journal; any longer"
         " title passes")
def short_ok(p: Pairs, f: Arrays) -> np.ndarray:
    return ~f["short_title"] | (f["page_eq"] & (f["vol_eq"] | f["journal_ok"]))


def compute(records: pd.DataFrame, a: np.ndarray, b: np.ndarray, workers: int = -1) -> Arrays:
    """Every feature of :data:`FEATURES` for the pairs (``a[i]``, ``b[i]``) of row positions."""
    p = Pairs(records, a, b, workers)
    f: Arrays = {}
    for feat in FEATURES.values():
        f[feat.name] = feat.fn(p, f)
    return f
