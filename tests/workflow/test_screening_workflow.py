"""Decisions files drive the PRISMA counts: agreement counts, a conflict is pending until resolved."""

import csv
import json
import shutil

import pytest

from tests.workflow.conftest import PROJECT, run_snakemake

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

    # consensus settles it: excluded
    (decisions / "consensus.tsv").write_text(HEADER + f"{r3}\ttitle_abstract\tconsensus\texclude\twrong intervention\t2026-11-23\n")
    run_snakemake(project, block_sockets=True)
    c = ledger(project)
    s = c["prisma"]["screening"]
    assert (s["records_excluded"], s["records_pending"]) == (2, screened - 3)
    assert c["screening_status"]["conflicts"] == {"total": 1, "unresolved": 0}
    assert all(i["holds"] for i in c["invariants"])


def test_bad_decisions_file_stops_with_file_and_line(project, tmp_path):
    work = tmp_path / "bad"
    shutil.copytree(project, work, ignore=shutil.ignore_patterns("results", "reports", ".snakemake"))
    (work / "config" / "screening" / "typo.tsv").write_text(
        HEADER + "pubmed:1\ttitle_abstract\tana\tinclude\t\t2026-11-20\n"
        + f"{first_ranked(work, 1)[0]}\tfull_text\tana\texclude\tbecause\t2026-11-20\n")
    out = run_snakemake(work, check=False, block_sockets=True)
    assert out.returncode != 0
    err = out.stderr
    assert "typo.tsv:2: unknown record id 'pubmed:1'" in err
    assert "typo.tsv:3: reason 'because' is not in the protocol's list" in err


def test_progress_plot_follows_the_decisions(project):
    """After the first test's three rounds, the report plots screening progress by date."""
    html = (project / "reports" / "report.html").read_text()
    assert 'aria-label="Screening progress"' in html
    assert "— decided (3)" in html and "2026-11-20" in html and "2026-11-23" in html
