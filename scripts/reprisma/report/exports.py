"""Files for other tools: the PRISMA2020 app's data template, included records as CSV and RIS."""

from __future__ import annotations

import csv
import io

import rispy

# The data template of the PRISMA2020 R package and Shiny app (Haddaway, Page, Pritchard,
# McGuinness 2022, Campbell Systematic Reviews 18:e1230; inst/extdata/PRISMA.csv of package
# version 1.x, with the meta-analysis rows of its app template): every row, in its order, with its
# `data`, `node`, `box`, `description` and `tooltips` cells as the template has them ("NA" where it
# has NA, "" where it has an empty cell). What the package does with the file (read from its R
# sources, PRISMA_data / PRISMA_parse_reasons_ / PRISMA_flowdiagram):
# - read.csv(): the string NA is a missing value;
# - a number is found by grep(<data name>, data column) and read after deleting every comma and
#   every character that is not a digit or a point; NA (missing) leaves a box or arm out: the
#   previous-studies arm when both previous_* are NA, the other-methods arm when websites,
#   organisations and citations are all NA;
# - `boxtext` is the label the diagram prints before " (n = ...)"; the title boxes (prevstud,
#   newstud, othstud) are found by the `box` column, the phase labels by the `data` column;
# - *_specific_results and *_excluded hold "name, n; name, n": split at ";" (and one space), the
#   name is what comes before the first comma, the number what follows it; a cell with nothing but
#   digits and commas is a single number;
# - `url`: the link of each box is the url of the box's FIRST row (urls <- data[!duplicated(box), ]).
# Columns: data, node, box, description, boxtext (the template's), tooltips, url (the template's).
TEMPLATE_COLUMNS = ["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"]
TEMPLATE_ROWS = [
    ("NA", "node4", "prevstud", "Grey title box; Previous studies", "Previous studies",
     "Grey title box; Previous studies"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review",
     "Studies included in previous version of review", "Studies included in previous version of review"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of review",
     "Reports of studies included in previous version of review", "NA"),
    ("NA", "node6", "newstud", "Yellow title box; Identification of new studies via databases and registers",
     "Identification of new studies via databases and registers",
     "Yellow title box; Identification of new studies via databases and registers"),
    ("database_results", "node7", "box2", "Records identified from: Databases", "Databases",
     "Records identified from: Databases and Registers"),
    ("database_specific_results", "NA", "box2", "Records identified from: specific databases", "Specific Databases",
     "NA"),
    ("register_results", "NA", "box2", "Records identified from: Registers", "Registers", "NA"),
    ("register_specific_results", "NA", "box2", "Records identified from: specific registers", "Specific Registers",
     "NA"),
    ("NA", "node16", "othstud", "Grey title box; Identification of new studies via other methods",
     "Identification of new studies via other methods",
     "Grey title box; Identification of new studies via other methods"),
    ("website_results", "node17", "box11", "Records identified from: Websites", "Websites",
     "Records identified from: Websites, Organisations and Citation Searching"),
    ("organisation_results", "", "box11", "Records identified from: Organisations", "Organisations", "NA"),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching", "Citation searching", "NA"),
    ("duplicates", "node8", "box3", "Duplicate records", "Duplicate records", "Duplicate records"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools",
     "Records marked as ineligible by automation tools", "NA"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons", "Records removed for other reasons", "NA"),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)", "Records screened",
     "Records screened (databases and registers)"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)", "Records excluded",
     "Records excluded (databases and registers)"),
    ("dbr_sought_reports", "node11", "box6", "Reports sought for retrieval (databases and registers)",
     "Reports sought for retrieval", "Reports sought for retrieval (databases and registers)"),
    ("dbr_notretrieved_reports", "node12", "box7", "Reports not retrieved (databases and registers)",
     "Reports not retrieved", "Reports not retrieved (databases and registers)"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval (other)", "Reports sought for retrieval",
     "Reports sought for retrieval (other)"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved (other)", "Reports not retrieved",
     "Reports not retrieved (other)"),
    ("dbr_assessed", "node13", "box8", "Reports assessed for eligibility (databases and registers)",
     "Reports assessed for eligibility", "Reports assessed for eligibility (databases and registers)"),
    ("dbr_excluded", "node14", "box9", "Reports excluded (databases and registers): [separate reasons and numbers "
     "using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]", "Reports excluded",
     "Reports excluded (databases and registers)"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility (other)",
     "Reports assessed for eligibility", "Reports assessed for eligibility (other)"),
    ("other_excluded", "node21", "box15", "Reports excluded (other): [separate reasons and numbers using ; e.g. "
     "Reason1, xxx; Reason2, xxx; Reason3, xxx]", "Reports excluded", "Reports excluded (other)"),
    ("new_studies", "node15", "box10", "New studies included in review", "New studies included in review",
     "New studies included in review"),
    ("new_reports", "NA", "box10", "Reports of new included studies", "Reports of new included studies", "NA"),
    ("total_studies", "node22", "box16", "Total studies included in review", "Total studies included in review",
     "Total studies included in review"),
    ("total_reports", "NA", "box16", "Reports of total included studies", "Reports of total included studies", "NA"),
    ("identification", "node1", "identification", "Blue identification box", "Identification",
     "Blue identification box"),
    ("screening", "node2", "screening", "Blue screening box", "Screening", "Blue screening box"),
    ("included", "node3", "included", "Blue included box", "Included", "Blue included box"),
    ("total_studies_ma", "node23", "box17", "Total studies included in meta-analysis",
     "Total studies included in meta-analysis", "Total studies included in meta-analysis"),
    ("total_reports_ma", "NA", "box17", "Reports of total included studies in meta-analysis",
     "Reports of total included studies in meta-analysis", "NA"),
]
NA = "NA"

