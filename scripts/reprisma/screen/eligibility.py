"""Automated eligibility: the protocol's limits applied to every deduplicated record.

PRISMA 2020 counts these as "records marked as ineligible by automation tools". Each exclusion
carries the rule that made it and what the record held, so the report can show why.
A value the record does not have (no language, no date) never excludes it: that record goes to
the human screeners.
"""

from __future__ import annotations

import calendar
from datetime import date

RULES = ("language", "publication_date", "publication_type", "trial_status")


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


def assess(record: dict, rules: dict, window: tuple[str | None, str | None]) -> tuple[str, str] | None:
    """(rule, detail) of the first rule the record fails, or None when it is eligible."""
    if record["source"] == "ctgov":
        allowed = rules.get("trial_overall_status") or []
        if allowed and record.get("overall_status") and record["overall_status"] not in allowed:
            return "trial_status", f"overall status {record['overall_status']}"
        if outside(record.get("first_posted_date"), window):
            return "publication_date", f"first posted {record['first_posted_date']}"
        return None
    langs = rules.get("languages") or []
    if langs and record.get("languages") and not set(record["languages"]) & set(langs):
        return "language", f"language {', '.join(record['languages'])}"
    if outside(record.get("pub_date"), window):
        return "publication_date", f"published {record['pub_date']}"
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
