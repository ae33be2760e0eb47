"""The protocol's stopping rule in the real workflow: decisions that meet the hypergeometric rule
with ``screening.stopping.apply: true`` give a ledger and a diagram in which the records left
unscreened are counted as excluded by the stopping rule and the numbers add up; one decision fewer
and nothing is stopped, and the stage says what it would take."""

import csv
import json
import shutil

import pytest

from reprisma.screen.stopping import hypergeometric
from tests.workflow.conftest import PROJECT, run_snakemake, stages_in_process
from tests.workflow.test_eligibility_counts import svg_text

pytestmark = pytest.mark.workflow

HEADER = "record_id\tstage\treviewer\tdecision\treason\tdate\n"
STOPPING = """
  stopping:
    rule: hypergeometric
    target_recall: 0.95
    confidence: 0.95
    apply: true
"""


def ranked_ids():
    with open(PROJECT / "reports" / "to_screen.csv", newline="") as f:
        return [row["record_id"] for row in csv.DictReader(f)]


def project_with(tmp_path, name, decisions: str):
    work = tmp_path / name
    work.mkdir()
    for sub in ("config", "snapshots"):
        shutil.copytree(PROJECT / sub, work / sub, ignore=shutil.ignore_patterns("*.tsv") if sub == "config" else None)
    shutil.copy(PROJECT / "config" / "dedup_overrides.tsv", work / "config" / "dedup_overrides.tsv")
    cfg = work / "config" / "config.yaml"
    text = cfg.read_text()
    # the update protocol (it inherits dual screening from config/greenway2020.yaml)
    assert "\nscreening:\n  decisions_dir: config/screening" in text
    text = text.replace("\nscreening:\n  decisions_dir: config/screening",
                        "\nscreening:" + STOPPING + "  mode: single\n  decisions_dir: config/screening", 1)
    cfg.write_text(text)
    (work / "config" / "screening" / "ana.tsv").write_text(HEADER + decisions)
    return work


@pytest.fixture(scope="module")
def plan():
    ids = ranked_ids()
    total = json.loads((PROJECT / "reports" / "counts.json").read_text())["prisma"]["screening"]["records_screened"]
    assert len(ids) == total
    include = ids[:5]
    need = hypergeometric([1] * 5, total).more_needed  # irrelevant records after them that meet the rule
    assert need is not None and 0 < need < total - 5
    return ids, include, need, total


def decisions(include, exclude):
    rows = [f"{r}\ttitle_abstract\tana\tinclude\t\t2026-11-20\n" for r in include]
    rows += [f"{r}\ttitle_abstract\tana\texclude\t\t2026-11-21\n" for r in exclude]
    return "".join(rows)


def test_rule_met_counts_the_unscreened_records_as_stopped(tmp_path, plan):
    ids, include, need, total = plan
    work = project_with(tmp_path, "met", decisions(include, ids[5:5 + need]))
    out = run_snakemake(work, block_sockets=True)
    ledger = json.loads((work / "reports" / "counts.json").read_text())
    scr = ledger["prisma"]["screening"]
    stopped = total - 5 - need
    assert scr["records_screened"] == total
    assert scr["records_excluded"] == need
    assert scr["reports_sought"] == 5
    assert scr["records_stopped"] == stopped and scr["records_pending"] == 0
    assert scr["records_stopped_rule"] == "hypergeometric (target recall 0.95, confidence 0.95)"
    inv = {i["name"]: i for i in ledger["invariants"]}
    adds = inv["screened = excluded + stopped by the stopping rule + pending + sought"]
    assert adds["holds"] and adds["expression"] == f"{total} = {need} + {stopped} + 0 + 5"
    assert all(i["holds"] for i in ledger["invariants"])
    text = svg_text(work)
    assert f"stopping rule hypergeometric (target recall 0.95, confidence 0.95) (n = {stopped})" in text
    assert "stopping rule hypergeometric (target recall 0.95, confidence 0.95): met: p = " in out.stderr
    assert f"{stopped} records left unscreened are counted as excluded by the stopping rule" in out.stderr
    screening = json.loads(next((work / "results").glob("*/screening.json")).read_text())
    assert screening["stopping"]["met"] and screening["stopping"]["estimate"] < 0.05
    with open(work / "reports" / "to_screen.csv", newline="") as f:
        status = [row["screening_status"] for row in csv.DictReader(f)]
    assert status.count("left unscreened: stopping rule hypergeometric met") == stopped


def test_one_decision_short_nothing_is_stopped(tmp_path, plan):
    ids, include, need, total = plan
    work = project_with(tmp_path, "short", decisions(include, ids[5:5 + need - 1]))
    derived = stages_in_process(work)  # the stages in this process; the test above runs the workflow
    ledger = json.loads((work / "reports" / "counts.json").read_text())
    scr = ledger["prisma"]["screening"]
    assert "records_stopped" not in scr
    assert scr["records_pending"] == total - 5 - (need - 1)
    assert all(i["holds"] for i in ledger["invariants"])
    assert "stopping rule" not in svg_text(work)
    sentence = derived["screening"]["stopping"]["sentence"]  # what the screening stage prints
    assert ": not met: p = " in sentence
    assert "it would take 1 more records in ranked order, all irrelevant" in sentence
