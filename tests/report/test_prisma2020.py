"""reports/prisma2020.csv as the PRISMA2020 R package / Shiny app reads it: every template row,
short labels, numbers and reasons that survive its parsing, links to the record lists."""

import copy
import csv
import json
from pathlib import Path

import pytest

from reprisma.protocol import ProtocolError, validate_config
from reprisma.report import REPORT_FILES, prisma_template_csv
from tests.report import prisma2020_reader as pkg

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
TEMPLATE = (HERE / "data" / "PRISMA2020_template.csv").read_text(encoding="utf-8")


def _read(counts):
    rows = pkg.read_csv(prisma_template_csv(counts))
    return rows, pkg.prisma_data(rows)


def _check_against_ledger(counts, rows, d):
    """Every number and label the package would draw, against the ledger."""
    p = counts["prisma"]
    ident, scr, inc = p["identification"], p["screening"], p["included"]
    assert d["warnings"] == [] and d["multiple"] == []
    # every template row, in order, with its cells (boxtext, url and n are ours)
    template = pkg.read_csv(TEMPLATE)
    keep = ("data", "node", "box", "description", "tooltips")
    assert [{k: r[k] for k in keep} for r in rows] == [{k: r[k] for k in keep} for r in template]
    assert d["database_results"] == sum(ident["databases"].values())
    assert d["register_results"] == sum(ident["registers"].values())
    assert d["database_specific_results"] == [(k, v) for k, v in ident["databases"].items()]
    assert d["register_specific_results"] == [(k, v) for k, v in ident["registers"].items()]
    assert (d["duplicates"], d["excluded_automatic"], d["excluded_other"]) == (
        ident["duplicates_removed"], ident["ineligible_by_automation"], ident["removed_other_reasons"])
    assert (d["records_screened"], d["records_excluded"], d["dbr_sought_reports"], d["dbr_notretrieved_reports"],
            d["dbr_assessed"]) == (scr["records_screened"], scr["records_excluded"], scr["reports_sought"],
                                   scr["reports_not_retrieved"], scr["reports_assessed"])
    if scr["reports_excluded"]:
        assert d["dbr_excluded"] == [(k, v) for k, v in scr["reports_excluded"].items()]
    else:
        assert d["dbr_excluded"] == [("", 0)]
    assert (d["new_studies"], d["new_reports"]) == (inc["studies"], inc["reports"])
    # no other-methods arm and no meta-analysis: NA, so the package leaves them out
    assert all(d[k] is None for k in ("website_results", "organisation_results", "citations_results",
                                      "other_sought_reports", "other_assessed", "total_studies_ma"))
    labels = pkg.flowdiagram_labels(d)
    assert labels["_arms"] == {"previous": bool(p.get("previous")), "other": False}
    db = "".join(f"\n{k} (n = {v:,})" for k, v in ident["databases"].items())
    reg = "".join(f"\n{k} (n = {v:,})" for k, v in ident["registers"].items())
    assert labels["identified"] == (f"Records identified from:\nDatabases (n = {sum(ident['databases'].values()):,}):{db}"
                                    f"\nRegisters (n = {sum(ident['registers'].values()):,}):{reg}")
    assert labels["removed"] == ("Records removed before screening:\n"
                                 f"Duplicate records (n = {ident['duplicates_removed']:,})\n"
                                 f"Records marked as ineligible by automation tools (n = {ident['ineligible_by_automation']:,})\n"
                                 f"Records removed for other reasons (n = {ident['removed_other_reasons']:,})")
    assert labels["screened"] == f"Records screened\n(n = {scr['records_screened']:,})"
    assert labels["excluded"] == f"Records excluded\n(n = {scr['records_excluded']:,})"
    assert labels["sought"] == f"Reports sought for retrieval\n(n = {scr['reports_sought']:,})"
    assert labels["not_retrieved"] == f"Reports not retrieved\n(n = {scr['reports_not_retrieved']:,})"
    assert labels["assessed"] == f"Reports assessed for eligibility\n(n = {scr['reports_assessed']:,})"
    for text in labels.values():
        if isinstance(text, str):  # no label repeats its box's heading ("Records identified from: Records ...")
            assert text.count("Records identified from:") <= 1 and "Records screened (databases" not in text
    if p.get("previous"):
        prev, new = p["previous"], inc
        total = (p.get("total") or {}).get("studies")
        if total is None and prev["studies"] is not None:
            total = prev["studies"] + new["studies"]
        assert d["previous_studies"] == prev["studies"] and d["total_studies"] == total
        assert labels["included"].startswith(f"New studies included in review\n(n = {inc['studies']:,})")
        assert d["newstud_text"] == "Identification of new studies via databases and registers"
    else:
        assert d["previous_studies"] is None and d["previous_reports"] is None and d["total_studies"] is None
        assert labels["included"] == (f"Studies included in review\n(n = {inc['studies']:,})\n"
                                      f"Reports of included studies\n(n = {inc['reports']:,})")
        assert d["newstud_text"] == "Identification of studies via databases and registers"
    assert (d["identification_text"], d["screening_text"], d["included_text"]) == ("Identification", "Screening",
                                                                                  "Included")
    # each box links to the list of its records (the url of the box's first row), or to the report
    files = set(REPORT_FILES)
    for box, url in d["urls"].items():
        assert url is None or url in files or url.split("#")[0] == "report.html", (box, url)
    assert d["urls"]["box2"] == "records/identified.csv" and d["urls"]["box9"] == "records/excluded_full_text.csv"
    assert d["urls"]["box10"] == "records/included.csv" and d["urls"]["box3"] == "records/duplicates_removed.csv"


