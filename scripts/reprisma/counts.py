"""The counts ledger (reports/counts.json): every PRISMA 2020 box derived from the tables.

Nothing here is typed in: identification comes from the manifest and the records, duplicates
from the clusters, automation from the eligibility table, screening from resolved decisions.
The arithmetic the PRISMA flow implies is checked and written down as invariants; a ledger whose
invariants fail is an error, not a report.
"""

from __future__ import annotations

from collections import Counter

from reprisma.errors import ReprismaError
from reprisma.protocol import Protocol
from reprisma.screen.eligibility import PREVIOUS, REMOVED


class CountsError(ReprismaError, RuntimeError):
    pass


def count_capture(protocol: Protocol, capture, records: list[dict], clusters: list[dict], eligibility: list[dict],
                  screening: dict | None = None, refresh=None) -> dict:
    """The counts stage: the ledger (counts.json) of one capture (a :class:`reprisma.replay.Capture`)
    from the tables the earlier stages wrote (clusters.tsv rows, eligibility.tsv rows, the
    screening ledger)."""
    cluster_of = {c["record_id"]: c["cluster_id"] for c in clusters}
    return build_ledger(protocol, capture.manifest, capture.manifest_sha256, records, cluster_of, eligibility,
                        screening, refresh)


def build_ledger(protocol: Protocol, manifest: dict, manifest_sha256: str, records: list[dict],
                 clusters: dict[str, str], eligibility: list[dict], screening: dict | None = None,
                 refresh=None) -> dict:
    """Assemble the ledger.

    clusters: record_id -> its cluster id (one per cluster; only their number is used here).
    eligibility: rows for cluster representatives (record_id, eligible, rule, detail); a row with
        rule ``removed_other_reasons`` is a record a reviewer removed (its reason is the detail),
        every other excluded row one the protocol's automation marked ineligible.
    screening: resolved decisions summary (see reprisma.screen) or None when nobody screened yet.
    refresh: the living review's comparison with its previous round (reprisma.refresh.Refresh) or
        None; with a previous round the ledger has PRISMA 2020's updated-review boxes: previous,
        new and total studies and reports.
    """
    specs = {s.id: s for s in protocol.searches}
    databases: Counter = Counter()
    registers: Counter = Counter()
    searches = []
    for entry in manifest["searches"]:
        db = entry["database"]
        (registers if entry["source"] == "ctgov" else databases)[db] += entry["records_received"]
        spec = specs.get(entry["search_id"])
        reported = spec.reported_count if spec else None
        comparable = reported is not None and protocol.refresh is None
        searches.append({
            "search_id": entry["search_id"], "source": entry["source"], "database": db,
            "query": entry["query"], "window": entry.get("window"),
            "params": (entry["files"][0]["request"]["params"] if entry["source"] == "pubmed" else entry.get("params")),
            "query_translation": entry.get("query_translation"),
            "service_warnings": entry.get("service_warnings", []) + entry.get("service_errors", []),
            "data_timestamp": entry.get("data_timestamp"), "date_run": entry["started"],
            "count_reported_by_service": entry["count_reported"], "records_received": entry["records_received"],
            "reported_in_paper": reported,
            "difference": entry["records_received"] - reported if comparable else None,
            "comparable_with_paper": comparable,
        })
    records_identified = sum(databases.values()) + sum(registers.values())
    # one record per (search, id): records found by two searches count twice at identification
    found_by_searches = sum(len(r["search_ids"]) for r in records)
    n_clusters = len(set(clusters.values()))
    duplicates_removed = found_by_searches - n_clusters
    reasons = Counter(row["rule"] for row in eligibility
                      if not row["eligible"] and row["rule"] not in (REMOVED, PREVIOUS))
    automation = sum(reasons.values())
    # removed by reviewers before screening (config/removed_before_screening.tsv): rule REMOVED, reason as detail
    other_reasons = Counter(row["detail"] for row in eligibility if not row["eligible"] and row["rule"] == REMOVED)
    removed_other = sum(other_reasons.values())
    # a living review's later round: clusters a previous round finished are not screened again
    previously = sum(1 for row in eligibility if not row["eligible"] and row["rule"] == PREVIOUS)
    screened = n_clusters - automation - removed_other - previously

    s = screening or {}
    ta_excluded = s.get("records_excluded", 0)
    # left unscreened because the protocol's stopping rule was met (screening.stopping.apply)
    stopped = s.get("records_stopped", 0)
    ta_pending = s.get("records_pending", screened - ta_excluded - stopped - s.get("records_included", 0))
    sought = s.get("records_included", 0)
    not_retrieved = s.get("reports_not_retrieved", 0)
    assessed = sought - not_retrieved
    ft_excluded = dict(sorted((s.get("reports_excluded") or {}).items()))
    ft_pending = s.get("reports_pending", assessed - sum(ft_excluded.values()) - s.get("reports_included", 0))
    reports_included = s.get("reports_included", 0)
    studies_included = s.get("studies_included", reports_included)

    prisma = {
        "identification": {
            "databases": dict(sorted(databases.items())),
            "registers": dict(sorted(registers.items())),
            "records_identified": records_identified,
            "duplicates_removed": duplicates_removed,
            "ineligible_by_automation": automation,
            "ineligible_by_automation_reasons": dict(sorted(reasons.items())),
            "removed_other_reasons": removed_other,
        },
        "screening": {
            "records_screened": screened,
            "records_excluded": ta_excluded,
            "records_pending": ta_pending,
            "reports_sought": sought,
            "reports_not_retrieved": not_retrieved,
            "reports_assessed": assessed,
            "reports_excluded": ft_excluded,
            "reports_pending": ft_pending,
        },
        "included": {"studies": studies_included, "reports": reports_included},
    }
    if "records_stopped" in s:  # only when the protocol declared that screening stopped: other ledgers keep their shape
        st = s["stopping"]
        prisma["screening"]["records_stopped"] = stopped
        prisma["screening"]["records_stopped_rule"] = (
            f"{st['rule']} (target recall {st['target_recall']:g}"
            + (f", confidence {st['confidence']:g}" if st.get("confidence") is not None else "") + ")")
    if other_reasons:  # only when reviewers removed records, so ledgers without any keep their shape
        prisma["identification"]["removed_other_reasons_by_reason"] = dict(sorted(other_reasons.items()))
    prev = refresh.previous_round if refresh is not None else None
    new_studies = sorted(set(s.get("included_study_ids") or []) - set(prev.included_study_ids if prev else []))
    if prev is not None:
        prisma["identification"]["screened_in_previous_round"] = previously
        prisma["previous"] = {"studies": prev.studies, "reports": prev.reports, "source": prev.description,
                              "capture_id": prev.capture_id}
        # a new report of a study a previous round included adds a report, not a study
        if s.get("included_study_ids") is not None:
            prisma["included"]["studies"] = len(new_studies)
        prisma["total"] = {
            "studies": None if prev.studies is None else prev.studies + prisma["included"]["studies"],
            "reports": None if prev.reports is None else prev.reports + reports_included,
        }
    round_block = {
        "capture_id": manifest["capture_id"],
        "previous_capture": (refresh.previous_capture if refresh is not None else None),
        "complete_record_ids": sorted(set(s.get("complete_record_ids") or [])
                                      | set(prev.complete_record_ids if prev else [])),
        "included_report_ids": sorted(set(s.get("included_record_ids") or [])
                                      | set(prev.included_report_ids if prev else [])),
        "included_study_ids": sorted(set(s.get("included_study_ids") or [])
                                     | set(prev.included_study_ids if prev else [])),
    }
    invariants = [
        ("identified = sum of records received per search",
         f"{records_identified} = {found_by_searches}", records_identified == found_by_searches),
        ("identified - duplicates - automation - other - screened in a previous round = screened",
         f"{records_identified} - {duplicates_removed} - {automation} - {removed_other} - {previously} = {screened}",
         records_identified - duplicates_removed - automation - removed_other - previously == screened),
        ("screened = excluded + pending + sought",
         f"{screened} = {ta_excluded} + {ta_pending} + {sought}", screened == ta_excluded + ta_pending + sought)
        if "records_stopped" not in s else
        ("screened = excluded + stopped by the stopping rule + pending + sought",
         f"{screened} = {ta_excluded} + {stopped} + {ta_pending} + {sought}",
         screened == ta_excluded + stopped + ta_pending + sought),
        ("sought - not retrieved = assessed", f"{sought} - {not_retrieved} = {assessed}", sought - not_retrieved == assessed),
        ("assessed = excluded + pending + included reports",
         f"{assessed} = {sum(ft_excluded.values())} + {ft_pending} + {reports_included}",
         assessed == sum(ft_excluded.values()) + ft_pending + reports_included),
        ("every received record was parsed", f"{found_by_searches} records parsed per search",
         all(e["records_received"] == sum(1 for r in records if e["search_id"] in r["search_ids"])
             for e in manifest["searches"])),
        ("no count is negative", "all boxes >= 0",
         min([duplicates_removed, screened, ta_pending, assessed, ft_pending, stopped]) >= 0),
    ]
    if "total" in prisma:
        t, pv, inc = prisma["total"], prisma["previous"], prisma["included"]
        if t["reports"] is not None:
            invariants.append(("total reports = previous + new reports",
                               f"{t['reports']} = {pv['reports']} + {inc['reports']}",
                               t["reports"] == pv["reports"] + inc["reports"]))
        if t["studies"] is not None:
            invariants.append(("total studies = previous + new studies",
                               f"{t['studies']} = {pv['studies']} + {inc['studies']}",
                               t["studies"] == pv["studies"] + inc["studies"]))
    ledger = {
        "protocol_id": protocol.id,
        "protocol_sha256": manifest["searches_sha256"],
        "capture": {"capture_id": manifest["capture_id"], "kind": manifest["capture"],
                    "manifest_sha256": manifest_sha256, "started": manifest["started"],
                    "finished": manifest["finished"]},
        "prisma": prisma,
        "searches": searches,
        "invariants": [{"name": n, "expression": e, "holds": bool(h)} for n, e, h in invariants],
        "reported": dict(sorted((protocol.config.get("reported") or {}).items())),
        "assumptions": protocol.assumptions(),
        "inherits": protocol.inherits,
        "known_items": known_items(protocol, manifest, records),
        "round": round_block,
        "refresh": ({"previous_capture": refresh.previous_capture, "history": refresh.history,
                     "searches": [vars(c) for c in refresh.searches], "summary": refresh.summary_lines(),
                     "records_changed": len(refresh.changed), "records_departed": len(refresh.departed)}
                    if refresh is not None else None),
        "screening_status": {k: v for k, v in s.items()
                             if k in ("mode", "conflicts", "kappa", "decisions_files", "pending", "carried_forward",
                                      "decisions_on_departed_records", "decisions_on_changed_records")},
    }
    broken = [i for i in ledger["invariants"] if not i["holds"]]
    if broken:
        raise CountsError("counts do not add up: " + "; ".join(f"{i['name']} ({i['expression']})" for i in broken))
    return ledger


def known_items(protocol: Protocol, manifest: dict, records: list[dict]) -> list[dict]:
    """Per known item of the protocol: the records that are it (by PMID, DOI or, for its trial, the
    registration ``ctgov:NCT...``), which searches retrieved it and which missed it; a miss says
    whether any search of the capture holds it (``in_capture``)."""
    from reprisma.records.normalise import normalise_doi

    searches = [e["search_id"] for e in manifest["searches"]]
    out = []
    for item in protocol.known_items:
        doi = normalise_doi(item["doi"]) if item.get("doi") else None
        hits = [r for r in records
                if (item.get("pmid") and r.get("pmid") == item["pmid"])
                or (doi and r.get("doi") == doi)
                or (item.get("nct") and r["record_id"] == f"ctgov:{item['nct']}")]
        found = sorted({sid for r in hits for sid in r["search_ids"]}, key=searches.index)
        out.append({**{k: item[k] for k in ("pmid", "doi", "nct") if item.get(k)},
                    "note": " ".join(item["note"].split()),
                    "record_ids": sorted(r["record_id"] for r in hits),
                    "retrieved_by": found, "missed_by": [sid for sid in searches if sid not in found],
                    "in_capture": bool(hits)})
    return out
