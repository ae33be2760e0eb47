"""The records behind every box of the PRISMA diagram, as CSV lists under reports/records/.

Each list is derived from the same tables the counts come from (records, clusters, eligibility,
the decision files the screening stage read), with the same functions (reprisma.dedup,
reprisma.screen.decisions), so an auditor can go from any number of the diagram to the exact
record ids and back. :func:`check_lists` compares every list's length with its box in counts.json
and is run before anything is written: a list that disagrees with its box is an error.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from reprisma.errors import ReprismaError
from reprisma.screen.eligibility import PREVIOUS, REMOVED

# name (file under records/) -> (what it lists, columns)
LISTS = {
    "identified": ("records identified, one row per search that found the record", [
        "search_id", "database", "record_id", "pmid", "doi", "nct_ids", "year", "title"]),
    "duplicates_removed": ("duplicate records removed, each with the record kept in its place", [
        "record_id", "search_id", "kept_record_id", "kept_search_id", "rule", "title"]),
    "removed_by_automation": ("records marked as ineligible by automation tools, with the rule", [
        "record_id", "rule", "detail", "title"]),
    "removed_other_reasons": ("records removed before screening for other reasons, with the reason", [
        "record_id", "reason", "title"]),
    "screened": ("records screened at title/abstract", ["record_id", "title_abstract", "title"]),
    "excluded_title_abstract": ("records excluded at title/abstract", ["record_id", "basis", "reason", "title"]),
    "awaiting_title_abstract": ("records awaiting a title/abstract decision", ["record_id", "why", "title"]),
    "sought": ("reports sought for retrieval", ["record_id", "title"]),
    "not_retrieved": ("reports not retrieved", ["record_id", "basis", "title"]),
    "assessed": ("reports assessed for eligibility", ["record_id", "full_text", "title"]),
    "excluded_full_text": ("reports excluded at full text, each with its reason (PRISMA 2020 item 16b)", [
        "record_id", "reason", "basis", "title"]),
    "awaiting_full_text": ("reports awaiting a full-text decision", ["record_id", "why", "title"]),
    "included": ("included studies, each with its reports", [
        "study_id", "record_id", "pmid", "doi", "nct_ids", "year", "title"]),
}


class RecordListError(ReprismaError, RuntimeError):
    pass


def list_path(name: str) -> str:
    return f"records/{name}.csv"


def screening_tables(protocol, counts: dict, clusters: list[dict], eligibility: list[dict],
                     decision_files: list) -> dict:
    """The decisions the screening stage counted, read again from its decision files: ``decisions``
    (every row), ``resolved`` (one per record and stage), ``passed`` (records past title/abstract),
    ``ta`` / ``ft`` (record id -> resolved row; full text only for records that passed) and ``ids``
    (reprisma.screen.decisions.screening_ids)."""
    from reprisma.screen.decisions import (ScreeningSettings, load_decisions, passed_title_abstract,
                                           resolve_decisions, screening_ids)

    settings = ScreeningSettings.from_protocol(protocol.config.get("screening"))
    ids = screening_ids(clusters, eligibility)
    # as the screening stage counts them: decisions on clusters a previous round finished, and on
    # records the searches no longer return, count in their own round, not in this one's boxes
    status = counts.get("screening_status") or {}
    departed = {d["record_id"] for d in status.get("decisions_on_departed_records") or []}
    decisions = load_decisions([Path(f) for f in decision_files], settings,
                               sorted(set(ids["known_ids"]) | departed),
                               aliases={**{d: d for d in departed}, **ids["aliases"]},
                               not_screened=ids["not_screened"], carried=ids["carried"])
    decisions = decisions[~decisions["record_id"].isin(set(ids["carried"]) | departed)]
    resolved = resolve_decisions(decisions, settings)
    passed = passed_title_abstract(resolved)
    ta = {r.record_id: r for r in resolved[resolved["stage"] == "title_abstract"].itertuples(index=False)}
    ft = {r.record_id: r for r in resolved[resolved["stage"] == "full_text"].itertuples(index=False)
          if r.record_id in passed}
    return {"decisions": decisions, "resolved": resolved, "passed": passed, "ta": ta, "ft": ft, "ids": ids}


def record_lists(protocol, counts: dict, records: list[dict], clusters: list[dict], eligibility: list[dict],
                 decision_files: list) -> dict[str, list[dict]]:
    """Every list of :data:`LISTS` as rows (dicts with the list's columns), in a stable order."""
    import pandas as pd

    from reprisma.dedup import link_studies, representative_of

    by_id = {r["record_id"]: r for r in records}

    def rec(rid, **extra):
        r = by_id.get(rid) or {}
        return {"record_id": rid, "title": r.get("title") or "", **extra}

    search_order = [s["search_id"] for s in counts["searches"]]
    database = {s["search_id"]: s["database"] for s in counts["searches"]}
    rank = {sid: i for i, sid in enumerate(search_order)}
    out: dict[str, list[dict]] = {}

    out["identified"] = sorted(
        (rec(r["record_id"], search_id=sid, database=database.get(sid, ""), pmid=r.get("pmid") or "",
             doi=r.get("doi") or "", nct_ids="; ".join(r.get("nct_ids") or []), year=r.get("year") or "")
         for r in records for sid in r["search_ids"]),
        key=lambda x: (rank.get(x["search_id"], len(rank)), x["record_id"]))

    # duplicates: every (search, record) hit of a cluster but the one kept: the representative as
    # found by its first search (as counts.py: hits - clusters)
    rep_of = representative_of(clusters)
    rule_of = {c["record_id"]: c.get("rule") or "" for c in clusters}
    dups = []
    members: dict[str, list[str]] = {}
    for c in clusters:
        members.setdefault(rep_of[c["record_id"]], []).append(c["record_id"])
    for rep, ids in members.items():
        kept_search = sorted(by_id[rep]["search_ids"], key=lambda s: rank.get(s, len(rank)))[0]
        for rid in sorted(ids):
            for sid in sorted(by_id[rid]["search_ids"], key=lambda s: rank.get(s, len(rank))):
                if rid == rep and sid == kept_search:
                    continue
                why = ("same record found by another search" if rid == rep
                       else rule_of.get(rid) or "duplicate")
                dups.append(rec(rid, search_id=sid, kept_record_id=rep, kept_search_id=kept_search, rule=why))
    out["duplicates_removed"] = sorted(dups, key=lambda x: (x["kept_record_id"], x["record_id"], x["search_id"]))

    excluded = [e for e in eligibility if e["eligible"] not in (True, "true")]
    out["removed_by_automation"] = [rec(e["record_id"], rule=e["rule"], detail=e.get("detail") or "")
                                    for e in excluded if e["rule"] not in (REMOVED, PREVIOUS)]
    out["removed_other_reasons"] = [rec(e["record_id"], reason=e.get("detail") or "")
                                    for e in excluded if e["rule"] == REMOVED]

    t = screening_tables(protocol, counts, clusters, eligibility, decision_files)
    ids, ta, ft, passed = t["ids"], t["ta"], t["ft"], t["passed"]
    screened = ids["known_ids"]

    def why(row):
        return row.basis if row is not None else "not yet screened by anyone"

    out["screened"] = [rec(i, title_abstract=ta[i].decision if i in ta else "not screened") for i in screened]
    out["excluded_title_abstract"] = [rec(i, basis=ta[i].basis, reason=ta[i].reason or "")
                                      for i in screened if i in ta and ta[i].decision == "exclude"]
    # records nobody screened are left unscreened by the stopping rule when the protocol applied it
    stopped = "records_stopped" in counts["prisma"]["screening"]
    out["awaiting_title_abstract"] = [rec(i, why=why(ta.get(i))) for i in screened
                                      if (i not in ta and not stopped) or (i in ta and ta[i].decision == "pending")]
    sought = sorted(passed)
    out["sought"] = [rec(i) for i in sought]
    out["not_retrieved"] = [rec(i, basis=ft[i].basis) for i in sought if i in ft and ft[i].decision == "not_retrieved"]
    assessed = [i for i in sought if not (i in ft and ft[i].decision == "not_retrieved")]
    out["assessed"] = [rec(i, full_text=ft[i].decision if i in ft else "not screened") for i in assessed]
    out["excluded_full_text"] = sorted(
        (rec(i, reason=ft[i].reason or "(no reason)", basis=ft[i].basis)
         for i in assessed if i in ft and ft[i].decision == "exclude"), key=lambda x: (x["reason"], x["record_id"]))
    out["awaiting_full_text"] = [rec(i, why=why(ft.get(i))) for i in assessed
                                 if i not in ft or ft[i].decision == "pending"]
    reports = [i for i in assessed if i in ft and ft[i].decision == "include"]
    rows = []
    if reports:
        links = link_studies(records, pd.DataFrame(clusters))
        links = links[links["record_id"].isin(reports)]
        for study, rid in sorted(zip(links["study_id"], links["record_id"])):
            r = by_id[rid]
            rows.append(rec(rid, study_id=study, pmid=r.get("pmid") or "", doi=r.get("doi") or "",
                            nct_ids="; ".join(r.get("nct_ids") or []), year=r.get("year") or ""))
    out["included"] = rows
    return out


def box_numbers(counts: dict) -> dict[str, int]:
    """The number each list must have: its box in counts.json."""
    p = counts["prisma"]
    ident, scr, inc = p["identification"], p["screening"], p["included"]
    return {
        "identified": ident["records_identified"], "duplicates_removed": ident["duplicates_removed"],
        "removed_by_automation": ident["ineligible_by_automation"],
        "removed_other_reasons": ident["removed_other_reasons"], "screened": scr["records_screened"],
        "excluded_title_abstract": scr["records_excluded"], "awaiting_title_abstract": scr["records_pending"],
        "sought": scr["reports_sought"], "not_retrieved": scr["reports_not_retrieved"],
        "assessed": scr["reports_assessed"], "excluded_full_text": sum(scr["reports_excluded"].values()),
        "awaiting_full_text": scr["reports_pending"],
    }


def check_lists(counts: dict, lists: dict[str, list[dict]]) -> list[str]:
    """Every disagreement between a list and its box (empty when all agree): list lengths, the
    per-database, per-rule and per-reason splits, and included studies and reports."""
    problems = []
    for name, n in box_numbers(counts).items():
        if len(lists[name]) != n:
            problems.append(f"{list_path(name)}: {len(lists[name])} rows, the diagram's box says {n}")
    ident, scr, inc = (counts["prisma"][k] for k in ("identification", "screening", "included"))

    def split(name, key, expected, label):
        got: dict = {}
        for row in lists[name]:
            got[row[key]] = got.get(row[key], 0) + 1
        if {k: v for k, v in got.items() if v} != {k: v for k, v in expected.items() if v}:
            problems.append(f"{list_path(name)}: rows per {label} {got}, the diagram says {expected}")

    split("identified", "database", {**ident["databases"], **ident["registers"]}, "database")
    split("removed_by_automation", "rule", ident.get("ineligible_by_automation_reasons") or {}, "rule")
    split("removed_other_reasons", "reason", ident.get("removed_other_reasons_by_reason") or {}, "reason")
    split("excluded_full_text", "reason", scr["reports_excluded"], "reason")
    reports = {r["record_id"] for r in lists["included"]}
    studies = {r["study_id"] for r in lists["included"]}
    if (len(studies), len(reports)) != (inc["studies"], inc["reports"]):
        problems.append(f"{list_path('included')}: {len(studies)} studies and {len(reports)} reports, the diagram "
                        f"says {inc['studies']} and {inc['reports']}")
    return problems


def lists_csv(lists: dict[str, list[dict]]) -> dict[str, str]:
    """path under reports/ -> CSV text."""
    out = {}
    for name, (_, columns) in LISTS.items():
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for row in lists[name]:
            w.writerow(row)
        out[list_path(name)] = buf.getvalue()
    return out
