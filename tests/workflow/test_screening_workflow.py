"""Decisions files drive the PRISMA counts: agreement counts, a conflict is pending until resolved."""

import csv
import json
import shutil

import pytest

from reprisma.screen.decisions import DecisionFileError
from tests.workflow.conftest import PROJECT, run_snakemake, stages_in_process
from tests.workflow.test_eligibility_counts import svg_text

pytestmark = pytest.mark.workflow

HEADER = "record_id\tstage\treviewer\tdecision\treason\tdate\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    work = tmp_path_factory.mktemp("screening") / "example"
    work.mkdir()
    for name in ("config", "snapshots"):
        shutil.copytree(PROJECT / name, work / name)
    return work


def ledger(work):
    return json.loads((work / "reports" / "counts.json").read_text())


def tsv(*rows):
    """Decision file lines from field tuples."""
    return "".join("\t".join(row) + "\n" for row in rows)


def both_include_at_title_abstract(*records, note=False):
    """Rows: ana and ben include each record at title/abstract (2026-11-20)."""
    return [(r, "title_abstract", who, "include", "", "2026-11-20") + (("",) if note else ())
            for r in records for who in ("ana", "ben")]


def first_ranked(work, n):
    with open(PROJECT / "reports" / "to_screen.csv", newline="") as f:
        return [row["record_id"] for _, row in zip(range(n), csv.DictReader(f))]


def test_decisions_conflict_and_resolution(project):
    r1, r2, r3 = first_ranked(project, 3)
    decisions = project / "config" / "screening"
    (decisions / "reviewer_a.tsv").write_text(HEADER + "".join([
        f"{r1}\ttitle_abstract\tana\tinclude\t\t2026-11-20\n",
        f"{r2}\ttitle_abstract\tana\texclude\twrong population\t2026-11-20\n",
        f"{r3}\ttitle_abstract\tana\tinclude\t\t2026-11-20\n",
        f"{r1}\tfull_text\tana\tinclude\t\t2026-11-21\n",
    ]))
    (decisions / "reviewer_b.tsv").write_text(HEADER + "".join([
        f"{r1}\ttitle_abstract\tben\tinclude\t\t2026-11-20\n",
        f"{r2}\ttitle_abstract\tben\texclude\twrong population\t2026-11-20\n",
        f"{r1}\tfull_text\tben\tinclude\t\t2026-11-21\n",
    ]))
    run_snakemake(project, block_sockets=True)
    c = ledger(project)
    s = c["prisma"]["screening"]
    screened = s["records_screened"]
    # r1 and r2 decided by both, r3 by one reviewer only (dual screening): pending
    assert (s["records_excluded"], s["reports_sought"], s["records_pending"]) == (1, 1, screened - 2)
    with open(project / "reports" / "to_screen.csv", newline="") as f:
        status = {r["record_id"]: r["screening_status"] for r in csv.DictReader(f)}
    assert status[r3] == "decided by ana; awaiting a second reviewer"
    assert c["prisma"]["included"] == {"studies": 1, "reports": 1}
    assert c["screening_status"]["conflicts"] == {"total": 0, "unresolved": 0}
    kappa = c["screening_status"]["kappa"]
    assert [(k["stage"], k["reviewer_a"], k["reviewer_b"], k["n"]) for k in kappa] == [
        ("title_abstract", "ana", "ben", 2), ("full_text", "ana", "ben", 1)]

    # ben disagrees on r3: a conflict, still pending
    with open(decisions / "reviewer_b.tsv", "a") as f:
        f.write(f"{r3}\ttitle_abstract\tben\texclude\twrong intervention\t2026-11-22\n")
    run_snakemake(project, block_sockets=True)
    c = ledger(project)
    assert c["prisma"]["screening"]["records_pending"] == screened - 2
    assert c["screening_status"]["conflicts"] == {"total": 1, "unresolved": 1}
    conflicts = (project / "reports" / "screening_conflicts.tsv").read_text()
    assert r3 in conflicts and "ana=include;ben=exclude" in conflicts
    assert "1 unresolved" in (project / "reports" / "report.html").read_text()
    with open(project / "reports" / "to_screen.csv", newline="") as f:
        status = {r["record_id"]: r["screening_status"] for r in csv.DictReader(f)}
    assert status[r3] == "conflict: ana=include;ben=exclude"  # still to screen, and why
    assert r1 not in status and r2 not in status
    assert set(status.values()) == {"", "conflict: ana=include;ben=exclude"}

    # consensus settles it: excluded
    (decisions / "consensus.tsv").write_text(HEADER + f"{r3}\ttitle_abstract\tconsensus\texclude\twrong intervention\t2026-11-23\n")
    run_snakemake(project, block_sockets=True)
    c = ledger(project)
    s = c["prisma"]["screening"]
    assert (s["records_excluded"], s["records_pending"]) == (2, screened - 3)
    assert c["screening_status"]["conflicts"] == {"total": 1, "unresolved": 0}
    assert all(i["holds"] for i in c["invariants"])
    # after the three rounds, the report plots screening progress by date
    html = (project / "reports" / "report.html").read_text()
    assert 'aria-label="Screening progress"' in html
    assert "— decided (3)" in html and "2026-11-20" in html and "2026-11-23" in html


