"""Automated eligibility: the protocol's limits applied to every deduplicated record, and the
records reviewers removed before screening for other reasons.

PRISMA 2020 counts the first as "records marked as ineligible by automation tools" and the
second as "records removed for other reasons". Each exclusion carries the rule that made it and
what the record held (for a date, which date field and the window), so the report can show why.
A value the record does not have (no language, no date, no study type) never excludes it: that
record goes to the human screeners.

Which date: ``eligibility.publication_date_field`` for PubMed records (``pub_date``, the
publication date, or ``entry_date``, PubMed's entry date) and ``eligibility.registry_date_field``
for ClinicalTrials.gov records (``first_posted_date``, ``start_date`` or ``completion_date``).

Removed before screening (``removed_before_screening``, default
``config/removed_before_screening.tsv``; a missing file means none): tab-separated, header
``record_id reason reviewer date``, ``#`` lines are comments. Every problem is reported as
``FILE:LINE: message``, all at once, in an :class:`EligibilityError`. A record that automation
already excludes stays counted there (a record is removed once, by the first step that removes it).
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from pathlib import Path

from reprisma.errors import ReprismaError

REMOVED = "removed_other_reasons"  # the rule of rows a reviewer removed (not automation)
# the rule of rows whose screening a previous round of a living review completed: their decisions
# carry forward and they are not screened (nor counted) again
PREVIOUS = "screened_in_previous_round"
REMOVED_COLUMNS = ["record_id", "reason", "reviewer", "date"]

# per source: the protocol key naming the date field, and its default
DATE_SETTINGS = {"pubmed": ("publication_date_field", "pub_date"), "ctgov": ("registry_date_field", "first_posted_date")}
DATE_LABELS = {"pub_date": "published", "entry_date": "entered PubMed", "first_posted_date": "first posted",
               "start_date": "started", "completion_date": "completed"}


class EligibilityError(ReprismaError, ValueError):
    """A removed-before-screening file is invalid; the message names file and line."""


def date_span(partial: str) -> tuple[date, date]:
    """First and last day an ISO partial date ('2019', '2019-12', '2019-12-31') may stand for."""
    parts = [int(p) for p in partial.split("-")]
    if len(parts) == 1:
        return date(parts[0], 1, 1), date(parts[0], 12, 31)
    if len(parts) == 2:
        y, m = parts
        return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])
    return date(*parts), date(*parts)


def outside(partial: str | None, window: tuple[str | None, str | None]) -> bool:
    """True only when every day the partial date may mean lies outside the window."""
    if not partial:
        return False
    first, last = date_span(partial)
    start, end = window
    if end and first > date.fromisoformat(end):
        return True
    if start and last < date.fromisoformat(start):
        return True
    return False


def date_field(record: dict, rules: dict) -> str:
    """The record field the protocol's date limit applies to, for this record's source."""
    key, default = DATE_SETTINGS["ctgov" if record["source"] == "ctgov" else "pubmed"]
    return rules.get(key) or default


def _date_verdict(record: dict, rules: dict, window) -> tuple[str, str] | None:
    field = date_field(record, rules)
    value = record.get(field)
    if not outside(value, window):
        return None
    start, end = window
    return "publication_date", f"{DATE_LABELS[field]} {value} ({field} outside {start or '..'} to {end or '..'})"


def assess(record: dict, rules: dict, window: tuple[str | None, str | None]) -> tuple[str, str] | None:
    """(rule, detail) of the first rule the record fails, or None when it is eligible."""
    if record["source"] == "ctgov":
        allowed = rules.get("trial_overall_status") or []
        if allowed and record.get("overall_status") and record["overall_status"] not in allowed:
            return "trial_status", f"overall status {record['overall_status']}"
        types = rules.get("trial_study_types") or []
        if types and record.get("study_type") and record["study_type"] not in types:
            return "study_type", f"study type {record['study_type']}"
        return _date_verdict(record, rules, window)
    langs = rules.get("languages") or []
    if langs and record.get("languages") and not set(record["languages"]) & set(langs):
        return "language", f"language {', '.join(record['languages'])}"
    verdict = _date_verdict(record, rules, window)
    if verdict:
        return verdict
    excluded = set(rules.get("exclude_publication_types") or [])
    hit = sorted(excluded & set(record.get("publication_types") or []))
    if hit:
        return "publication_type", f"publication type {', '.join(hit)}"
    return None


def apply_eligibility(records: list[dict], rules: dict, window) -> list[dict]:
    """One row per record: record_id, eligible, rule, detail (sorted by record_id)."""
    rows = []
    for rec in sorted(records, key=lambda r: r["record_id"]):
        verdict = assess(rec, rules, window)
        rows.append({"record_id": rec["record_id"], "eligible": verdict is None,
                     "rule": verdict[0] if verdict else "", "detail": verdict[1] if verdict else ""})
    return rows


def load_removed(path: str | Path, cluster_of: dict[str, str]) -> dict[str, dict]:
    """The records reviewers removed before screening: record_id -> {reason, reviewer, date, line}.

    ``cluster_of``: every record id of the capture (and every cluster id) -> the record id of its
    cluster's representative, the record that is screened. A row may name any record of a
    cluster; it removes the cluster's representative.
    A missing file means none. Raises :class:`EligibilityError` listing every problem.
    """
    path = Path(path)
    if not path.exists():
        return {}
    problems: list[str] = []
    removed: dict[str, dict] = {}
    from reprisma.textfile import TextFileError, read_text, split_lines

    try:
        text = read_text(path)  # UTF-8; a BOM (Excel) is not part of the header
    except TextFileError as exc:
        raise EligibilityError(str(exc)) from None
    # one row per line (LF), fields split at tabs only, quotes kept as written: as decision files
    lines = split_lines(text)
    if lines and lines[-1] == "":
        lines.pop()
    rows = ((n, line.split("\t") if line else []) for n, line in enumerate(lines, start=1))
    # blank and '#' comment lines may come before the header too
    header_line, header = next(((n, r) for n, r in rows if not _skipped(r)), (1, None))
    if header is None or [h.strip() for h in header] != REMOVED_COLUMNS:
        got = "an empty file" if header is None else f"{[h.strip() for h in header]}"
        raise EligibilityError(f"{path}:{header_line}: header must be {'<TAB>'.join(REMOVED_COLUMNS)}, got {got}")
    for lineno, row in rows:
        if _skipped(row):
            continue
        where = f"{path}:{lineno}"
        if len(row) != len(REMOVED_COLUMNS):
            problems.append(f"{where}: expected {len(REMOVED_COLUMNS)} tab-separated columns, got {len(row)}")
            continue
        rid, reason, reviewer, day = (c.strip() for c in row)
        key = cluster_of.get(rid)
        if key is None:
            problems.append(f"{where}: unknown record id {rid!r} (not a record of this capture)")
        elif key in removed:
            same = "" if key == rid else f" (deduplication merged it into {key!r})"
            problems.append(f"{where}: record {rid!r}{same} is listed twice (first at line {removed[key]['line']})")
        if not reason:
            problems.append(f"{where}: reason is missing")
        if not reviewer:
            problems.append(f"{where}: reviewer is missing")
        if not is_iso_day(day):
            problems.append(f"{where}: date {day!r} is not a YYYY-MM-DD date")
        if key is not None:
            removed.setdefault(key, {"reason": reason, "reviewer": reviewer, "date": day, "line": lineno})
    if problems:
        n = len(problems)
        raise EligibilityError("\n".join([f"{n} problem{'s' if n != 1 else ''} in {path}:"] + problems))
    return removed


def _skipped(row: list[str]) -> bool:
    """A blank line or a '#' comment."""
    return not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#")


def is_iso_day(text: str) -> bool:
    """A real calendar day written YYYY-MM-DD (fromisoformat alone also takes 2026-W48-1, 20261129)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def apply_removals(rows: list[dict], removed: dict[str, dict]) -> list[dict]:
    """The eligibility rows with each removed record that automation kept marked
    ``rule = removed_other_reasons`` and its reason as the detail."""
    out = []
    for row in rows:
        hit = removed.get(row["record_id"])
        if hit and row["eligible"]:
            row = {**row, "eligible": False, "rule": REMOVED, "detail": hit["reason"]}
        out.append(row)
    return out


