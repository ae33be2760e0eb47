"""Step 2: candidate pairs, near-linear in the number of records.

Two sources of pairs:

* **exact identifiers** — records sharing a PMID, PMCID, DOI or (two registrations) an NCT id
  are chained (each record paired with the next one of its group, union-find closes the chain);
* **blocking keys** — for each key the frame is sorted by ``(key, title, record_id)`` and every
  record is paired with the next ``window`` records that share its key (sorted neighbourhood).
  At most ``window`` pairs per record per key, so the number of comparisons is ``O(n · keys ·
  window)`` however large a block gets (no quadratic blow-up on ``Wang 2010``).

Keys: the whole normalised title (spaces removed), its first and its last 32 characters (a typo
at one end still meets the other), the first 32 characters of a notice's title without its own
words (``Erratum: X`` meets ``X``; ordinary items carry their title's start), first author + year,
volume + first page, journal initials + year + first page.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

WINDOW = 8
PAIR_COLUMNS = ["a", "b", "via"]


def _chain_pairs(keys: np.ndarray, order_ids: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) of row positions with equal non-empty key within ``window`` in sorted order."""
    n = len(keys)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    frame = pd.DataFrame({"k": keys, "t": order_ids, "i": np.arange(n)})
    frame = frame[frame["k"] != ""]
    frame = frame.sort_values(["k", "t", "i"], kind="stable")
    k = frame["k"].to_numpy()
    idx = frame["i"].to_numpy()
    a_parts, b_parts = [], []
    for off in range(1, window + 1):
        if off >= len(k):
            break
        same = k[:-off] == k[off:]
        if not same.any():
            break
        a_parts.append(idx[:-off][same])
        b_parts.append(idx[off:][same])
    if not a_parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(a_parts).astype(np.int64), np.concatenate(b_parts).astype(np.int64)


def blocking_keys(records: pd.DataFrame) -> dict[str, np.ndarray]:
    """The blocking keys of every record (``""`` = no key)."""
    title = records["n_title"].str.replace(" ", "", regex=False)
    long_enough = title.str.len() >= 12
    core = records["n_title_core"].str.replace(" ", "", regex=False)
    core_differs = (core != title) | (records["n_kind"] == "")
    year = records["n_year"].astype(str).where(records["n_year"] > 0, "")
    first_page = records["n_page_first"]
    jinit = records["n_journal"].map(lambda j: "".join(w[0] for w in j.split()) if j else "")
    keys = {
        "title": title.where(title != "", "").to_numpy(),
        "title_start": title.str[:32].where(long_enough, "").to_numpy(),
        "title_end": title.str[-32:].where(long_enough, "").to_numpy(),
        # A notice (erratum, reply) meets the article it is about: its title without the notice's words.
        "notice_core_start": core.str[:32].where(core_differs & (core.str.len() >= 12), "").to_numpy(),
        "author_year": (records["n_first_author"] + "|" + year).where(
            (records["n_first_author"] != "") & (year != ""), "").to_numpy(),
        "volume_page": (records["n_volume"] + "|" + first_page).where(
            (records["n_volume"] != "") & (first_page != ""), "").to_numpy(),
        "journal_year_page": (jinit + "|" + year + "|" + first_page).where(
            (jinit != "") & (year != "") & (first_page != ""), "").to_numpy(),
    }
    return keys


def exact_id_keys(records: pd.DataFrame) -> dict[str, np.ndarray]:
    """Identifier keys: records sharing one are the same record (subject to the match rules)."""
    return {
        "pmid": records["n_pmid"].to_numpy(),
        "pmcid": records["n_pmcid"].to_numpy(),
        "doi": records["n_doi"].to_numpy(),
        "nct": records["n_registration"].to_numpy(),
    }


def block(records: pd.DataFrame, window: int = WINDOW) -> pd.DataFrame:
    """Candidate pairs of a prepped frame: columns ``a``, ``b`` (row positions, a < b) and
    ``via`` (the first key that proposed the pair; identifier keys first)."""
    if len(records) < 2:
        return pd.DataFrame({"a": np.empty(0, np.int64), "b": np.empty(0, np.int64), "via": np.empty(0, object)})
    order = records["n_title"].to_numpy()
    frames = []
    for name, keys in list(exact_id_keys(records).items()) + list(blocking_keys(records).items()):
        # Identifier groups are chained without a window limit: every member must be reached.
        win = len(records) if name in ("pmid", "pmcid", "doi", "nct") else window
        if win == len(records):
            a, b = _id_chain(keys)
        else:
            a, b = _chain_pairs(keys, order, win)
        if len(a):
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            frames.append(pd.DataFrame({"a": lo, "b": hi, "via": name}))
    if not frames:
        return pd.DataFrame({"a": np.empty(0, np.int64), "b": np.empty(0, np.int64), "via": []})
    pairs = pd.concat(frames, ignore_index=True)
    pairs = pairs[pairs["a"] != pairs["b"]]
    pairs = pairs.drop_duplicates(["a", "b"], keep="first")
    return pairs.sort_values(["a", "b"], kind="stable").reset_index(drop=True)


def _id_chain(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    frame = pd.DataFrame({"k": keys, "i": np.arange(len(keys))})
    frame = frame[frame["k"] != ""].sort_values(["k", "i"], kind="stable")
    k, idx = frame["k"].to_numpy(), frame["i"].to_numpy()
    if len(k) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    same = k[:-1] == k[1:]
    return idx[:-1][same].astype(np.int64), idx[1:][same].astype(np.int64)