# Labels of a first review (no previous version): PRISMA 2020's template for new reviews.
NEW_REVIEW_BOXTEXT = {"newstud": "Identification of studies via databases and registers",
                      "new_studies": "Studies included in review",
                      "new_reports": "Reports of included studies"}

# Where each row's number is listed (record lists under reports/records/, see record_lists.py) or,
# for the title and phase boxes, the report's section.
ROW_URLS = {
    "prevstud": "report.html#previous", "previous_studies": "report.html#previous",
    "newstud": "report.html#searches", "database_results": "records/identified.csv",
    "database_specific_results": "records/identified.csv", "register_results": "records/identified.csv",
    "register_specific_results": "records/identified.csv",
    "duplicates": "records/duplicates_removed.csv", "excluded_automatic": "records/removed_by_automation.csv",
    "excluded_other": "records/removed_other_reasons.csv", "records_screened": "records/screened.csv",
    "records_excluded": "records/excluded_title_abstract.csv", "dbr_sought_reports": "records/sought.csv",
    "dbr_notretrieved_reports": "records/not_retrieved.csv", "dbr_assessed": "records/assessed.csv",
    "dbr_excluded": "records/excluded_full_text.csv", "new_studies": "records/included.csv",
    "new_reports": "records/included.csv", "total_studies": "report.html#included",
    "identification": "report.html#searches",
    "screening": "report.html#screening", "included": "report.html#included",
}


def _reasons(items: dict) -> str:
    """'name, n; name, n' as the PRISMA2020 package parses it (numbers without separators)."""
    for name in items:
        if "," in name or ";" in name:
            # exclusion reasons are checked by the protocol; database names are reprisma's own
            raise ValueError(f"{name!r}: a comma or semicolon would cut this name in the PRISMA2020 app's "
                             "'name, n; name, n' cells")
    return "; ".join(f"{name}, {int(n)}" for name, n in items.items())


def _num(v) -> str:
    return NA if v is None else str(int(v))


def prisma_template_values(counts: dict) -> dict:
    """The `n` cell of every template row ('NA' for what this review did not do)."""
    p = counts["prisma"]
    ident, scr, inc = p["identification"], p["screening"], p["included"]
    prev = p.get("previous")
    prev_studies = prev.get("studies") if prev else None
    prev_reports = prev.get("reports") if prev else None
    total = p.get("total") or {}
    total_studies = total.get("studies")
    if total_studies is None and prev_studies is not None:
        total_studies = prev_studies + inc["studies"]
    total_reports = total.get("reports")
    if total_reports is None and prev_reports is not None:
        total_reports = prev_reports + inc["reports"]
    return {
        "previous_studies": _num(prev_studies), "previous_reports": _num(prev_reports),
        "database_results": _num(sum(ident["databases"].values())) if ident["databases"] else NA,
        "database_specific_results": _reasons(ident["databases"]) or NA,
        "register_results": _num(sum(ident["registers"].values())) if ident["registers"] else NA,
        "register_specific_results": _reasons(ident["registers"]) or NA,
        # no identification via other methods (websites, organisations, citation searching) is
        # recorded: NA, which makes the package leave that arm out
        "website_results": NA, "organisation_results": NA, "citations_results": NA,
        "duplicates": _num(ident["duplicates_removed"]),
        "excluded_automatic": _num(ident["ineligible_by_automation"]),
        # a living review's later round: clusters screened in a previous round are removed before
        # screening too (reprisma's diagram lists them apart; the package has one box for both)
        "excluded_other": _num(ident["removed_other_reasons"] + ident.get("screened_in_previous_round", 0)),
        "records_screened": _num(scr["records_screened"]),
        "records_excluded": _num(scr["records_excluded"]),
        "dbr_sought_reports": _num(scr["reports_sought"]),
        "dbr_notretrieved_reports": _num(scr["reports_not_retrieved"]),
        "other_sought_reports": NA, "other_notretrieved_reports": NA,
        "dbr_assessed": _num(scr["reports_assessed"]),
        "dbr_excluded": _reasons(scr["reports_excluded"]) or "0",
        "other_assessed": NA, "other_excluded": NA,
        "new_studies": _num(inc["studies"]), "new_reports": _num(inc["reports"]),
        "total_studies": _num(total_studies) if prev else NA,
        "total_reports": _num(total_reports) if prev else NA,
        "total_studies_ma": NA, "total_reports_ma": NA,
    }


def prisma_template_csv(counts: dict) -> str:
    """reports/prisma2020.csv: the PRISMA2020 package's template filled in, for
    ``PRISMA_flowdiagram(PRISMA_data(read.csv("prisma2020.csv")))`` or the Shiny app's upload."""
    values = prisma_template_values(counts)
    new_review = not counts["prisma"].get("previous")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(TEMPLATE_COLUMNS)
    for data, node, box, description, boxtext, tooltips in TEMPLATE_ROWS:
        key = box if data == NA else data
        if new_review:
            boxtext = NEW_REVIEW_BOXTEXT.get(key, boxtext)
        n = values.get(data, "0")  # the title and phase rows carry the template's 0
        url = ROW_URLS.get(key, NA) if (data == NA or n != NA) else NA
        if new_review and key in ("prevstud",):
            url = NA
        w.writerow([data, node, box, description, boxtext, tooltips, url, n])
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
