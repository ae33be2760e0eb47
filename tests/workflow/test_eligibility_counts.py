"""Automated eligibility and records removed by reviewers reach the PRISMA ledger and the report.

A small protocol is captured live (Snakemake, mode=live) from the emulators serving real fixture
records (metapub PubMed XML, biomcp ClinicalTrials.gov studies), then replayed offline. Its
eligibility settings exclude records by five rules; every expected count is derived from
results/<id>/eligibility.tsv, never typed in.
"""

import csv
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from reprisma.emulator import CtgovEmulator, EutilsEmulator, load_corpus
from reprisma.protocol import pubmed_query
from tests.workflow.conftest import run_snakemake

pytestmark = pytest.mark.workflow

FIX = Path(__file__).resolve().parents[1] / "fixtures"
PID = "eligtest"
PUBMED_LIMITS = {"date_field": "pdat", "date_from": "2022-01-01", "date_to": "2025-12-31"}
PUBMED_TERM = "depression OR medicine OR burns OR doped"

PROTOCOL = {
    "protocol": {"id": PID, "title": "Automated eligibility on real fixture records"},
    "searches": [
        {"id": "pubmed_fixtures", "source": "pubmed", "term": PUBMED_TERM, "limits": PUBMED_LIMITS,
         "query": pubmed_query(PUBMED_TERM, PUBMED_LIMITS, (PUBMED_LIMITS["date_from"], PUBMED_LIMITS["date_to"]))},
        {"id": "ctgov_fixtures", "source": "ctgov", "intervention": "Osimertinib OR Docetaxel OR Oxytocin"},
    ],
    "eligibility": {
        "languages": ["eng"],
        # the search bounds the publication date; eligibility bounds PubMed's entry date
        "publication_date_field": "entry_date",
        "exclude_publication_types": ["Review"],
        "trial_overall_status": ["COMPLETED", "RECRUITING"],
        "trial_study_types": ["INTERVENTIONAL"],
    },
    "screening": {"mode": "single", "keywords": ["depression"]},
}
REMOVED_HEADER = "record_id\treason\treviewer\tdate\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    work = tmp_path_factory.mktemp("eligibility") / "project"
    (work / "config").mkdir(parents=True)
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(PROTOCOL, sort_keys=False))
    corpus = load_corpus(pubmed_xml=sorted((FIX / "pubmed" / "metapub").glob("pmid_*.xml")),
                         ctgov_json=sorted((FIX / "clinicaltrials" / "biomcp").glob("*.json")))
    with EutilsEmulator(corpus) as eutils, CtgovEmulator(corpus) as ctgov:
        services = (f"services={{eutils: {{base_url: '{eutils.base_url}'}}, "
                    f"ctgov: {{base_url: '{ctgov.base_url}'}}}}")
        run_snakemake(work, "--config", "mode=live", "capture_id=t1", services)
    return work


