"""The search appendix as Markdown (reports/search_appendix.md), for a manuscript's supplement.

It follows PRISMA-S (Rethlefsen et al. 2021, Systematic Reviews 10:39): per database the name
(item 1) and interface (item 1), the full search strings exactly as sent (item 8), the limits
and restrictions (item 9), the date each search was run and the records it returned (item 13),
and how records were deduplicated (item 16). Everything comes from the counts ledger (itself
from the snapshot's manifest) and the protocol; nothing is typed in.
"""

from __future__ import annotations

INTERFACES = {"pubmed": "NCBI E-utilities esearch/efetch (history server: WebEnv/query_key)",
              "ctgov": "ClinicalTrials.gov API v2 (/api/v2/studies)"}


def interface(source: str) -> str:
    return INTERFACES.get(source, source)


def _cell(text) -> str:
    """A Markdown table cell: pipes escaped, one line."""
    return "" if text is None else " ".join(str(text).split()).replace("|", "\\|")


def _code(text) -> str:
    """Inline code that survives backticks in a query."""
    t = " ".join(str(text).split())
    fence = "``" if "`" in t else "`"
    return f"{fence}{t}{fence}" if t else ""


def search_limits(protocol_config: dict, search_id: str, window=None) -> list[str]:
    """The structured limits of one search, in words, as the protocol states them (with the
    living-review window when refresh is enabled). ``window``: the date window the capture
    searched (counts.json's, from the manifest); a living review reruns a registry search in full
    up to its end date, so a registry search's dates are said from it."""
    spec = next((s for s in protocol_config["searches"] if s["id"] == search_id), None)
    if spec is None:
        return []
    lim = spec.get("limits") or {}
    refresh = protocol_config.get("refresh")
    out = []
    if spec["source"] == "pubmed":
        if lim.get("languages"):
            out.append("language: " + ", ".join(lim["languages"]) + " ([la])")
        if refresh and refresh.get("enabled"):
            out.append(f"dates: {refresh['date_from']} to {refresh['date_to']} on [{refresh.get('date_field', 'edat')}] "
                       "(living-review update window)")
        else:
            out.append(f"dates: {lim.get('date_from') or 'start of PubMed'} to {lim.get('date_to') or 'the day run'} "
                       f"on [{lim.get('date_field', 'pdat')}]")
    else:
        if spec.get("overall_status"):
            out.append("overall status: " + ", ".join(spec["overall_status"]))
        if refresh and refresh.get("enabled"):
            lo, hi = (window or [None, refresh["date_to"]])[:2]
            out.append(f"first posted: {lo or 'any date'} to {hi or 'the day run'} (living-review update: registry "
                       "searches are rerun in full up to the update's end date)")
        elif lim.get("first_posted_from") or lim.get("first_posted_to"):
            out.append(f"first posted: {lim.get('first_posted_from') or 'any date'} to {lim.get('first_posted_to') or 'the day run'}")
        if spec.get("intervention"):
            out.append(f"intervention field (query.intr): {spec['intervention']}")
    return out


def automation_rules(protocol_config: dict) -> list[str]:
    rules = protocol_config.get("eligibility") or {}
    out = []
    if rules.get("languages"):
        out.append("language: records in " + ", ".join(rules["languages"]) + " (records without a language are kept)")
    if rules.get("publication_date_field") or rules.get("registry_date_field"):
        out.append(f"publication date: the search window applied to {rules.get('publication_date_field', 'pub_date')} "
                   f"(PubMed) / {rules.get('registry_date_field', 'first_posted_date')} (ClinicalTrials.gov)")
    if rules.get("exclude_publication_types"):
        out.append("publication type: excludes " + ", ".join(rules["exclude_publication_types"]))
    if rules.get("trial_overall_status"):
        out.append("trial status: keeps " + ", ".join(rules["trial_overall_status"]))
    if rules.get("trial_study_types"):
        out.append("study type: keeps " + ", ".join(rules["trial_study_types"]))
    return out


def search_appendix_md(protocol_config: dict, counts: dict, provenance: dict) -> str:
    p = protocol_config["protocol"]
    cap = counts["capture"]
    lines = [f"# Search appendix: {p['title']}", "",
             f"Protocol `{counts['protocol_id']}`, snapshot `{provenance['snapshot_id']}` "
             f"(manifest SHA-256 `{cap['manifest_sha256']}`), captured {cap['started']} to {cap['finished']} (UTC). "
             "Reported following PRISMA-S (Rethlefsen et al. 2021).", ""]
    if cap["kind"] == "example":
        lines += ["> **Example data, not a search result.** This snapshot was captured from reprisma's emulators "
                  "serving real records; it is not a capture of PubMed or ClinicalTrials.gov, and its counts are not "
                  "a reproduction of the paper's. `make refresh` with network access makes a real capture.", ""]
    lines += ["## Databases, interfaces and counts", "",
              "| Search | Database | Interface | Date run (UTC) | Count reported by the service | Records received | Reported in paper |",
              "|---|---|---|---|---:|---:|---:|"]
    for s in counts["searches"]:
        lines.append(f"| `{s['search_id']}` | {_cell(s['database'])} | {_cell(interface(s['source']))} | {s['date_run']} | "
                     f"{s['count_reported_by_service']:,} | {s['records_received']:,} | "
                     f"{'' if s['reported_in_paper'] is None else format(s['reported_in_paper'], ',')} |")
    lines.append("")
    lines += ["## Search strategies", ""]
    for s in counts["searches"]:
        lines += [f"### {s['search_id']} ({s['database']})", "",
                  f"- Interface: {interface(s['source'])}",
                  f"- Search as sent: {_code(s['query'])}"]
        if s.get("query_translation"):
            lines.append(f"- The service's interpretation (PubMed QueryTranslation): {_code(s['query_translation'])}")
        if s.get("data_timestamp"):
            lines.append(f"- Registry data timestamp (/api/v2/version): {s['data_timestamp']}")
        params = s.get("params") or {}
        if params:
            lines.append("- Request parameters: " + ", ".join(f"{_code(f'{k}={v}')}" for k, v in sorted(params.items())))
        limits = search_limits(protocol_config, s["search_id"], s.get("window"))
        if limits:
            lines.append("- Limits: " + "; ".join(limits))
        for w in s.get("service_warnings") or []:
            lines.append(f"- Service warning: {_cell(w)}")
        lines.append(f"- Date run: {s['date_run']}; count reported by the service: {s['count_reported_by_service']:,}; "
                     f"records received: {s['records_received']:,}")
        lines.append("")
    rules = automation_rules(protocol_config)
    if rules:
        lines += ["## Records marked as ineligible by automation", ""] + [f"- {r}" for r in rules] + [""]
    lines += ["## Deduplication", "",
              "Records found by more than one search count once; the dedup engine (reprisma.dedup) then merges records "
              "with the same PMID, DOI, NCT id or PMCID, and candidate pairs scored with rapidfuzz on title, authors, "
              "year, journal, volume and pages. Every merge is listed with its rule in `reports/dedup_explanations.tsv`, "
              "every removed duplicate with the record kept in `reports/records/duplicates_removed.csv`.", ""]
    if counts.get("assumptions"):
        lines += ["## Assumptions where the paper is silent", "", "| Protocol key | Assumption |", "|---|---|"]
        lines += [f"| `{a['key']}` | {_cell(a['assumption'])} |" for a in counts["assumptions"]]
        lines.append("")
    return "\n".join(lines)
