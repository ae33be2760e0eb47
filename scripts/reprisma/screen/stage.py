"""The screening stage: the reviewers' decision files resolved against the records that reached
screening, in PRISMA 2020 ledger terms, with the conflicts, agreement, stopping rule and the ranked
list of what is left to screen (:func:`screen_records`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["ScreeningResult", "decision_files", "pending_breakdown", "screen_records"]


@dataclass(frozen=True)
class ScreeningResult:
    """What the screening stage derives: ``ledger`` (``results/<id>/screening.json``, the numbers
    the counts and the report read), ``conflicts`` (one row per disagreement, conflicts.tsv) and
    ``ranking`` (the records left to screen, most likely relevant first, with why each waits)."""

    ledger: dict
    conflicts: pd.DataFrame
    ranking: pd.DataFrame


# why records are pending (screening.json "pending"), in the report's words
PENDING_PARTS = (("conflict", "in conflict"), ("awaiting_second_reviewer", "awaiting a second reviewer"),
                 ("maybe_at_full_text", "marked maybe at full text"), ("not_screened", "not yet screened by anyone"))


def pending_breakdown(screening: dict) -> dict[str, str]:
    """Per stage, why its pending records wait, the non-zero parts: '2 in conflict, 507 not yet
    screened by anyone'."""
    return {stage: ", ".join(f"{counts[k]:,} {label}" for k, label in PENDING_PARTS if counts.get(k))
            for stage, counts in (screening.get("pending") or {}).items()}


def decision_files(protocol: Protocol, base: Path = Path(".")) -> list[Path]:
    """The screening decision files (config/screening/*.tsv), sorted by name. Hidden files (a name
    starting with ".", such as macOS's ``._ana.tsv``) are skipped. The one definition: the workflow
    tracks (common.smk) exactly the files the screening stage reads."""
    folder = base / protocol.config["screening"]["decisions_dir"]
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.suffix == ".tsv" and not p.name.startswith(".") and p.is_file()),
                  key=lambda p: p.name)


