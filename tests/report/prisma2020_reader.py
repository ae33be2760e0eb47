"""A Python reading of how the PRISMA2020 R package (1.x) takes in its CSV template, step by step
as its R sources do it (read, not copied): ``read.csv``, ``PRISMA_data`` (grep on the ``data``
column, ``PRISMA_default_or_csv_``, ``PRISMA_format_number_``, ``PRISMA_parse_reasons_``, the
``boxtext`` lookups, the per-box ``urls``) and the labels ``PRISMA_flowdiagram`` builds from them.
The tests load reports/prisma2020.csv with it, so a cell the package would misread fails here.
"""

from __future__ import annotations

import csv
import io
import re

NA = None


def read_csv(text: str) -> list[dict]:
    """R's read.csv defaults: header, comma, double quotes, the string NA is missing; an empty
    cell of a text column stays an empty string."""
    rows = list(csv.DictReader(io.StringIO(text)))
    return [{k: (NA if v == "NA" else v) for k, v in r.items()} for r in rows]


def grep(pattern: str, column: list) -> list[int]:
    """R's grep(pattern, x): the indices whose value matches (NA never matches)."""
    rx = re.compile(pattern)
    return [i for i, v in enumerate(column) if v is not None and rx.search(v)]


class PackageWarning(Exception):
    pass


def default_or_csv(values: list, default, name: str, warnings: list):
    if len(values) == 0:
        warnings.append(f"Variable {name} was not processed because it does not appear to exist within the CSV file")
        return default
    return values


def format_number(x):
    """PRISMA_format_number_: delete commas, then every character but digits and '.', as.numeric."""
    if x is None:
        return None
    x = re.sub(r"[^0-9.]", "", str(x).replace(",", ""))
    try:
        return float(x)
    except ValueError:
        return None  # as.numeric("") is NA


def parse_reasons(reasons) -> list[tuple[str, float | None]]:
    """PRISMA_parse_reasons_: a cell with anything but digits and commas is split at ';' (and
    one optional space); a reason is what precedes its first comma, its number the digits,
    spaces and commas after that first comma. Otherwise the cell is one number with no reason."""
    s = reasons
    if s is not None and re.search(r"[^0-9,]", s):
        parts = re.split(r";(?: )?", s)
        return [(re.sub(r",.*$", "", part), format_number(re.sub(r".*?,([ 0-9,]*)|.*()", r"\1", part)))
                for part in parts]
    return [("", format_number(s))]


NUMBERS = ["previous_studies", "previous_reports", "register_results", "database_results", "website_results",
           "organisation_results", "citations_results", "duplicates", "excluded_automatic", "excluded_other",
           "records_screened", "records_excluded", "dbr_sought_reports", "dbr_notretrieved_reports",
           "other_sought_reports", "other_notretrieved_reports", "dbr_assessed", "other_assessed", "new_studies",
           "new_reports", "total_studies$", "total_reports$", "total_studies_ma", "total_reports_ma"]
REASONS = ["database_specific_results", "register_specific_results", "dbr_excluded", "other_excluded"]
TEXTS_BY_DATA = ["previous_studies", "previous_reports", "register_results", "database_results", "website_results",
                 "organisation_results", "citations_results", "duplicates", "excluded_automatic", "excluded_other",
                 "records_screened", "records_excluded", "dbr_sought_reports", "dbr_notretrieved_reports",
                 "other_sought_reports", "other_notretrieved_reports", "dbr_assessed", "dbr_excluded",
                 "other_assessed", "other_excluded", "new_studies", "new_reports", "total_studies$", "total_reports$",
                 "identification", "screening", "included", "total_studies_ma", "total_reports_ma"]
TEXTS_BY_BOX = {"previous_text": "prevstud", "newstud_text": "newstud", "other_text": "othstud"}


