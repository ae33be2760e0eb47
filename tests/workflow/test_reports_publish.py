"""reports/ changes only when the whole run succeeds: the stages write under results/<id>/reports/
and rule publish copies them over. A run stopped by bad input leaves every committed report file
byte for byte as it was (Snakemake removes a failed job's outputs, so no stage may own one).
Hidden *.tsv files (macOS's ._name.tsv) in the decisions folder are neither tracked nor read."""

from reprisma.protocol import load_protocol
import csv
from pathlib import Path

import pytest
import yaml

from reprisma.screen.stage import decision_files
from reprisma.protocol import validate_config
from tests.workflow.conftest import PROJECT, run_snakemake

pytestmark = pytest.mark.workflow

HEADER = "record_id\tstage\treviewer\tdecision\treason\tdate\n"
APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02\xff\xfe"


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under folder (hidden ones too: a leftover temporary file is a change)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def own(files: dict[str, bytes]) -> dict[str, bytes]:
    """The update protocol's report files (reports/greenway2020/ is the published review's: another run)."""
    return {k: v for k, v in files.items() if not k.startswith("greenway2020/")}


def first_ranked(work: Path) -> str:
    with open(work / "reports" / "to_screen.csv", newline="") as f:
        return next(csv.DictReader(f))["record_id"]


def test_bad_decisions_file_leaves_committed_reports_untouched(example_project):
    work = example_project
    before = tree(work / "reports")
    assert {"to_screen.csv", "screening_conflicts.tsv", "dedup_explanations.tsv", "report.html"} <= set(before)
    (work / "config" / "screening" / "typo.tsv").write_text(
        HEADER + "pubmed:1\ttitle_abstract\tana\tinclude\t\t2026-11-20\n")
    out = run_snakemake(work, check=False, block_sockets=True)
    assert out.returncode != 0
    assert "config/screening/typo.tsv:2: unknown record id 'pubmed:1'" in out.stderr
    assert tree(work / "reports") == before


def test_record_removed_after_its_decisions_leaves_reports_as_last_published(example_project):
    """A run with decisions publishes; then the decided record is listed as removed before
    screening: the run stops naming the decisions file and line, reports/ keeps the last good
    run's files, and undoing the mistake publishes the same files again."""
    work = example_project
    r1 = first_ranked(work)
    (work / "config" / "screening" / "a.tsv").write_text(
        HEADER + f"{r1}\ttitle_abstract\tana\tinclude\t\t2026-11-20\n{r1}\ttitle_abstract\tben\tinclude\t\t2026-11-20\n")
    run_snakemake(work, block_sockets=True)
    # reports/greenway2020/ is the published review's protocol's (another run): not this one's
    published = own(tree(work / "reports"))
    assert published == tree(work / "results" / "greenway2020-update" / "reports")

    removed = work / "config" / "removed_before_screening.tsv"
    removed.write_text(f"record_id\treason\treviewer\tdate\n{r1}\tretracted\tana\t2026-11-25\n")
    out = run_snakemake(work, check=False, block_sockets=True)
    assert out.returncode != 0
    assert f"config/screening/a.tsv:2: record id '{r1}'" in out.stderr
    assert "removed before screening" in out.stderr
    assert own(tree(work / "reports")) == published

    removed.unlink()
    run_snakemake(work, block_sockets=True)
    assert own(tree(work / "reports")) == published


def test_hidden_tsv_files_are_not_decision_files(tmp_path):
    protocol = validate_config(load_protocol(PROJECT / "config" / "config.yaml").config, "config/config.yaml")
    folder = tmp_path / protocol.config["screening"]["decisions_dir"]
    (folder / "sub.tsv").mkdir(parents=True)
    for name in ("b.tsv", "a.tsv", "._a.tsv", ".draft.tsv", "README.md", "a.tsv.bak"):
        (folder / name).write_bytes(b"")
    assert [p.name for p in decision_files(protocol, tmp_path)] == ["a.tsv", "b.tsv"]
    assert decision_files(protocol, tmp_path / "elsewhere") == []


def test_workflow_skips_hidden_decision_files(example_project):
    """macOS's AppleDouble companion of a decisions file: the stage does not read it (it would be an
    encoding error) and Snakemake does not track it (the run after it is up to date)."""
    work = example_project
    decisions = work / "config" / "screening"
    r1 = first_ranked(work)
    (decisions / "ana.tsv").write_text(HEADER + f"{r1}\ttitle_abstract\tana\tinclude\t\t2026-11-20\n")
    (decisions / "._ana.tsv").write_bytes(APPLE_DOUBLE)
    out = run_snakemake(work, block_sockets=True)
    assert "._ana.tsv" not in out.stdout + out.stderr
    (decisions / "._ana.tsv").write_bytes(APPLE_DOUBLE + b"\x00")
    again = run_snakemake(work, block_sockets=True)
    assert "Nothing to be done" in again.stdout + again.stderr
