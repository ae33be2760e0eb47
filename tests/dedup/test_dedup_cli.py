"""python -m reprisma.dedup RECORDS.csv --out GROUPS.csv, as a subprocess on real files."""
import subprocess
import sys
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "data" / "dedup"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "reprisma.dedup", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


def test_cli_writes_benchmark_format(tmp_path):
    out = tmp_path / "groups.csv"
    ex, maybe = tmp_path / "explain.tsv", tmp_path / "maybe.tsv"
    r = run(DATA / "special_cases_sample.csv", "--out", out, "--explain", ex, "--maybe", maybe)
    assert r.returncode == 0, r.stderr
    # Same groups, same format as the benchmark's own ground truth file (byte for byte here).
    assert out.read_bytes() == (DATA / "special_cases_sample_truth.csv").read_bytes()
    table = pd.read_csv(ex, sep="\t", dtype=str)
    assert list(table.columns[:4]) == ["cluster_id", "record_id_a", "record_id_b", "rule"]
    assert len(table) == 3
    assert maybe.exists()


def test_cli_is_byte_identical_across_runs(tmp_path):
    outs = []
    for k in range(2):
        out = tmp_path / f"g{k}.csv"
        ex = tmp_path / f"e{k}.tsv"
        assert run(DATA / "respiratory_sample.csv", "--out", out, "--explain", ex).returncode == 0
        outs.append((out.read_bytes(), ex.read_bytes()))
    assert outs[0] == outs[1]
    lines = outs[0][0].decode().splitlines()
    assert lines[0] == "merged_ids" and all(line.startswith('"') and ";" in line for line in lines[1:])


def test_cli_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("key,title\n1,x\n", encoding="utf-8")
    r = run(bad, "--out", tmp_path / "g.csv")
    assert r.returncode == 2 and str(bad) in r.stderr and "'ID'" in r.stderr
    ov = tmp_path / "ov.tsv"
    ov.write_text("action\trecord_id_a\trecord_id_b\treason\treviewer\nmerge\tid_0000001\tnope\tx\tAB\n", encoding="utf-8")
    r = run(DATA / "special_cases_sample.csv", "--out", tmp_path / "g.csv", "--overrides", ov)
    assert r.returncode == 2 and f"{ov}:2: record_id_b 'nope'" in r.stderr
    assert not (tmp_path / "g.csv").exists()


def test_cli_without_a_rule(tmp_path):
    """--without-rule switches one named rule off (the benchmark's leave-one-dataset-out runs)."""
    out = tmp_path / "g.csv"
    assert run(DATA / "special_cases_sample.csv", "--out", out).returncode == 0
    assert '"id_0000001;id_0000002"' in out.read_text().splitlines()
    # special_cases id_0000001/002: conference papers without pages, matched by title+authors+year only.
    r = run(DATA / "special_cases_sample.csv", "--out", out, "--without-rule", "title+authors+year")
    assert r.returncode == 0, r.stderr
    assert '"id_0000001;id_0000002"' not in out.read_text().splitlines()
    r = run(DATA / "special_cases_sample.csv", "--out", tmp_path / "h.csv", "--without-rule", "nope")
    assert r.returncode == 2 and "unknown rule 'nope'" in r.stderr and not (tmp_path / "h.csv").exists()
