"""Deduplication of bibliographic records (and linking of trial registrations to reports).

The package is named after the steps (as bib-dedupe is): ``prep`` -> ``block`` -> ``match`` ->
``cluster`` -> ``merge``, one module each, plus one ``prep_<field>`` module per normalised field.
Every step is a function over pandas DataFrames; :func:`deduplicate` runs them all.

Both input shapes are accepted: the bib-dedupe benchmark table (``ID, title, year, author, ...``)
and the pipeline's record schema (``record_id, pmid, doi, nct_ids, authors (list), ...``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable

import pandas as pd

from .block import block
from .cluster import ClusterResult, cluster
from .match import match
from .merge import choose_representatives, merge
from .overrides import OverrideError, check_overrides, load_overrides
from .prep import InputError, prep
from .rules import FIELDS_COMPARED, REASON_VETOES

__all__ = [
    "DedupResult", "InputError", "OverrideError", "block", "cluster", "deduplicate", "groups",
    "link_studies", "load_overrides", "match", "merge", "pipeline_rows", "prep", "representative_of", "summary",
]


def representative_of(clusters: Iterable[dict]) -> dict[str, str]:
    """Every record id and cluster id of ``clusters`` rows (``record_id``, ``cluster_id``,
    ``representative`` as bool or the TSV's ``"true"``) -> the record id of its cluster's
    representative, the record that goes on to screening. The cluster id is the smallest member
    id, which need not be the representative."""
    clusters = list(clusters)
    rep = {c["cluster_id"]: c["record_id"] for c in clusters if c["representative"] in (True, "true")}
    return {c["record_id"]: rep[c["cluster_id"]] for c in clusters if c["cluster_id"] in rep} | rep

EXPLANATION_COLUMNS = [
    "cluster_id", "record_id_a", "record_id_b", "rule", "fields_compared", "score", "title_sim", "author_sim",
    "journal_sim", "year_a", "year_b", "volume_a", "volume_b", "page_a", "page_b", "doi_a", "doi_b", "reason",
]
MAYBE_COLUMNS = [
    "record_id_a", "record_id_b", "why", "score", "title_sim", "author_sim", "journal_sim", "year_a", "year_b",
    "volume_a", "volume_b", "page_a", "page_b", "doi_a", "doi_b",
]


@dataclass
class DedupResult:
    """Everything one run decided.

    clusters: one row per record: ``record_id``, ``cluster_id`` (smallest id of its cluster),
        ``cluster_size``, ``representative`` (bool).
    explanations: one row per pair merged (rule, fields compared, scores).
    maybe_pairs: borderline pairs for a human (not merged).
    representatives: one row per cluster (see :func:`merge`).
    """

    clusters: pd.DataFrame
    explanations: pd.DataFrame
    maybe_pairs: pd.DataFrame
    representatives: pd.DataFrame

    def groups(self) -> list[list[str]]:
        """Duplicate groups (2+ ids), ids sorted, groups sorted by their first id."""
        return groups(self.clusters)


def groups(clusters: pd.DataFrame) -> list[list[str]]:
    multi = clusters[clusters["cluster_size"] > 1]
    out = [sorted(g) for _, g in multi.groupby("cluster_id", sort=True)["record_id"]]
    return sorted(out)


def _explanations(result: ClusterResult, clusters: pd.DataFrame) -> pd.DataFrame:
    ap = result.applied.copy()
    if len(ap) == 0:
        return pd.DataFrame(columns=EXPLANATION_COLUMNS)
    cid = dict(zip(clusters["record_id"], clusters["cluster_id"]))
    ap["cluster_id"] = ap["record_id_a"].map(cid)
    ap["fields_compared"] = ap["rule"].map(FIELDS_COMPARED)
    for col in EXPLANATION_COLUMNS:
        if col not in ap.columns:
            ap[col] = ""
    ap = ap[EXPLANATION_COLUMNS].astype(object).fillna("")
    return ap.sort_values(["cluster_id", "record_id_a", "record_id_b"], kind="stable").reset_index(drop=True)


def _maybe(matches: pd.DataFrame, result: ClusterResult, clusters: pd.DataFrame) -> pd.DataFrame:
    cid = dict(zip(clusters["record_id"], clusters["cluster_id"]))
    cannot = matches["decision"] == "cannot"
    # Every pair refused for what the records are (a notice and its article, two phases, a column in
    # two issues) is listed with that reason; other vetoed pairs when the titles are near-identical.
    cand = matches[(matches["decision"] == "maybe") | (cannot & (matches["title_sim"] >= 95))
                   | (cannot & matches["veto_name"].isin(REASON_VETOES))]
    cand = pd.concat([cand, result.refused], ignore_index=True)
    if len(cand) == 0:
        return pd.DataFrame(columns=MAYBE_COLUMNS)
    same = cand["record_id_a"].map(cid) == cand["record_id_b"].map(cid)
    cand = cand[~same].copy()
    cand["why"] = cand["veto"].where(cand["veto"] != "", "scores below the match rules")
    cand = cand.drop_duplicates(["record_id_a", "record_id_b"], keep="last")
    out = cand.reindex(columns=MAYBE_COLUMNS).astype(object).fillna("")
    return out.sort_values(["record_id_a", "record_id_b"], kind="stable").reset_index(drop=True)


def deduplicate(
    df: pd.DataFrame,
    overrides: pd.DataFrame | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int = -1,
    disabled_rules: Iterable[str] = (),
) -> DedupResult:
    """Run prep, block, match, cluster and merge on a records table (either input shape).
    ``disabled_rules``: names of rules (:mod:`.rules`) not to apply."""
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    records = prep(df)
    say(f"prep: {len(records)} records ({time.perf_counter() - t0:.1f} s)")
    pairs = block(records)
    say(f"block: {len(pairs)} candidate pairs ({time.perf_counter() - t0:.1f} s)")
    matches = match(records, pairs, workers=workers, disabled_rules=frozenset(disabled_rules))
    say(f"match: {int((matches['decision'] == 'match').sum())} matching pairs ({time.perf_counter() - t0:.1f} s)")
    result = cluster(records, matches, overrides=overrides)
    clusters = result.clusters
    reps = merge(records, clusters, original=df)
    rep_ids = set(reps["record_id"] if "record_id" in reps.columns else reps["ID"].astype(str))
    clusters = clusters.assign(representative=clusters["record_id"].isin(rep_ids))
    n_groups = int((clusters.drop_duplicates("cluster_id")["cluster_size"] > 1).sum())
    say(f"cluster+merge: {n_groups} duplicate groups, {len(reps)} unique records ({time.perf_counter() - t0:.1f} s)")
    return DedupResult(
        clusters=clusters,
        explanations=_explanations(result, clusters),
        maybe_pairs=_maybe(matches, result, clusters),
        representatives=reps,
    )


def link_studies(records: pd.DataFrame | Iterable[dict], clusters: pd.DataFrame | None = None,
                 links: pd.DataFrame | None = None) -> pd.DataFrame:
    """Link ClinicalTrials.gov registrations to the reports of the same trial (PRISMA 2020 studies):
    by NCT id, by the registration's results references and by the reviewers' study links
    (``links``, from :func:`reprisma.dedup.study_links.load_study_links`). See that module."""
    from .study_links import link_studies as _link_studies

    return _link_studies(records, clusters, links)


def summary(result: DedupResult, records: pd.DataFrame, examples: int = 5) -> dict:
    """Numbers for the report's dedup section (plain, JSON-ready, deterministic).

    ``records_in`` / ``records_out`` / ``duplicates_removed``; ``removed_by_rule`` (each removed
    record counted once, under the rule of the merge that joined it); ``removed_by_source_pair``
    (``"pubmed+ctgov"``-style keys: sources of the removed record and its representative);
    ``maybe_pairs`` and the first ``examples`` of them (ids, why, title similarity).
    """
    if records.empty:  # nothing found: an empty summary
        source = {}
    else:
        shape_id = "record_id" if "record_id" in records.columns else "ID"
        source = dict(zip(records[shape_id].astype(str),
                          records["source"].astype(str) if "source" in records.columns else ["import"] * len(records)))
    cl = result.clusters
    rep_of = dict(zip(cl.loc[cl["representative"], "cluster_id"], cl.loc[cl["representative"], "record_id"]))
    removed = cl[~cl["representative"]]
    # The rule that brought each non-representative record in: its first explanation row.
    rule_of: dict[str, str] = {}
    for row in result.explanations.itertuples(index=False):
        for rid in (row.record_id_a, row.record_id_b):
            rule_of.setdefault(rid, row.rule)
    by_rule: dict[str, int] = {}
    by_pair: dict[str, int] = {}
    for rid, cid in zip(removed["record_id"], removed["cluster_id"]):
        r = rule_of.get(rid, "")
        by_rule[r] = by_rule.get(r, 0) + 1
        key = "+".join(sorted((source.get(rid, ""), source.get(rep_of[cid], ""))))
        by_pair[key] = by_pair.get(key, 0) + 1
    mp = result.maybe_pairs
    ex = [{"record_id_a": a, "record_id_b": b, "why": w, "title_sim": float(t) if t != "" else None}
          for a, b, w, t in zip(mp["record_id_a"], mp["record_id_b"], mp["why"], mp["title_sim"])][:examples]
    return {
        "records_in": int(len(cl)),
        "records_out": int(cl["representative"].sum()),
        "duplicates_removed": int(len(removed)),
        "removed_by_rule": dict(sorted(by_rule.items())),
        "removed_by_source_pair": dict(sorted(by_pair.items())),
        "maybe_pairs": int(len(mp)),
        "maybe_examples": ex,
    }


def pipeline_rows(records: Iterable[dict], overrides_path: str | None = None) -> tuple[list[dict], DedupResult]:
    """Run the engine on record-schema dicts and return the rows of ``clusters.tsv``.

    Each row: ``record_id``, ``cluster_id`` (smallest record id of the cluster), ``representative``
    (bool, the rule in :mod:`reprisma.dedup.merge`) and ``rule`` (for a non-representative record:
    the rule of the first merge that explains it; ``""`` otherwise), sorted by ``record_id``. An
    overrides file that does not exist means no overrides; one that exists is validated.
    """
    from pathlib import Path

    records = list(records)
    if not records:  # a search (or a whole capture) that found nothing: no clusters, not an error
        from reprisma.records.schema import fields

        records_df = pd.DataFrame(columns=fields())
        if overrides_path and Path(overrides_path).exists():
            load_overrides(overrides_path)  # still validated: it can only name records that exist
        return [], deduplicate(records_df)
    df = pd.DataFrame(records)
    overrides = None
    if overrides_path and Path(overrides_path).exists():
        overrides = load_overrides(overrides_path)
    result = deduplicate(df, overrides=overrides)
    rule_of: dict[str, str] = {}
    for row in result.explanations.itertuples(index=False):
        for rid in (row.record_id_a, row.record_id_b):
            rule_of.setdefault(rid, row.rule)
    cl = result.clusters
    rows = [
        {"record_id": rid, "cluster_id": cid, "representative": bool(rep), "rule": "" if rep else rule_of.get(rid, "")}
        for rid, cid, rep in zip(cl["record_id"], cl["cluster_id"], cl["representative"])
    ]
    return sorted(rows, key=lambda r: r["record_id"]), result