def test_bad_decisions_file_stops_with_file_and_line(project, tmp_path):
    work = tmp_path / "bad"
    shutil.copytree(project, work, ignore=shutil.ignore_patterns("results", "reports", ".snakemake"))
    (work / "config" / "screening" / "typo.tsv").write_text(
        HEADER + "pubmed:1\ttitle_abstract\tana\tinclude\t\t2026-11-20\n"
        + f"{first_ranked(work, 1)[0]}\tfull_text\tana\texclude\tbecause\t2026-11-20\n"
        # the fourth-ranked record has no title/abstract row (the first test decided the first three)
        + f"{first_ranked(work, 4)[3]}\tfull_text\tana\tinclude\t\t2026-11-20\n")
    out = run_snakemake(work, check=False, block_sockets=True)
    assert out.returncode != 0
    err = out.stderr
    assert "typo.tsv:2: unknown record id 'pubmed:1'" in err
    assert "typo.tsv:3: reason 'because' is not in the protocol's list" in err
    assert (f"typo.tsv:4: full-text decision for record '{first_ranked(work, 4)[3]}', which has no "
            "title/abstract decision") in err
    assert "CountsError" not in err


def fresh_copy(project, tmp_path, name):
    work = tmp_path / name
    shutil.copytree(project, work, ignore=shutil.ignore_patterns("results", "reports", ".snakemake", "*.tsv"))
    return work


def test_full_text_waits_for_title_abstract(project, tmp_path):
    """Full-text rows for a record still pending at title/abstract (dual screening, one reviewer
    so far) are kept and held: the counts add up, and they count once title/abstract resolves."""
    work = fresh_copy(project, tmp_path, "held")
    (r1,) = first_ranked(work, 1)
    decisions = work / "config" / "screening" / "a.tsv"
    decisions.write_text(HEADER + f"{r1}\ttitle_abstract\tana\tinclude\t\t2026-11-20\n"
                         f"{r1}\tfull_text\tana\tinclude\t\t2026-11-21\n"
                         f"{r1}\tfull_text\tben\tinclude\t\t2026-11-21\n")
    derived = stages_in_process(work)
    c = ledger(work)
    s = c["prisma"]["screening"]
    assert (s["records_pending"], s["reports_sought"], s["reports_assessed"]) == (s["records_screened"], 0, 0)
    assert c["prisma"]["included"] == {"studies": 0, "reports": 0}
    assert all(i["holds"] for i in c["invariants"])
    assert derived["screening"]["reports_held"] == 1
    assert "1 record with full-text decisions still pending at title/abstract" in (work / "reports" / "report.html").read_text()

    with open(decisions, "a") as f:
        f.write(f"{r1}\ttitle_abstract\tben\tinclude\t\t2026-11-20\n")
    stages_in_process(work)
    c = ledger(work)
    s = c["prisma"]["screening"]
    assert (s["records_pending"], s["reports_sought"], s["reports_pending"]) == (s["records_screened"] - 1, 1, 0)
    assert c["prisma"]["included"] == {"studies": 1, "reports": 1}


