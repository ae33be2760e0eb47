"""Files for other tools: the PRISMA2020 app's data template, included records as CSV and RIS."""

from __future__ import annotations

import csv
import io

import rispy

# The data template of the PRISMA2020 R package and Shiny app (Haddaway, Page, Pritchard,
# McGuinness 2022; inst/extdata/PRISMA.csv): one row per `data` key, filled with our counts.
# Keys of the arms we do not have (other methods) are written as 0, as the template's own rows.
TEMPLATE_COLUMNS = ["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"]
TEMPLATE_ROWS = [
    ("previous_studies", "node5", "box1", "Studies included in previous version of review"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of review"),
    ("database_results", "node7", "box2", "Records identified from: Databases"),
    ("database_specific_results", "NA", "box2", "Records identified from: specific databases"),
    ("register_results", "NA", "box2", "Records identified from: Registers"),
    ("register_specific_results", "NA", "box2", "Records identified from: specific registers"),
    ("website_results", "node17", "box11", "Records identified from: Websites"),
    ("organisation_results", "NA", "box11", "Records identified from: Organisations"),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching"),
    ("duplicates", "node8", "box3", "Duplicate records"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons"),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)"),
    ("dbr_sought_reports", "node11", "box6", "Reports sought for retrieval (databases and registers)"),
    ("dbr_notretrieved_reports", "node12", "box7", "Reports not retrieved (databases and registers)"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval (other)"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved (other)"),
    ("dbr_assessed", "node13", "box8", "Reports assessed for eligibility (databases and registers)"),
    ("dbr_excluded", "node14", "box9", "Reports excluded (databases and registers)"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility (other)"),
    ("other_excluded", "node21", "box15", "Reports excluded (other)"),
    ("new_studies", "node15", "box10", "New studies included in review"),
    ("new_reports", "NA", "box10", "Reports of new included studies"),
    ("total_studies", "node22", "box16", "Total studies included in review"),
    ("total_reports", "NA", "box16", "Reports of total included studies"),
]


def _specific(items: dict) -> str:
    return "; ".join(f"{name}, {n}" for name, n in items.items())


def _known(n):
    return "NA" if n is None else n


def prisma_template_values(counts: dict) -> dict:
    p = counts["prisma"]
    ident, scr, inc = p["identification"], p["screening"], p["included"]
    prev = p.get("previous") or {}
    return {
        "previous_studies": prev.get("studies") if prev.get("studies") is not None else 0,
        "previous_reports": prev.get("reports") if prev.get("reports") is not None else 0,
        "database_results": sum(ident["databases"].values()),
        "database_specific_results": _specific(ident["databases"]),
        "register_results": sum(ident["registers"].values()),
        "register_specific_results": _specific(ident["registers"]),
        "website_results": 0, "organisation_results": 0, "citations_results": 0,
        "duplicates": ident["duplicates_removed"],
        "excluded_automatic": ident["ineligible_by_automation"],
        "excluded_other": ident["removed_other_reasons"],
        "records_screened": scr["records_screened"],
        "records_excluded": scr["records_excluded"],
        "dbr_sought_reports": scr["reports_sought"],
        "dbr_notretrieved_reports": scr["reports_not_retrieved"],
        "other_sought_reports": 0, "other_notretrieved_reports": 0,
        "dbr_assessed": scr["reports_assessed"],
        "dbr_excluded": _specific(scr["reports_excluded"]) or 0,
        "other_assessed": 0, "other_excluded": 0,
        "new_studies": inc["studies"], "new_reports": inc["reports"],
        # an updated review: previous + new (NA where the previous version's number is unknown)
        "total_studies": _known((p.get("total") or {"studies": inc["studies"]})["studies"]),
        "total_reports": _known((p.get("total") or {"reports": inc["reports"]})["reports"]),
    }


def prisma_template_csv(counts: dict) -> str:
    values = prisma_template_values(counts)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(TEMPLATE_COLUMNS)
    for data, node, box, description in TEMPLATE_ROWS:
        w.writerow([data, node, box, description, description, description, "NA", values[data]])
    return buf.getvalue()


RECORD_COLUMNS = ["record_id", "pmid", "doi", "nct_ids", "title", "authors", "journal", "volume", "issue",
                  "pages", "year", "abstract"]


def included_csv(records: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=RECORD_COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in records:
        w.writerow({**{k: r.get(k) for k in RECORD_COLUMNS}, "authors": "; ".join(r["authors"]),
                    "nct_ids": "; ".join(r["nct_ids"])})
    return buf.getvalue()


def included_ris(records: list[dict]) -> str:
    entries = []
    for r in records:
        trial = r["source"] == "ctgov"
        e = {"type_of_reference": "DBASE" if trial else "JOUR", "id": r["record_id"], "title": r["title"],
             "authors": r["authors"], "year": str(r["year"]) if r.get("year") else None,
             "journal_name": r.get("journal"), "volume": r.get("volume"), "number": r.get("issue"),
             "doi": r.get("doi"), "abstract": r.get("abstract"), "accession_number": r.get("pmid"),
             "notes": [f"reprisma:{r['record_id']}"] + [f"NCT:{n}" for n in r["nct_ids"]]}
        if r.get("pages"):
            sp, _, ep = r["pages"].partition("-")
            e["start_page"] = sp
            if ep:
                e["end_page"] = ep
        entries.append({k: v for k, v in e.items() if v not in (None, "", [])})
    return rispy.dumps(entries) if entries else ""