def screen_records(records: list[dict], clusters: list[dict], eligibility: list[dict], protocol: Protocol,
                   files: list[Path], refresh=None, base: Path = Path(".")) -> ScreeningResult:
    """The screening stage: resolved human decisions on the records that reached screening, in
    ledger terms, plus the conflicts, Cohen's kappa and the ranked list of what is left to screen.

    A decision row may name any record or cluster id; it counts for the cluster's screened
    representative (``screening_ids``). Full-text decisions count only for records that passed
    title/abstract; those of a record still pending there are held (``reports_held``). A report
    whose resolved full-text decision is ``not_retrieved`` counts as not retrieved, so the ledger's
    assessed reports (sought - not retrieved) are the excluded, pending and included ones.
    ``pending`` says per stage why the pending records wait: ``conflict`` (unresolved),
    ``awaiting_second_reviewer`` (dual mode), ``maybe_at_full_text`` (full text), ``not_screened``
    (no decision by anyone yet); each stage's numbers add up to ``records_pending`` /
    ``reports_pending``."""
    from reprisma.dedup.study_links import study_ids, study_links_file
    from reprisma.screen.decisions import (ScreeningSettings, conflicts, kappa_table, load_decisions,
                                           passed_title_abstract, resolve_decisions, screening_ids,
                                           screening_summary)
    from reprisma.screen.ranking import rank_records
    from reprisma.screen.stopping import screening_stopping

    cfg = protocol.config["screening"]
    settings = ScreeningSettings.from_protocol(cfg)
    ids = screening_ids(clusters, eligibility)
    screened = ids["known_ids"]
    carried = ids["carried"]
    # A living review's decisions name records of any round: those on clusters a previous round
    # finished count there, those on records the searches no longer return are kept and reported.
    departed = dict(refresh.departed) if refresh is not None else {}
    aliases = {**{d: d for d in departed}, **ids["aliases"]}
    decisions = load_decisions(files, settings, sorted(set(screened) | set(departed)),
                               aliases=aliases, not_screened=ids["not_screened"], carried=carried)
    later = decisions["record_id"].isin(set(carried)) | decisions["record_id"].isin(set(departed))
    kept_apart = decisions[later]
    decisions = decisions[~later]
    resolved = resolve_decisions(decisions, settings)
    summary = screening_summary(resolved, screened)
    ta, ft = summary["title_abstract"], summary["full_text"]
    conflict_rows = conflicts(decisions, settings)
    kappa_rows = kappa_table(decisions, settings)

    ta_final = resolved[resolved["stage"] == "title_abstract"]
    labels = {rid: int(d in ("include", "maybe")) for rid, d in zip(ta_final["record_id"], ta_final["decision"])
              if d != "pending"}
    by_id = {r["record_id"]: r for r in records}
    pool = [by_id[i] for i in screened]
    ranking = rank_records(pool, labels, keywords=cfg.get("keywords") or [], seed=0)
    ranking["screening_status"] = to_screen_status(decisions, conflict_rows, settings, ranking["record_id"])
    # the protocol's stopping rule (screening.stopping); when it declares that screening stopped,
    # the records nobody decided are counted as left unscreened by the rule, never dropped
    stopping = screening_stopping(decisions, ta_final, screened, cfg.get("stopping"))
    stopped = ta.get("not_screened", 0) if stopping["stopped"] else 0
    if stopped:
        ta = {**ta, "not_screened": 0}
        undecided = set(screened) - set(ta_final["record_id"])
        ranking["screening_status"] = [f"left unscreened: stopping rule {stopping['rule']} met" if rid in undecided
                                       else st for rid, st in zip(ranking["record_id"], ranking["screening_status"])]
    passed = passed_title_abstract(resolved)
    ft_final = resolved[(resolved["stage"] == "full_text") & resolved["record_id"].isin(passed)]
    progress = {"title_abstract": screening_progress(decisions, ta_final, "title_abstract"),
                "full_text": screening_progress(decisions, ft_final, "full_text")}
    included = sorted(rid for rid, stage, d in zip(resolved["record_id"], resolved["stage"], resolved["decision"])
                      if stage == "full_text" and d == "include" and rid in passed)
    changed = dict(refresh.changed) if refresh is not None else {}
    complete = sorted(set(ta_final.loc[ta_final["decision"] == "exclude", "record_id"])
                      | {rid for rid, stage, d in zip(resolved["record_id"], resolved["stage"], resolved["decision"])
                         if stage == "full_text" and d in ("include", "exclude", "not_retrieved")})
    included_studies = study_ids(records, clusters, included, study_links_file(protocol, base))
    ledger = {
        "mode": settings.mode,
        "decisions_files": [str(f) for f in files],
        # records whose screening is finished this round (the next round carries them forward)
        "complete_record_ids": complete,
        "included_study_ids": included_studies,
        "carried_forward": {"clusters": len(carried),
                            "decisions": int(kept_apart["record_id"].isin(set(carried)).sum())},
        "decisions_on_departed_records": _rows_for(kept_apart[kept_apart["record_id"].isin(set(departed))],
                                                   lambda rid: {"last_returned_by_capture": departed[rid]}),
        "decisions_on_changed_records": _rows_for(
            pd.concat([decisions, kept_apart])[lambda d: d["record_id"].isin(set(changed))],
            lambda rid: {"changed_fields": changed[rid]}),
        "records_excluded": ta["exclude"],
        "records_included": ta["include"] + ta["maybe"],
        "records_pending": ta["pending"] + ta.get("not_screened", 0),
        "reports_not_retrieved": ft["not_retrieved"],
        "reports_excluded": ft["reasons"],
        "reports_included": ft["include"],
        "studies_included": len(included_studies),
        "reports_pending": ft["pending"] + ft.get("not_screened", 0),
        "reports_held": ft["held"],
        # records_pending and reports_pending broken down: why each still waits
        "pending": {"title_abstract": {**ta["pending_by"], "not_screened": ta.get("not_screened", 0)},
                    "full_text": {**ft["pending_by"], "not_screened": ft.get("not_screened", 0)}},
        "conflicts": {"total": len(conflict_rows),
                      "unresolved": int((~conflict_rows["resolved"].astype(bool)).sum()) if len(conflict_rows) else 0},
        "unresolved_conflicts": unresolved_conflicts(decisions, conflict_rows, by_id, settings),
        "kappa": [{k: (None if v != v else v) for k, v in row.items()} for row in kappa_rows.to_dict("records")],
        "progress": progress,
        "stopping": stopping,
        **({"records_stopped": stopped} if stopping["stopped"] else {}),
        "included_record_ids": included,
    }
    return ScreeningResult(ledger, conflict_rows, ranking)