def test_report_not_retrieved(project, tmp_path):
    """Both reviewers record that r1's full text could not be obtained: PRISMA's "Reports not
    retrieved" box counts it (derived, not typed in), it is neither assessed nor excluded, and the
    ledger adds up."""
    work = fresh_copy(project, tmp_path, "not_retrieved")
    r1, r2, r3 = first_ranked(work, 3)
    rows = both_include_at_title_abstract(r1, r2, r3, note=True) + [
        (r1, "full_text", "ana", "not_retrieved", "", "2026-11-21", "asked the authors twice"),
        (r1, "full_text", "ben", "not_retrieved", "", "2026-11-22", "not in any library we can reach"),
        *[(r2, "full_text", who, "include", "", "2026-11-21", "") for who in ("ana", "ben")],
        *[(r3, "full_text", who, "exclude", "wrong population", "2026-11-21", "") for who in ("ana", "ben")]]
    (work / "config" / "screening" / "a.tsv").write_text(HEADER.replace("date\n", "date\tnote\n") + tsv(*rows))
    stages_in_process(work)
    c = ledger(work)
    s = c["prisma"]["screening"]
    assert (s["reports_sought"], s["reports_not_retrieved"], s["reports_assessed"]) == (3, 1, 2)
    assert (s["reports_excluded"], s["reports_pending"]) == ({"wrong population": 1}, 0)
    assert c["prisma"]["included"] == {"studies": 1, "reports": 1}
    holds = {i["name"]: i["holds"] for i in c["invariants"]}
    assert holds["sought - not retrieved = assessed"] and holds["assessed = excluded + pending + included reports"]
    assert all(holds.values())
    svg = svg_text(work)
    assert "Reports not retrieved (n = 1)" in svg and "Reports assessed for eligibility (n = 2)" in svg
    assert "1 report could not be retrieved" in (work / "reports" / "report.html").read_text()
    with open(work / "reports" / "prisma2020.csv", newline="") as f:
        assert {r["data"]: r["n"] for r in csv.DictReader(f)}.get("dbr_notretrieved_reports") == "1"


def test_decisions_by_cluster_member(project, tmp_path):
    """Two records merged into one cluster: a row on either id counts for the cluster's
    representative; two rows by one reviewer via different ids are a duplicate. (The example's
    records hold no language, date or type, so automation excludes none of them: the message for
    a record excluded by automation is tested in tests/screen/test_decisions.py.)"""
    work = fresh_copy(project, tmp_path, "clusters")
    r1, r2 = first_ranked(work, 2)
    (work / "config" / "dedup_overrides.tsv").write_text(
        "action\trecord_id_a\trecord_id_b\treason\treviewer\n"
        f"merge\t{r1}\t{r2}\tsame trial report (test)\tana\n")
    decisions = work / "config" / "screening" / "a.tsv"
    decisions.write_text(HEADER + f"{r1}\ttitle_abstract\tana\tinclude\t\t2026-11-20\n"
                         f"{r2}\ttitle_abstract\tben\tinclude\t\t2026-11-20\n")
    derived = stages_in_process(work)
    c = ledger(work)
    s = c["prisma"]["screening"]
    assert (s["reports_sought"], s["records_pending"]) == (1, s["records_screened"] - 1)
    rep = next(r["record_id"] for r in derived["clusters"] if r["record_id"] in (r1, r2) and r["representative"])

    with open(decisions, "a") as f:
        f.write(f"{r2 if rep == r1 else r1}\ttitle_abstract\tana\texclude\t\t2026-11-22\n")
    with pytest.raises(DecisionFileError) as err:
        stages_in_process(work)
    assert f"a.tsv:4: duplicate decision for record '{rep}'" in str(err.value) and "(first at " in str(err.value)