def prisma_data(rows: list[dict]) -> dict:
    """What PRISMA_data returns, as a dict; ``warnings`` lists the rows it fell back to defaults for;
    ``multiple`` the patterns that matched more than one row (R would carry a vector on)."""
    data_col = [r["data"] for r in rows]
    box_col = [r["box"] for r in rows]
    out: dict = {"warnings": [], "multiple": []}

    def pick(pattern, column, field, default):
        idx = grep(pattern, column)
        if len(idx) > 1:
            out["multiple"].append(pattern)
        values = default_or_csv([rows[i][field] for i in idx], [default], pattern, out["warnings"])
        return values[0]

    for name in NUMBERS:
        out[name.rstrip("$")] = format_number(pick(name, data_col, "n", 0))
    for name in REASONS:
        out[name] = parse_reasons(pick(name, data_col, "n", ""))
    for name in TEXTS_BY_DATA:
        out[name.rstrip("$") + "_text"] = pick(name, data_col, "boxtext", None)
    for key, box in TEXTS_BY_BOX.items():
        out[key] = pick(box, box_col, "boxtext", None)
    out["tooltips"] = {(r["box"] if r["data"] is None else r["data"]): r["tooltips"] for r in rows
                       if r["tooltips"] is not None}
    seen, urls = set(), {}
    for r in rows:  # urls <- data[!duplicated(data$box), c(box, url)]
        if r["box"] not in seen:
            seen.add(r["box"])
            urls[r["box"]] = r["url"]
    out["urls"] = urls
    return out


def comma(x) -> str:
    """scales::comma: thousands separated by commas; NA stays NA."""
    return "NA" if x is None else f"{int(x):,}"


def reasons_label(items) -> str:
    """PRISMA_format_reasons_: ':' then, per reason, a new line 'reason (n = N)'."""
    return ":" + "".join(f"\n{r} (n = {comma(n)})" for r, n in items)


def flowdiagram_labels(d: dict, detail_databases=True, detail_registers=True) -> dict:
    """The labels PRISMA_flowdiagram draws in the main boxes (without line wrapping), and which
    arms it draws (previous: not when both previous_* are NA; other: not when websites,
    organisations and citations are all NA)."""
    def cond(text, n, details=""):
        return "" if n is None else f"\n{text} (n = {comma(n)}){details}"

    db = reasons_label(d["database_specific_results"]) if detail_databases else ""
    reg = reasons_label(d["register_specific_results"]) if detail_registers else ""
    labels = {
        "identified": "Records identified from:" + cond(d["database_results_text"], d["database_results"], db)
                      + cond(d["register_results_text"], d["register_results"], reg),
        "removed": "Records removed before screening:\n"
                   + "\n".join(f"{t} (n = {comma(n)})" for t, n in (
                       (d["duplicates_text"], d["duplicates"]), (d["excluded_automatic_text"], d["excluded_automatic"]),
                       (d["excluded_other_text"], d["excluded_other"])) if n is not None),
        "screened": f"{d['records_screened_text']}\n(n = {comma(d['records_screened'])})",
        "excluded": f"{d['records_excluded_text']}\n(n = {comma(d['records_excluded'])})",
        "sought": f"{d['dbr_sought_reports_text']}\n(n = {comma(d['dbr_sought_reports'])})",
        "not_retrieved": f"{d['dbr_notretrieved_reports_text']}\n(n = {comma(d['dbr_notretrieved_reports'])})",
        "assessed": f"{d['dbr_assessed_text']}\n(n = {comma(d['dbr_assessed'])})",
        "reports_excluded": d["dbr_excluded_text"] + reasons_label(d["dbr_excluded"]),
        "included": "".join(x for x in (
            f"{d['new_studies_text']}\n(n = {comma(d['new_studies'])})\n" if d["new_studies"] is not None else "",
            f"{d['new_reports_text']}\n(n = {comma(d['new_reports'])})" if d["new_reports"] is not None else "")),
    }
    previous = not (d["previous_studies"] is None and d["previous_reports"] is None)
    if previous:
        prev = []
        if d["previous_studies"] is not None:
            prev.append(f"{d['previous_studies_text']} (n = {comma(d['previous_studies'])})")
        if d["previous_reports"] is not None:
            prev.append(f"{d['previous_reports_text']}\n(n = {comma(d['previous_reports'])})")
        labels["previous"] = "\n".join(prev)
        labels["total"] = (f"{d['total_studies_text']} (n = {comma(d['total_studies'])})\n"
                           f"{d['total_reports_text']} (n = {comma(d['total_reports'])})")
    labels["_arms"] = {"previous": previous,
                       "other": not all(d[k] is None for k in ("website_results", "organisation_results",
                                                               "citations_results"))}
    return labels
