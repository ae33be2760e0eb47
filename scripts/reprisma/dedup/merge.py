"""Step 5: one representative per cluster, every source id kept.

Representative rule (documented, deterministic): within a cluster prefer
1. a PubMed record (``source == "pubmed"``, a ``pubmed:`` id or a PMID),
2. then the most complete record (number of filled fields among title, authors, journal, year,
   volume, issue, pages, DOI, abstract, PMID),
3. then the longest abstract, then the longest title,
4. then the smallest record id.
"""
from __future__ import annotations

import pandas as pd


def choose_representatives(records: pd.DataFrame, clusters: pd.DataFrame) -> pd.Series:
    """Map cluster_id -> record_id of its representative."""
    frame = pd.DataFrame({
        "record_id": records["record_id"].to_numpy(),
        "cluster_id": clusters["cluster_id"].to_numpy(),
        "pubmed": records["n_is_pubmed"].to_numpy().astype(int),
        "complete": records["n_completeness"].to_numpy(),
        "abstract_len": records["abstract"].str.len().to_numpy(),
        "title_len": records["title"].str.len().to_numpy(),
    })
    frame = frame.sort_values(["cluster_id", "pubmed", "complete", "abstract_len", "title_len", "record_id"],
                              ascending=[True, False, False, False, False, True], kind="stable")
    first = frame.drop_duplicates("cluster_id", keep="first")
    return pd.Series(first["record_id"].to_numpy(), index=first["cluster_id"].to_numpy())


def merge(records: pd.DataFrame, clusters: pd.DataFrame, original: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per cluster: the representative's fields (from ``original`` when given, else the
    prepped display fields) plus ``cluster_id``, ``merged_ids`` (``;``-joined, sorted) and ``n_records``."""
    rep = choose_representatives(records, clusters)
    counts = clusters.groupby("cluster_id", sort=True).size()
    # Singletons (most clusters) hold their own id; only real groups need joining.
    groups = pd.Series(counts.index.to_numpy(), index=counts.index, dtype=object)
    multi = clusters[clusters["cluster_size"] > 1].sort_values(["cluster_id", "record_id"], kind="stable")
    if len(multi):
        joined = multi.groupby("cluster_id", sort=True)["record_id"].agg(";".join)
        groups.loc[joined.index] = joined.to_numpy()
    if original is not None:
        idcol = "record_id" if "record_id" in original.columns else "ID"
        base = original.set_index(original[idcol].astype(str), drop=False)
        out = base.loc[rep.to_numpy()].reset_index(drop=True)
    else:
        cols = ["record_id", "title", "journal", "year_raw", "volume", "issue", "pages", "doi", "abstract", "source"]
        out = records.set_index("record_id", drop=False).loc[rep.to_numpy(), cols].reset_index(drop=True)
    out.insert(0, "cluster_id", rep.index.to_numpy())
    out["merged_ids"] = groups.loc[rep.index].to_numpy()
    out["n_records"] = counts.loc[rep.index].to_numpy()
    return out.sort_values("cluster_id", kind="stable").reset_index(drop=True)
