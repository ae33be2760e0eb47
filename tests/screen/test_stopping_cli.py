"""`python -m reprisma.screen simulate ... --stopping RULE --stop-out FILE` on a real labelled
subset (tests/data/screening), and the title/abstract order the workflow feeds the rules."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reprisma.screen.stopping import StoppingConfig, first_stop, hypergeometric_p, screening_order

DATA = Path(__file__).resolve().parent.parent / "data" / "screening" / "cohen2006_antihistamines_subset.csv"
REPO = Path(__file__).resolve().parents[2]


def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO / "scripts"))
    return subprocess.run([sys.executable, "-m", "reprisma.screen", *map(str, args)],
                          capture_output=True, text=True, env=env)


@pytest.mark.parametrize("rule, extra", [
    ("hypergeometric", ["--target-recall", "0.8", "--confidence", "0.9"]),
    ("consecutive_irrelevant", ["--consecutive", "10"]),
    ("fixed_fraction", ["--fraction", "0.25"]),
    ("random_sample", ["--consecutive", "5"]),
])
def test_stop_out_says_where_the_rule_stopped(tmp_path, rule, extra):
    out, stop = tmp_path / "ranking.csv", tmp_path / "stop.json"
    r = run_cli("simulate", DATA, "--label", "label_included", "--seed", 2, "--out", out,
                "--stopping", rule, *extra, "--stop-out", stop)
    assert r.returncode == 0, r.stderr
    res = json.loads(stop.read_text())
    labels = pd.read_csv(out).sort_values("rank")["label"].astype(int).tolist()
    n, rel = len(labels), sum(labels)
    assert {"rule", "target_recall", "stopped_at", "recall_at_stop"} <= set(res)
    assert res["rule"] == rule and res["n_records"] == n and res["n_relevant"] == rel
    assert 3 <= res["stopped_at"] <= n
    assert res["recall_at_stop"] == pytest.approx(sum(labels[:res["stopped_at"]]) / rel)
    assert res["target_met"] == (sum(labels[:res["stopped_at"]]) >= res["target_recall"] * rel)
    cfg = {"hypergeometric": StoppingConfig(rule, 0.8, 0.9), "consecutive_irrelevant":
           StoppingConfig(rule, consecutive=10), "fixed_fraction": StoppingConfig(rule, fraction=0.25),
           "random_sample": StoppingConfig(rule, consecutive=5, seed=2)}[rule]
    assert res["stopped_at"] == first_stop(labels, cfg, start=3)
    if rule == "random_sample":  # recall counts the records drawn after the switch, not the ranked ones
        from reprisma.screen.stopping import random_sample_stop

        stop, switch, found = random_sample_stop(labels, cfg, start=3)
        assert (res["switched_at"], res["stopped_at"], res["seed"]) == (switch, stop, 2)
        assert res["recall_at_stop"] == pytest.approx(found / rel)
        return
    if rule == "hypergeometric":
        assert res["target_recall"] == 0.8 and res["confidence"] == 0.9
    if rule == "fixed_fraction":
        assert res["stopped_at"] == 20 and res["fraction_screened"] == 0.25
    if rule == "consecutive_irrelevant":
        assert labels[res["stopped_at"] - 10:res["stopped_at"]] == [0] * 10 or not res["met_before_end"]
    assert "simulate: " + rule in r.stderr
    again = tmp_path / "again.json"
    r = run_cli("simulate", DATA, "--label", "label_included", "--seed", 2, "--out", tmp_path / "r2.csv",
                "--stopping", rule, *extra, "--stop-out", again)
    assert again.read_bytes() == stop.read_bytes()  # deterministic


@pytest.mark.parametrize("args, msg", [
    (["--stopping", "hypergeometric"], "--stopping needs --stop-out"),
    (["--stop-out", "x.json"], "--stop-out needs --stopping"),
    (["--stopping", "hypergeometric", "--target-recall", "1.5", "--stop-out", "x.json"], "target recall 1.5"),
])
def test_bad_stopping_options_are_one_line(tmp_path, args, msg):
    r = run_cli("simulate", DATA, "--label", "label_included", "--out", tmp_path / "r.csv", *args)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"error: {r.stderr.strip()[7:]}"] and msg in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "r.csv").exists()


def test_unknown_rule_is_refused_by_argparse(tmp_path):
    r = run_cli("simulate", DATA, "--label", "label_included", "--out", tmp_path / "r.csv", "--stopping", "magic",
                "--stop-out", tmp_path / "s.json")
    assert r.returncode == 2 and "invalid choice: 'magic'" in r.stderr


def frames(rows):
    dec = pd.DataFrame(rows, columns=["record_id", "stage", "date", "decision"])
    final = dec.groupby("record_id", as_index=False).last()[["record_id", "decision"]]
    return dec, final


def test_screening_order_by_date_relevant_last_within_a_day():
    dec, final = frames([
        ("a", "title_abstract", "2026-01-02", "include"), ("b", "title_abstract", "2026-01-01", "exclude"),
        ("c", "title_abstract", "2026-01-01", "include"), ("d", "title_abstract", "2026-01-01", "exclude"),
        ("e", "title_abstract", "2026-01-03", "pending"), ("f", "title_abstract", "2026-01-03", "maybe"),
        ("z", "title_abstract", "2026-01-01", "include"),  # not among the screened ids
    ])
    assert screening_order(dec, final, ["a", "b", "c", "d", "e", "f", "g"]) == [0, 0, 1, 1, 1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1)), min_size=1, max_size=50), st.integers(1, 100),
       st.floats(0.5, 0.99), st.randoms(use_true_random=False))
def test_order_within_a_day_is_the_conservative_one(days_labels, extra, tau, rnd):
    """Within a day the files do not say the order; relevant-last gives the largest p-value of all
    orders consistent with the dates."""
    conservative = [lab for _, lab in sorted(days_labels)]
    shuffled = list(days_labels)
    rnd.shuffle(shuffled)
    other = [lab for _, lab in sorted(shuffled, key=lambda t: t[0])]  # same days, any order within a day
    total = len(days_labels) + extra
    assert hypergeometric_p(conservative, total, tau) >= hypergeometric_p(other, total, tau) - 1e-12