def apply_previous_round(rows: list[dict], complete: dict[str, str], to_rep: dict[str, str]) -> list[dict]:
    """The eligibility rows with every cluster holding a record whose screening a previous round
    completed (``complete``: record id -> the round's capture id) marked ``rule = PREVIOUS``,
    unless automation or a reviewer removed it first. A new report that joins such a cluster is
    therefore not screened as a new study: its cluster's decisions stand."""
    done = {}
    for rid, cid in sorted(complete.items()):
        rep = to_rep.get(rid)
        if rep is not None:
            done.setdefault(rep, cid)
    out = []
    for row in rows:
        cid = done.get(row["record_id"])
        if cid and row["eligible"]:
            row = {**row, "eligible": False, "rule": PREVIOUS,
                   "detail": f"screening completed in the round of capture {cid}; decisions carried forward"}
        out.append(row)
    return out


def removed_before_screening_file(protocol, base: Path = Path(".")) -> Path:
    """The protocol's list of records reviewers removed before screening (it may not exist)."""
    from reprisma.protocol import ProtocolError

    path = Path(protocol.config["removed_before_screening"])
    folder = Path(protocol.config["screening"]["decisions_dir"])
    if path.suffix == ".tsv" and (base / path).resolve().parent == (base / folder).resolve():
        raise ProtocolError(f"{protocol.source_path}: removed_before_screening: {path} is in screening.decisions_dir "
                            f"({folder}), whose every .tsv file is read as screening decisions; put it elsewhere")
    return base / path


def eligibility_rows(records: list[dict], clusters: list[dict], protocol, base: Path = Path("."),
                     refresh=None) -> list[dict]:
    """The eligibility stage: rows (record_id, eligible, rule, detail) for the cluster
    representatives. The protocol's automated limits, then the records reviewers removed before
    screening for other reasons, then (in a living review's later round, ``refresh``, a
    :class:`reprisma.refresh.Refresh`) the clusters a previous round finished."""
    from reprisma.dedup import representative_of

    # a removal may name any record (or the cluster id) of a cluster: it removes the representative
    to_rep = representative_of(clusters)
    reps = set(to_rep.values())
    specs = {s.id: s for s in protocol.searches}
    rules = protocol.config.get("eligibility") or {}
    rows = []
    for rec in records:
        if rec["record_id"] in reps:
            start, end = specs[rec["search_ids"][0]].window
            # An update searches by entry date: a record published before the window but indexed
            # inside it is new to the review, so only the upper bound excludes.
            window = (None, end) if protocol.refresh else (start, end)
            rows.extend(apply_eligibility([rec], rules, window))
    removed = load_removed(removed_before_screening_file(protocol, base), to_rep)
    rows = apply_removals(sorted(rows, key=lambda r: r["record_id"]), removed)
    prev = refresh.previous_round if refresh is not None else None
    if prev is not None and prev.complete_record_ids:
        rows = apply_previous_round(rows, dict.fromkeys(prev.complete_record_ids, prev.capture_id), to_rep)
    return rows
