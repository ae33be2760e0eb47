"""Reported vs reproduced: the paper's numbers (from the protocol: each search's
``reported_count`` and the ``reported:`` block) beside the pipeline's (from counts.json), with the
difference where the two count the same thing, and the likely reasons they differ, each derived
from the data (the capture's kind as its manifest states it, the date window searched, the
assumptions the protocol makes where the paper is silent, what screening has not decided yet).
Nothing here is typed in."""

from __future__ import annotations

import os
from pathlib import PurePosixPath

# the paper's numbers in the protocol's `reported:` block -> (what they are, the ledger's number)
REPORTED_KEYS = {
    "included_publications": ("publications included (PRISMA 2020: reports of included studies)",
                              lambda counts: counts["prisma"]["included"]["reports"]),
}


def _window(w) -> str:
    lo, hi = (w or [None, None])[:2]
    return f"{lo or 'any date'} to {hi or 'the day run'}"


def _seed_report(counts: dict) -> str | None:
    """For an update protocol: the path, from this report, of the report of the protocol it
    extends (the protocol as reported), from the reports_dir it overrides."""
    inh = counts.get("inherits") or {}
    o = next((o for o in inh.get("overrides") or [] if o["key"] == "reports_dir"), None)
    if o is None or not o.get("inherited") or not o.get("value"):
        return None
    return PurePosixPath(os.path.relpath(PurePosixPath(o["inherited"]) / "report.html", o["value"])).as_posix()


def reported_vs_reproduced(protocol_config: dict, counts: dict, provenance: dict) -> dict | None:
    """The section's rows and reasons ({text, points}: a sentence and the points under it), or None
    when the protocol reports no number of the paper."""
    specs = {s["id"]: s for s in protocol_config["searches"]}
    by_id = {s["search_id"]: s for s in counts["searches"]}
    refresh = protocol_config.get("refresh")
    update = bool(refresh and refresh.get("enabled"))
    rows = []
    for sid, spec in specs.items():
        paper = spec.get("reported_count")
        if paper is None:
            continue
        s = by_id.get(sid)
        got = s["records_received"] if s else None
        comparable = s is not None and s["comparable_with_paper"]
        rows.append({"what": f"records identified by search {sid}", "search_id": sid,
                     "database": s["database"] if s else "", "paper": paper, "pipeline": got,
                     "service": s["count_reported_by_service"] if s else None,
                     "difference": got - paper if comparable else None, "comparable": comparable,
                     "window": _window(s.get("window")) if s else None})
    for key, paper in (protocol_config.get("reported") or {}).items():
        if key == "assumptions" or paper is None:
            continue
        what, ours = REPORTED_KEYS.get(key, (key.replace("_", " "), lambda counts: None))
        got = ours(counts)
        rows.append({"what": what, "search_id": None, "database": "", "paper": paper, "pipeline": got,
                     "service": None, "difference": (got - paper) if (got is not None and not update) else None,
                     "comparable": got is not None and not update, "window": None})
    if not rows:
        return None

    reasons = []
    cap = counts["capture"]
    if cap["kind"] == "example":
        what = (provenance.get("example") or {}).get("what")
        reasons.append(
            "This snapshot cannot reproduce the paper's numbers: its manifest says it is an "
            f"\u201c{cap['kind']}\u201d capture" + (f": {what.rstrip('.')}" if what else "")
            + ". Its counts measure the example corpus, not PubMed or ClinicalTrials.gov; "
            "only a live capture (make refresh) can be compared with the paper.")
    if update:
        windows = sorted({r["window"] for r in rows if r["window"]})
        seed = _seed_report(counts)
        reasons.append(
            "This protocol is a living-review update: its searches ran for "
            + "; ".join(windows) + f" ({refresh.get('date_field')}), not the paper's window, so its counts are not "
            "comparable with the paper's and no difference is given. The protocol as reported is "
            f"{(counts.get('inherits') or {}).get('file', 'the protocol it extends')}"
            + ("; its replay, the paper's window, has its own report (linked above)." if seed else "."))
    for r in rows:
        s = by_id.get(r["search_id"]) if r["search_id"] else None
        if s is None:
            continue
        if s["count_reported_by_service"] != s["records_received"]:
            reasons.append(f"{r['search_id']}: the service reported {s['count_reported_by_service']:,} records and "
                           f"{s['records_received']:,} were received.")
        for w in s.get("service_warnings") or []:
            reasons.append(f"{r['search_id']}: the service said \u201c{w}\u201d.")
    assumed = [a for a in counts.get("assumptions") or []
               if any(a["key"].startswith(f"searches[") and f"({r['search_id']})." in a["key"]
                      for r in rows if r["search_id"])]
    if assumed:
        reasons.append({"text": "Where the paper is silent the protocol assumes (each assumption can move a count):",
                        "points": [f"{a['key']}: {' '.join(str(a['assumption']).split())}" for a in assumed]})
    if any(r["search_id"] for r in rows) and cap["kind"] != "example":
        reasons.append("PubMed changes after a search is run: records are added, indexed late with earlier "
                       "dates, corrected or withdrawn, and automatic term mapping changes; a rerun years later "
                       "returns other records for the same query.")
    scr = counts["prisma"]["screening"]
    if any(not r["search_id"] for r in rows) and (scr["records_pending"] or scr["reports_pending"]):
        reasons.append(f"Screening is not finished: {scr['records_pending']:,} records await a title/abstract "
                       f"decision and {scr['reports_pending']:,} reports a full-text decision, so the included "
                       "number is not final.")
    reasons = [r if isinstance(r, dict) else {"text": r, "points": []} for r in reasons]
    return {"rows": rows, "reasons": reasons, "kind": cap["kind"], "is_update": update,
            "seed_report": _seed_report(counts) if update else None,
            "seed_file": (counts.get("inherits") or {}).get("file")}
