"""Studies, not records: trial registrations linked to the reports of the same trial (PRISMA 2020).

A *study* is a trial: its registration (``ctgov:NCT...``) and every report of it. Records are
joined to a study by identifiers, then by what reviewers decided:

1. ``registration``: a ClinicalTrials.gov record is its NCT id's study.
2. ``nct_id``: a record whose ``nct_ids`` (PubMed DataBank/AccessionNumber lists, CT.gov secondary
   ids and aliases) or abstract name an NCT id belongs to that study; a report of several trials
   belongs to each of them.
3. ``results_reference``: a record whose PMID a registration lists as a results reference
   (``referencesModule`` type ``RESULT``, the record field ``results_pmids``) belongs to it.
4. ``study_link``: ``config/study_links.tsv`` (the protocol's ``dedup.study_links``), one row per
   decision, tab-separated with a header::

       action	record_id_a	record_id_b	reason	reviewer
       link	ctgov:NCT00302744	pubmed:16826400	reports the 2006 psilocybin session results	ana

   ``link`` puts both records' clusters in one study (all the NCT ids either has; a study of
   its own, named after the smallest cluster id, when neither has one). ``unlink`` removes the
   identifiers that joined them: the NCT ids the two share are dropped from the record that is
   not that trial's registration (``record_id_b`` when neither is), e.g. a review whose abstract
   mentions a trial it does not report. Unlinks apply before links. ``#`` lines are comments; a
   missing file means none. Every problem (unknown record id, an action other than link/unlink,
   a missing reason or reviewer, a pair both linked and unlinked, two records deduplication made
   one) stops with ``FILE:LINE``.

Records in one duplicate cluster are one record here (a cluster's NCT ids are every member's),
so duplicates count once. A record joined to no trial is a study of its own (its cluster id).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import pandas as pd

from reprisma.errors import ReprismaError
from reprisma.paths import SCHEMA_DIR

from .overrides import read_pair_table
from .prep import prep

__all__ = ["StudyLinkError", "load_study_links", "check_study_links", "link_studies", "LINK_COLUMNS"]

SCHEMA_PATH = SCHEMA_DIR / "study_links.schema.json"
LINK_COLUMNS = ["study_id", "record_id", "role", "linked_by"]


class StudyLinkError(ReprismaError, ValueError):
    """The study-links table is invalid (the message names the file and line)."""


def load_study_links(path: str | Path | None) -> pd.DataFrame | None:
    """The validated rows of a study-links TSV (with ``file`` and ``line``); None when there is no file."""
    if not path or not Path(path).exists():
        return None
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["items"]
    return read_pair_table(path, schema, StudyLinkError)


def check_study_links(links: pd.DataFrame, cluster_of: dict[str, str]) -> None:
    """Every id is a record of the capture; no pair is both linked and unlinked; an unlink or link
    names two records, not two copies of one (deduplication merged them: see dedup_overrides)."""
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for row in links.itertuples(index=False):
        where = f"{row.file}:{row.line}"
        for col in ("record_id_a", "record_id_b"):
            rid = getattr(row, col)
            if rid not in cluster_of:
                raise StudyLinkError(f"{where}: {col} {rid!r} is not a record of this capture")
        if cluster_of[row.record_id_a] == cluster_of[row.record_id_b]:
            raise StudyLinkError(f"{where}: {row.record_id_a} and {row.record_id_b} are one record after "
                                 f"deduplication (cluster {cluster_of[row.record_id_a]}); split them in "
                                 f"config/dedup_overrides.tsv instead")
        key = tuple(sorted((row.record_id_a, row.record_id_b)))
        if key in seen and seen[key][0] != row.action:
            raise StudyLinkError(f"{where}: {key[0]} / {key[1]} is both linked and unlinked (see line {seen[key][1]})")
        seen.setdefault(key, (row.action, row.line))


def link_studies(records: pd.DataFrame | Iterable[dict], clusters: pd.DataFrame | None = None,
                 links: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (study, record): ``study_id``, ``record_id``, ``role`` (``registration`` or
    ``report``), ``linked_by`` (``registration``, ``nct_id``, ``results_reference``,
    ``study_link`` or ``none``), sorted by study then record. See the module docstring."""
    df = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    prepped = prep(df)
    cid = (dict(zip(clusters["record_id"], clusters["cluster_id"])) if clusters is not None
           else dict(zip(prepped["record_id"], prepped["record_id"])))
    # cluster -> {nct: how}; how = the strongest identifier joining the cluster to that trial
    how_of: dict[str, dict[str, str]] = {}
    registered: dict[str, set[str]] = {}  # cluster -> NCT ids of registrations in it
    for rid, reg, mentioned in zip(prepped["record_id"], prepped["n_registration"], prepped["n_nct_mentioned"]):
        s = how_of.setdefault(cid[rid], {})
        if reg:
            s[reg] = "nct_id"
            registered.setdefault(cid[rid], set()).add(reg)
        for nct in mentioned.split():
            s[nct] = "nct_id"
    # results references: PMID -> the registrations that list it
    cols = df.columns
    results_of: dict[str, set[str]] = {}
    if "results_pmids" in cols:
        for rid, pmids in zip(df["record_id"], df["results_pmids"]):
            if isinstance(rid, str) and rid.startswith("ctgov:") and isinstance(pmids, (list, tuple)):
                for p in pmids:
                    results_of.setdefault(str(p), set()).add(rid.split(":", 1)[1])
    if results_of and "pmid" in cols:
        for rid, pmid in zip(df["record_id"], df["pmid"]):
            for nct in results_of.get(str(pmid) if isinstance(pmid, str) else "", ()):
                how_of[cid[rid]].setdefault(nct, "results_reference")
    # the reviewers' table: unlinks, then links
    group: dict[str, str] = {}
    if links is not None and len(links):
        check_study_links(links, cid)
        for row in links[links["action"] == "unlink"].itertuples(index=False):
            ca, cb = cid[row.record_id_a], cid[row.record_id_b]
            for nct in sorted(set(how_of[ca]) & set(how_of[cb])):
                if nct in registered.get(ca, ()):
                    how_of[cb].pop(nct)
                elif nct in registered.get(cb, ()):
                    how_of[ca].pop(nct)
                else:
                    how_of[cb].pop(nct)

        def find(c):
            while group.get(c, c) != c:
                c = group[c]
            return c

        for row in links[links["action"] == "link"].itertuples(index=False):
            ra, rb = find(cid[row.record_id_a]), find(cid[row.record_id_b])
            if ra != rb:
                group[max(ra, rb)] = min(ra, rb)
        members: dict[str, list[str]] = {}
        for c in set(cid.values()):
            members.setdefault(find(c), []).append(c)
        for root, cs in members.items():
            if len(cs) < 2:
                continue
            union = {n for c in cs for n in how_of[c]}
            for c in cs:
                for nct in union:
                    how_of[c].setdefault(nct, "study_link")
                group[c] = root
    rows = []
    for rid, reg in zip(prepped["record_id"], prepped["n_registration"]):
        c = cid[rid]
        role = "registration" if reg else "report"
        if how_of[c]:
            for nct, how in sorted(how_of[c].items()):
                rows.append((nct, rid, role, "registration" if reg == nct else how))
        elif c in group:  # linked by a reviewer to records no trial id joins: a study of their own
            rows.append((group[c], rid, role, "study_link"))
        else:
            rows.append((c, rid, role, "none"))
    out = pd.DataFrame(rows, columns=LINK_COLUMNS)
    return out.sort_values(["study_id", "record_id"], kind="stable").reset_index(drop=True)


def study_links_file(protocol, base: Path = Path(".")) -> Path | None:
    """The protocol's study-links table (``dedup.study_links``; it may not exist)."""
    name = (protocol.config.get("dedup") or {}).get("study_links")
    return base / name if name else None


def study_ids(records: list[dict], clusters: list[dict], report_ids: list[str],
              study_links: Path | None = None) -> list[str]:
    """The PRISMA 2020 studies behind reports: reports of one registered trial (its NCT id in
    DataBank lists, secondary ids or the abstract; a registration's results references; a
    reviewer's row in ``study_links``, the protocol's ``dedup.study_links``) are one study; a
    report no trial links is its own (its cluster). The study-links file is validated even when
    nothing is included yet."""
    table = load_study_links(study_links)
    if not report_ids:
        if table is not None:
            check_study_links(table, {c["record_id"]: c["cluster_id"] for c in clusters})
        return []
    links = link_studies(records, pd.DataFrame(clusters), table)
    return sorted(set(links.loc[links["record_id"].isin(report_ids), "study_id"]))
