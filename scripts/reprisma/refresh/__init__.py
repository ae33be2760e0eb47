"""refresh: what changed since the previous capture of a living review, and what it carries over.

A protocol's captures form a history (each manifest names its ``previous_capture``). This stage
compares the capture being replayed with the one before it, per search: records added, records
no longer returned, records whose metadata changed (``refresh_diff.tsv``). It also says what the
previous round hands on to this one: the records whose screening was complete (their decisions
carry forward and they are not screened again), the reports and studies it included, and where
those numbers come from (the previous round's own ledger, or the protocol's reported numbers for
the first update of a published review).

    compare(protocol, capture, records, snapshot_root) -> Refresh
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reprisma.protocol import Protocol
from reprisma.replay import Capture, capture_history
from reprisma.snapshot import SnapshotError, ledger_path

# Record fields whose change a reviewer should see (title, trial status, retraction/erratum
# notices through the publication types, ...). Provenance fields (raw_file, search_ids) are not.
COMPARED_FIELDS = ("title", "abstract", "authors", "journal", "volume", "issue", "pages", "year", "pub_date",
                   "doi", "pmcid", "languages", "publication_types", "nct_ids", "overall_status", "study_type",
                   "phases", "conditions", "interventions", "start_date", "completion_date", "first_posted_date",
                   "enrollment")
DIFF_COLUMNS = ["search_id", "record_id", "change", "fields"]
WHY_REMOVED = {
    "pubmed": "no longer returned by PubMed (a merged or withdrawn PMID, or changed indexing)",
    "ctgov": "no longer returned by ClinicalTrials.gov (its status or dates no longer match the search)",
}


@dataclass(frozen=True)
class SearchChange:
    search_id: str
    previous: int | None  # records the previous capture's search returned (None: a new search)
    current: int
    added: int
    removed: int
    changed: int


@dataclass(frozen=True)
class PreviousRound:
    """What the previous version of the review included, in PRISMA 2020's two units."""

    source: str  # "ledger" (a previous round's counts.json) or "protocol" (numbers the paper reports)
    description: str
    capture_id: str | None = None
    studies: int | None = None
    reports: int | None = None
    complete_record_ids: list[str] = field(default_factory=list)
    included_report_ids: list[str] = field(default_factory=list)
    included_study_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Refresh:
    capture_id: str
    previous_capture: str | None
    history: list[str]  # earlier capture ids, newest first
    searches: list[SearchChange]
    rows: list[dict]  # refresh_diff.tsv rows
    departed: dict[str, str]  # record id -> the newest earlier capture that returned it
    changed: dict[str, list[str]]  # record id -> the fields that changed since the previous capture
    previous_round: PreviousRound | None

    def to_json(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_json(data: dict) -> "Refresh":
        prev = data.get("previous_round")
        return Refresh(data["capture_id"], data["previous_capture"], list(data["history"]),
                       [SearchChange(**s) for s in data["searches"]], list(data["rows"]), dict(data["departed"]),
                       {k: list(v) for k, v in data["changed"].items()},
                       PreviousRound(**prev) if prev else None)

    def summary_lines(self) -> list[str]:
        """One line per search, for the report and the stage's message."""
        if self.previous_capture is None:
            return [f"{s.search_id}: {s.current} records (first capture of this protocol: nothing to compare)"
                    for s in self.searches]
        out = []
        for s in self.searches:
            if s.previous is None:
                out.append(f"{s.search_id}: new search, {s.current} records")
            else:
                out.append(f"{s.search_id}: {s.previous} -> {s.current} records: {s.added} added, "
                           f"{s.removed} no longer returned, {s.changed} changed")
        return out


def _value(rec: dict, name: str):
    v = rec.get(name)
    return None if v in ("", [], None) else v


def changed_fields(before: dict, after: dict) -> list[str]:
    return [f for f in COMPARED_FIELDS if _value(before, f) != _value(after, f)]


def _per_search(records: list[dict]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for rec in records:
        for sid in rec["search_ids"]:
            out.setdefault(sid, {})[rec["record_id"]] = rec
    return out


def diff_records(previous: list[dict] | None, current: list[dict], search_ids: list[str],
                 previous_search_ids: list[str] | None = None):
    """(rows, per-search changes, changed record ids -> fields) between two captures' records.

    ``previous`` None: the first capture (no rows). A search the previous capture did not run
    (not in ``previous_search_ids``, default: the searches its records name) has ``previous`` None
    in its change and no rows (everything it found is new to the review anyway)."""
    cur = _per_search(current)
    if previous is None:
        return [], [SearchChange(sid, None, len(cur.get(sid, {})), 0, 0, 0) for sid in search_ids], {}
    prev = _per_search(previous)
    ran_before = set(previous_search_ids) if previous_search_ids is not None else set(prev)
    rows, changes, changed = [], [], {}
    for sid in search_ids:
        now = cur.get(sid, {})
        if sid not in ran_before:
            changes.append(SearchChange(sid, None, len(now), 0, 0, 0))
            continue
        before = prev.get(sid, {})
        added = sorted(set(now) - set(before))
        removed = sorted(set(before) - set(now))
        moved = {}
        for rid in sorted(set(now) & set(before)):
            fields = changed_fields(before[rid], now[rid])
            if fields:
                moved[rid] = fields
        rows += [{"search_id": sid, "record_id": rid, "change": "added", "fields": ""} for rid in added]
        rows += [{"search_id": sid, "record_id": rid, "change": "removed",
                  "fields": WHY_REMOVED.get(before[rid]["source"], "no longer returned")} for rid in removed]
        rows += [{"search_id": sid, "record_id": rid, "change": "changed", "fields": ",".join(f)}
                 for rid, f in moved.items()]
        changed.update(moved)
        changes.append(SearchChange(sid, len(before), len(now), len(added), len(removed), len(moved)))
    order = {"added": 0, "removed": 1, "changed": 2}
    rows.sort(key=lambda r: (search_ids.index(r["search_id"]), order[r["change"]], r["record_id"]))
    return rows, changes, dict(sorted(changed.items()))


def previous_round(protocol: Protocol, snapshot_root: Path, history: list[Capture]) -> PreviousRound | None:
    """The newest earlier round that published a ledger; else, for an update protocol, the
    numbers the protocol reports for the version it updates; else None (a review's first round)."""
    for cap in history:
        cid = cap.manifest["capture_id"]
        path = ledger_path(snapshot_root, protocol.id, cid)
        if not path.exists():
            continue
        try:
            ledger = json.loads(path.read_text(encoding="utf-8"))
            rnd = ledger["round"]
            total = ledger["prisma"].get("total") or ledger["prisma"]["included"]
        except (ValueError, KeyError, TypeError) as e:
            raise SnapshotError(f"{path}: not a reprisma ledger with a 'round' block ({e})") from None
        return PreviousRound(
            "ledger", f"the ledger of capture {cid} (the previous round)", cid, total.get("studies"),
            total.get("reports"), sorted(rnd["complete_record_ids"]), sorted(rnd["included_report_ids"]),
            sorted(rnd["included_study_ids"]))
    r = protocol.refresh
    if r:
        studies, reports = r.get("previous_included_studies"), r.get("previous_included_reports")
        return PreviousRound("protocol", "reported by the previous version of the review (no record list "
                             "available)", None, studies, reports)
    return None


def compare(protocol: Protocol, capture: Capture, records: list[dict], snapshot_root: Path) -> Refresh:
    from reprisma.replay import capture_records

    history = capture_history(snapshot_root, protocol.id, capture)
    previous = capture_records(history[0]) if history else None
    search_ids = [s["search_id"] for s in capture.manifest["searches"]]
    rows, changes, changed = diff_records(previous, records, search_ids,
                                          [e["search_id"] for e in history[0].manifest["searches"]] if history else None)
    current_ids = {r["record_id"] for r in records}
    departed: dict[str, str] = {}
    for i, cap in enumerate(history):
        held = previous if i == 0 else capture_records(cap)
        for rec in held:
            if rec["record_id"] not in current_ids:
                departed.setdefault(rec["record_id"], cap.manifest["capture_id"])
    return Refresh(capture.manifest["capture_id"], history[0].manifest["capture_id"] if history else None,
                   [c.manifest["capture_id"] for c in history], changes, rows, dict(sorted(departed.items())),
                   changed, previous_round(protocol, snapshot_root, history))
