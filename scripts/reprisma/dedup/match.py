"""Step 3: score candidate pairs and decide: ``match``, ``maybe``, ``cannot`` (or drop).

The features compared are named in :mod:`.features` (one function each, rapidfuzz scores computed
in bulk); the vetoes and rules that decide are named data in :mod:`.rules` (the README's rule
list is generated from that table).

Pre-filter: candidates with title_sim < 80, no shared identifier and not the same volume and
first page cannot satisfy any rule and are dropped before the detailed scoring (a notice whose
title, without its own words, is close to the other's is kept: it becomes a ``cannot`` link and a
``maybe`` row).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from .features import compute, cpdist, notice_similarity
from .rules import CLOSE_TITLE, MAYBE_TITLE, NOTICE_CORE, decide  # noqa: F401  (MAYBE_TITLE: part of this module's API)

SCORED_COLUMNS = [
    "a", "b", "record_id_a", "record_id_b", "via", "decision", "rule", "veto", "veto_name", "score",
    "title_sim", "author_sim", "journal_sim", "year_a", "year_b", "volume_a", "volume_b",
    "page_a", "page_b", "doi_a", "doi_b",
]
IDENTIFIER_KEYS = ["pmid", "pmcid", "doi", "nct"]


def _prefilter(records: pd.DataFrame, pairs: pd.DataFrame, workers: int) -> pd.DataFrame:
    """Drop pairs no rule can reach (title_sim < 80, no shared identifier, not the same volume and
    first page): most candidates, removed with one bulk title comparison."""
    a = pairs["a"].to_numpy(dtype=np.int64)
    b = pairs["b"].to_numpy(dtype=np.int64)
    col = lambda c, i: records[c].to_numpy()[i]  # noqa: E731
    title_sim = cpdist(col("n_title", a), col("n_title", b), fuzz.ratio, workers)
    va, vb = col("n_volume", a), col("n_volume", b)
    pa, pb = col("n_page_first", a), col("n_page_first", b)
    la, lb = col("n_page_last", a), col("n_page_last", b)
    same_page = (pa != "") & (pb != "") & ((pa == pb) | ((la == "") & (pa == lb)) | ((lb == "") & (pb == la)))
    keep = (title_sim >= CLOSE_TITLE) | pairs["via"].isin(IDENTIFIER_KEYS).to_numpy() | (
        same_page & (va != "") & (va == vb))
    # A notice (erratum, reply, comment) and the record it is about: kept for the cannot-link and
    # the maybe list when their titles without the notice's words agree.
    notice = np.flatnonzero(~keep & (col("n_kind", a) != col("n_kind", b)))
    if len(notice):
        core = notice_similarity(col("n_title_core", a[notice]), col("n_title_core", b[notice]), workers)
        keep[notice[core >= NOTICE_CORE]] = True
    return pairs[keep]


def match(records: pd.DataFrame, pairs: pd.DataFrame, workers: int = -1, keep_all: bool = False,
          disabled_rules: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Score ``pairs`` (from :func:`block`) and keep the ``match``/``maybe``/``cannot`` rows
    (with ``keep_all``, every pair that passed the pre-filter; ``disabled_rules``: rule names skipped)."""
    if len(pairs):
        pairs = _prefilter(records, pairs, workers)
    if len(pairs) == 0:
        return pd.DataFrame({c: pd.Series([], dtype=np.int64 if c in ("a", "b") else object) for c in SCORED_COLUMNS})
    a = pairs["a"].to_numpy(dtype=np.int64)
    b = pairs["b"].to_numpy(dtype=np.int64)
    f = compute(records, a, b, workers)
    decision, rule, veto, veto_name = decide(f, frozenset(disabled_rules))
    title_sim, author_sim = f["title_sim"], f["author_sim"]
    score = np.round(0.6 * title_sim.astype(np.float64) + 0.3 * np.maximum(author_sim, 0).astype(np.float64)
                     + 2.5 * f["support"], 2)
    col = lambda c, i: records[c].to_numpy()[i]  # noqa: E731
    out = pd.DataFrame({
        "a": a, "b": b,
        "record_id_a": col("record_id", a), "record_id_b": col("record_id", b),
        "via": pairs["via"].to_numpy(), "decision": decision, "rule": rule, "veto": veto,
        "veto_name": veto_name, "score": score,
        "title_sim": np.round(title_sim.astype(np.float64), 1), "author_sim": np.round(author_sim.astype(np.float64), 1),
        "journal_sim": np.round(f["journal_sim"].astype(np.float64), 1),
        "year_a": col("n_year", a), "year_b": col("n_year", b), "volume_a": col("n_volume", a),
        "volume_b": col("n_volume", b), "page_a": col("n_page_first", a), "page_b": col("n_page_first", b),
        "doi_a": col("n_doi", a), "doi_b": col("n_doi", b),
    })
    if not keep_all:
        out = out[out["decision"] != ""]
    return out.reset_index(drop=True)