def eligibility_rows(work):
    with open(work / "results" / PID / "eligibility.tsv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def svg_text(work):
    """The diagram's text, its wrapped lines joined again, no-break spaces as spaces."""
    svg = (work / "reports" / "prisma.svg").read_text()
    return " ".join(re.findall(r"<text[^>]*>(.*?)</text>", svg)).replace("\xa0", " ")


def identification(work):
    return json.loads((work / "reports" / "counts.json").read_text())["prisma"]["identification"]


def test_automation_exclusions_reach_the_ledger_and_the_report(project):
    run_snakemake(project, block_sockets=True)  # replay of the capture, offline
    rows = eligibility_rows(project)
    by_rule = Counter(r["rule"] for r in rows if r["eligible"] == "false")
    assert set(by_rule) == {"language", "publication_date", "publication_type", "trial_status", "study_type"}
    ident = identification(project)
    assert ident["ineligible_by_automation_reasons"] == dict(sorted(by_rule.items()))
    assert ident["ineligible_by_automation"] == sum(by_rule.values())
    assert ident["removed_other_reasons"] == 0 and "removed_other_reasons_by_reason" not in ident
    counts = json.loads((project / "reports" / "counts.json").read_text())
    assert counts["prisma"]["screening"]["records_screened"] == sum(r["eligible"] == "true" for r in rows)
    assert all(i["holds"] for i in counts["invariants"])
    # each exclusion names the date field it bounded
    dated = [r["detail"] for r in rows if r["rule"] == "publication_date"]
    assert dated and all("(entry_date outside 2022-01-01 to 2025-12-31)" in d for d in dated)

    html = (project / "reports" / "report.html").read_text()
    svg = svg_text(project)
    assert f"Records marked as ineligible by automation tools (n = {sum(by_rule.values())})" in svg
    for rule, n in by_rule.items():
        label = rule.replace("_", " ")
        assert f"<tr><td>{label}</td><td class=\"num\">{n}</td></tr>" in html
        assert f"– {label} (n = {n})" in svg
    with open(project / "reports" / "prisma2020.csv", newline="") as f:
        template = {row["data"]: row["n"] for row in csv.DictReader(f)}
    assert template["excluded_automatic"] == str(sum(by_rule.values()))
    assert template["excluded_other"] == "0"


def test_records_removed_by_reviewers_are_counted_apart(project):
    run_snakemake(project, block_sockets=True)
    before = eligibility_rows(project)
    kept = [r["record_id"] for r in before if r["eligible"] == "true"]
    excluded = next(r["record_id"] for r in before if r["rule"] == "language")
    (project / "config" / "removed_before_screening.tsv").write_text(
        REMOVED_HEADER
        + f"{kept[0]}\tretracted after the search\tana\t2026-11-20\n"
        + f"{kept[1]}\tretracted after the search\tana\t2026-11-20\n"
        + f"{kept[2]}\tpublisher notice: duplicate publication\tben\t2026-11-21\n"
        + f"{excluded}\tnot in scope\tben\t2026-11-21\n")  # automation removed it first
    out = run_snakemake(project, block_sockets=True)
    assert "rule eligibility:" in out.stdout + out.stderr  # the file is an input of the stage

    rows = eligibility_rows(project)
    other = Counter(r["detail"] for r in rows if r["rule"] == "removed_other_reasons")
    assert sum(other.values()) == 3
    automation = Counter(r["rule"] for r in rows if r["eligible"] == "false" and r["rule"] != "removed_other_reasons")
    ident = identification(project)
    assert ident["removed_other_reasons"] == sum(other.values())
    assert ident["removed_other_reasons_by_reason"] == dict(sorted(other.items()))
    assert ident["ineligible_by_automation_reasons"] == dict(sorted(automation.items()))
    counts = json.loads((project / "reports" / "counts.json").read_text())
    assert counts["prisma"]["screening"]["records_screened"] == len(kept) - 3
    assert all(i["holds"] for i in counts["invariants"])
    with open(project / "reports" / "to_screen.csv", newline="") as f:
        to_screen = {row["record_id"] for row in csv.DictReader(f)}
    assert to_screen == set(kept[3:])

    svg = svg_text(project)
    html = (project / "reports" / "report.html").read_text()
    assert "Records removed for other reasons (n = 3)" in svg
    for reason, n in other.items():
        assert f"– {reason} (n = {n})" in svg
        assert f"<tr><td>{reason}</td><td class=\"num\">{n}</td></tr>" in html
    with open(project / "reports" / "prisma2020.csv", newline="") as f:
        assert {row["data"]: row["n"] for row in csv.DictReader(f)}["excluded_other"] == "3"

    # verify re-derives the same ledger from the snapshot and the removed-records file
    check = run_snakemake(project, "verify", "--forcerun", "verify", block_sockets=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_bad_removed_file_stops_the_run_with_file_and_line(project, tmp_path):
    work = tmp_path / "bad"
    shutil.copytree(project, work, ignore=shutil.ignore_patterns(".snakemake"))
    kept = next(r["record_id"] for r in eligibility_rows(work) if r["eligible"] == "true")
    (work / "config" / "removed_before_screening.tsv").write_text(
        REMOVED_HEADER + f"{kept}\tretracted\tana\t2026-11-31\npubmed:1\tretracted\tana\t2026-11-20\n")
    out = run_snakemake(work, check=False, block_sockets=True)
    assert out.returncode != 0
    assert "config/removed_before_screening.tsv:2: date '2026-11-31' is not a YYYY-MM-DD date" in out.stderr
    assert ("config/removed_before_screening.tsv:3: unknown record id 'pubmed:1' (not a record of this capture)"
            in out.stderr)