def test_update_variant_as_the_package_reads_it(example_run):
    _, _, d = example_run
    rows, data = _read(d["counts"])
    _check_against_ledger(d["counts"], rows, data)
    # the previous review's studies are unknown (the paper reports ~239 publications, i.e. reports):
    # NA, so the package prints only the reports
    assert data["previous_studies"] is None and data["previous_reports"] == 239


def test_new_review_variant_and_reasons(example_run):
    _, _, d = example_run
    counts = copy.deepcopy(d["counts"])
    del counts["prisma"]["previous"]
    scr = counts["prisma"]["screening"]
    scr.update(records_excluded=300, records_pending=200, reports_sought=1200, reports_not_retrieved=7,
               reports_assessed=1193, reports_pending=0,
               reports_excluded={"wrong population": 1038, "not a combined pharmacological and psychotherapeutic "
                                                           "treatment": 2, "(no reason)": 1})
    counts["prisma"]["included"] = {"studies": 140, "reports": 152}
    rows, data = _read(counts)
    _check_against_ledger(counts, rows, data)
    assert pkg.flowdiagram_labels(data)["reports_excluded"] == (
        "Reports excluded:\nwrong population (n = 1,038)\n"
        "not a combined pharmacological and psychotherapeutic treatment (n = 2)\n(no reason) (n = 1)")


def test_updated_review_ledger_keys_are_read(example_run):
    """counts.json's prisma.previous.reports and prisma.total, when the ledger has them."""
    _, _, d = example_run
    counts = copy.deepcopy(d["counts"])
    counts["prisma"]["previous"].update(studies=239, reports=251)
    counts["prisma"]["total"] = {"studies": 241, "reports": 255}
    rows, data = _read(counts)
    _check_against_ledger(counts, rows, data)
    assert (data["previous_reports"], data["total_studies"], data["total_reports"]) == (251, 241, 255)
    assert pkg.flowdiagram_labels(data)["previous"] == (
        "Studies included in previous version of review (n = 239)\n"
        "Reports of studies included in previous version of review\n(n = 251)")


def test_reader_cuts_a_comma_as_the_package_does():
    """The reading the tests rely on: a reason with a comma loses what follows it."""
    assert pkg.parse_reasons("wrong population, adults, 12; wrong design, 3") == [("wrong population", 12.0),
                                                                                 ("wrong design", 3.0)]
    assert pkg.parse_reasons("0") == [("", 0.0)]
    assert pkg.format_number("1,038") == 1038.0 and pkg.format_number(None) is None


def test_protocol_rejects_a_comma_in_an_exclusion_reason():
    from reprisma.protocol import load_protocol

    base = load_protocol(PROJECT / "config" / "config.yaml").config
    bad = copy.deepcopy(base)
    bad["screening"]["exclusion_reasons"] = ["wrong population", "wrong population, adults"]
    with pytest.raises(ProtocolError) as e:
        validate_config(bad, "config/config.yaml")
    msg = str(e.value)
    assert msg.startswith("config/config.yaml: screening.exclusion_reasons[1]: 'wrong population, adults' contains ','")
    assert "PRISMA2020" in msg and "\n" not in msg
    bad["screening"]["exclusion_reasons"] = ["wrong population; adults"]
    with pytest.raises(ProtocolError, match=r"exclusion_reasons\[0\].*contains ';'"):
        validate_config(bad, "config/config.yaml")


def test_committed_reports_agree():
    """The committed reports/prisma2020.csv, read as the package reads it, equals the committed
    ledger; every record list has as many rows as its box."""
    from reprisma.report.record_lists import box_numbers

    counts = json.loads((PROJECT / "reports" / "counts.json").read_text(encoding="utf-8"))
    rows = pkg.read_csv((PROJECT / "reports" / "prisma2020.csv").read_text(encoding="utf-8"))
    _check_against_ledger(counts, rows, pkg.prisma_data(rows))
    for name, n in box_numbers(counts).items():
        with open(PROJECT / "reports" / "records" / f"{name}.csv", newline="", encoding="utf-8") as f:
            assert len(list(csv.DictReader(f))) == n, name