def test_full_text_exclusions_with_different_reasons(project, tmp_path):
    """Ana excludes r1 at full text for 'wrong population', Ben for 'wrong study design': a
    conflict (never a joined reason in counts.json, prisma.svg or prisma2020.csv), pending until
    a consensus row names one reason. A resolved conflict next to an unresolved one leaves the
    unresolved one's resolution empty in reports/screening_conflicts.tsv, not 'nan'."""
    work = fresh_copy(project, tmp_path, "reasons")
    r1, r2, r3 = first_ranked(work, 3)
    rows = tsv(*both_include_at_title_abstract(r1, r2, r3),
               (r1, "full_text", "ana", "exclude", "wrong population", "2026-11-21"),
               (r1, "full_text", "ben", "exclude", "wrong study design", "2026-11-21"),
               *[(r2, "full_text", who, "exclude", "wrong population", "2026-11-21") for who in ("ana", "ben")],
               (r3, "full_text", "ana", "include", "", "2026-11-21"),
               (r3, "full_text", "ben", "exclude", "wrong intervention", "2026-11-21"),
               (r3, "full_text", "consensus", "include", "", "2026-11-22"))
    decisions = work / "config" / "screening" / "a.tsv"
    decisions.write_text(HEADER + rows)
    derived = stages_in_process(work)
    c = ledger(work)
    s = c["prisma"]["screening"]
    assert (s["reports_assessed"], s["reports_excluded"], s["reports_pending"]) == (3, {"wrong population": 1}, 1)
    assert c["prisma"]["included"]["reports"] == 1 and all(i["holds"] for i in c["invariants"])
    assert c["screening_status"]["conflicts"] == {"total": 2, "unresolved": 1}
    # kappa: agreement on the decision, whatever the reasons (r1 and r2 agree, r3 does not)
    ft = next(k for k in c["screening_status"]["kappa"] if k["stage"] == "full_text")
    assert (ft["n"], ft["agreement"]) == (3, 2 / 3)
    assert derived["screening"]["pending"]["full_text"] == {"conflict": 1, "awaiting_second_reviewer": 0,
                                                 "maybe_at_full_text": 0, "not_screened": 0}
    svg = svg_text(work)
    assert "wrong population (n = 1)" in svg and ";" not in svg
    with open(work / "reports" / "prisma2020.csv", newline="") as f:
        assert {r["data"]: r["n"] for r in csv.DictReader(f)}["dbr_excluded"] == "wrong population, 1"
    with open(work / "reports" / "screening_conflicts.tsv", newline="") as f:
        table = {r["record_id"]: r for r in csv.DictReader(f, delimiter="\t")}
    assert table[r1]["reviewer_decisions"] == "ana=exclude (wrong population);ben=exclude (wrong study design)"
    assert (table[r1]["resolved"], table[r1]["resolution"]) == ("false", "")
    assert (table[r3]["resolved"], table[r3]["resolution"]) == ("true", "include")
    assert "nan" not in (work / "reports" / "screening_conflicts.tsv").read_text()
    html = (work / "reports" / "report.html").read_text()
    assert "1 a full-text decision (1 in conflict)" in html
    assert "ana: exclude (wrong population)" in html and "ben: exclude (wrong study design)" in html

    with open(decisions, "a") as f:
        f.write(f"{r1}\tfull_text\tconsensus\texclude\twrong study design\t2026-11-23\n")
    stages_in_process(work)
    c = ledger(work)
    s = c["prisma"]["screening"]
    assert (s["reports_excluded"], s["reports_pending"]) == ({"wrong population": 1, "wrong study design": 1}, 0)
    assert c["screening_status"]["conflicts"] == {"total": 2, "unresolved": 0}
    svg = svg_text(work)
    assert "wrong population (n = 1)" in svg and "wrong study design (n = 1)" in svg and ";" not in svg
    with open(work / "reports" / "prisma2020.csv", newline="") as f:
        assert ({r["data"]: r["n"] for r in csv.DictReader(f)}["dbr_excluded"]
                == "wrong population, 1; wrong study design, 1")