def to_screen_status(decisions, conflict_rows, settings, record_ids) -> list[str]:
    """For the export of what is left to screen: why each record still waits at title/abstract,
    so that in dual screening a reviewer can skip what they already decided ('decided by ana;
    awaiting a second reviewer', 'conflict: ana=include;ben=exclude'); empty when nobody decided."""
    ta = decisions[(decisions["stage"] == "title_abstract") & ~decisions["reviewer"].isin(settings.resolvers())]
    who = {rid: sorted(set(g["reviewer"])) for rid, g in ta.groupby("record_id")}
    open_ = {}
    if len(conflict_rows):
        rows = conflict_rows[(conflict_rows["stage"] == "title_abstract") & ~conflict_rows["resolved"].astype(bool)]
        open_ = dict(zip(rows["record_id"], rows["reviewer_decisions"]))
    out = []
    for rid in record_ids:
        if rid in open_:
            out.append(f"conflict: {open_[rid]}")
        elif who.get(rid):
            out.append(f"decided by {', '.join(who[rid])}; awaiting a second reviewer")
        else:
            out.append("")
    return out


def unresolved_conflicts(decisions, conflict_rows, by_id: dict, settings) -> list[dict]:
    """The unresolved conflicts for the report, in the conflicts table's order: record id, title,
    stage and each reviewer's decision (and reason) with the file and line of the row."""
    if not len(conflict_rows):
        return []
    open_ = conflict_rows[~conflict_rows["resolved"].astype(bool)]
    revs = decisions[~decisions["reviewer"].isin(settings.resolvers())]
    rows = {key: g.sort_values(["reviewer", "file", "line"]) for key, g in revs.groupby(["record_id", "stage"])}
    return [{"record_id": rid, "title": (by_id.get(rid) or {}).get("title"), "stage": stage,
             "decisions": [{"reviewer": r.reviewer, "decision": r.decision, "reason": r.reason,
                            "where": f"{r.file}:{r.line}"} for r in rows[(rid, stage)].itertuples(index=False)]}
            for rid, stage in zip(open_["record_id"], open_["stage"])]


def _rows_for(rows, extra) -> list[dict]:
    """Decision rows for the ledger and the report: where each was written, with ``extra(record_id)``."""
    out = [{"record_id": r.record_id, "stage": r.stage, "reviewer": r.reviewer, "decision": r.decision,
            "where": f"{r.file}:{r.line}", **extra(r.record_id)} for r in rows.itertuples(index=False)]
    return sorted(out, key=lambda d: (d["record_id"], d["stage"], d["reviewer"], d["where"]))


def screening_progress(decisions, final, stage: str) -> list[dict]:
    """Cumulative decisions of one stage by date: per day, records with a final decision and, of
    them, those that went on (title/abstract: include or maybe; full text: include). ``final``: the
    stage's resolved rows (full text: only of records that passed title/abstract, as in the
    diagram). A record's date is that of its last row at the stage."""
    final = final[final["decision"] != "pending"]
    if final.empty:
        return []
    rows = decisions[decisions["stage"] == stage]
    last = rows.groupby("record_id")["date"].max()
    on = ("include", "maybe") if stage == "title_abstract" else ("include",)
    per_day: dict[str, list[int]] = {}
    for rid, decision in zip(final["record_id"], final["decision"]):
        day = per_day.setdefault(str(last[rid]), [0, 0])
        day[0] += 1
        day[1] += int(decision in on)
    out, decided, went_on = [], 0, 0
    for day in sorted(per_day):
        decided += per_day[day][0]
        went_on += per_day[day][1]
        out.append({"date": day, "decided": decided, "went_on": went_on})
    return out
