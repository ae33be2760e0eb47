#!/usr/bin/env python
"""Deduplication benchmark: reprisma vs bib-dedupe on labelled real datasets, plus a scaling curve.

    python benchmarks/dedup.py                       # every dataset in ../shared/data/dedup-benchmark
    python benchmarks/dedup.py --data DIR            # another folder of <dataset>/records_pre_merged.csv
                                                     #   + <dataset>/merged_record_ids.csv
    python benchmarks/dedup.py --scale 10000 100000  # reprisma on generated corpora (generate_corpus.py)

Both tools run as child processes on the same input file; wall time and peak memory (resident set
of the child and its children, polled with psutil every 20 ms) are measured from outside.
bib-dedupe is installed by this script into its own venv (benchmarks/.envs/bib-dedupe, gitignored)
and run through its normal pipeline — prep, block, match, cluster — as its README shows.
Quality is pairwise: a pair = two records of one group; precision = true pairs found / pairs
predicted, recall = true pairs found / true pairs.
"""
from __future__ import annotations

import argparse
import csv
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import describe  # noqa: E402

REPO = HERE.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "dedup-benchmark"
ENV_DIR = HERE / ".envs" / "bib-dedupe"
WORK = HERE / ".work" / "dedup"
BIB_DEDUPE_VERSION = "0.11.0"

BIB_DEDUPE_RUNNER = '''
import sys
import pandas as pd
from bib_dedupe.bib_dedupe import prep, block, match, cluster

records = pd.read_csv(sys.argv[1])
records = prep(records, verbosity_level=0)
pairs = block(records, verbosity_level=0)
matched = match(pairs, verbosity_level=0)
groups = cluster(matched, verbosity_level=0)
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    fh.write("merged_ids\\n")
    for g in sorted(sorted(str(i) for i in g) for g in groups if len(g) > 1):
        fh.write('"' + ";".join(g) + '"\\n')
'''


def ensure_bib_dedupe() -> Path:
    """Create benchmarks/.envs/bib-dedupe with bib-dedupe==0.11.0 unless it is there; return its python."""
    py = ENV_DIR / "bin" / "python"
    ok = py.exists() and subprocess.run(
        [str(py), "-c", f"import importlib.metadata as m, sys; sys.exit(m.version('bib-dedupe') != '{BIB_DEDUPE_VERSION}')"],
        capture_output=True).returncode == 0
    if not ok:
        print(f"installing bib-dedupe=={BIB_DEDUPE_VERSION} into {ENV_DIR} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(ENV_DIR)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", f"bib-dedupe=={BIB_DEDUPE_VERSION}"], check=True)
    return py


def measure(cmd: list[str], log: Path, timeout: float | None = None) -> tuple[float, float, int]:
    """Run ``cmd``; return (wall seconds, peak RSS in MiB of the process tree, exit code)."""
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONHASHSEED": "0"})
        ps = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(recursive=True))
                peak = max(peak, rss)
            except psutil.Error:
                pass
            if timeout and time.perf_counter() - t0 > timeout:
                proc.kill()
                break
            time.sleep(0.02)
        rc = proc.wait()
    return time.perf_counter() - t0, peak / 2**20, rc


def read_groups(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows or rows[0] != ["merged_ids"]:
        raise ValueError(f"{path}:1: expected header 'merged_ids'")
    return [r[0].split(";") for r in rows[1:] if r and r[0]]


def pairwise(pred: list[list[str]], truth: list[list[str]]) -> dict[str, float]:
    """Pairwise precision/recall/F1 via cluster contingency counts (no pair enumeration)."""
    def labels(groups):
        return {rid: gi for gi, g in enumerate(groups) for rid in g}
    lp, lt = labels(pred), labels(truth)
    c2 = lambda k: k * (k - 1) // 2  # noqa: E731
    pred_pairs = sum(c2(len(g)) for g in pred)
    true_pairs = sum(c2(len(g)) for g in truth)
    both = pd.Series([(lp[r], lt[r]) for r in lp if r in lt], dtype=object)
    tp = int(sum(c2(k) for k in both.value_counts().to_numpy())) if len(both) else 0
    p = tp / pred_pairs if pred_pairs else 1.0
    r = tp / true_pairs if true_pairs else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"pred_pairs": pred_pairs, "true_pairs": true_pairs, "tp": tp, "precision": p, "recall": r, "f1": f}


def run_reprisma(records: Path, out: Path, log: Path, timeout=None):
    cmd = [sys.executable, "-m", "reprisma.dedup", str(records), "--out", str(out)]
    return measure(cmd, log, timeout)


def run_bib_dedupe(py: Path, records: Path, out: Path, log: Path, timeout=None):
    runner = WORK / "run_bib_dedupe.py"
    runner.write_text(BIB_DEDUPE_RUNNER, encoding="utf-8")
    return measure([str(py), str(runner), str(records), str(out)], log, timeout)


def machine() -> str:
    return describe()


def fmt(x: float) -> str:
    return f"{x:.4f}"


def bench_real(data: Path, tools: list[str]) -> str:
    py = ensure_bib_dedupe() if "bib-dedupe" in tools else None
    rows = []
    datasets = sorted(d for d in data.iterdir() if (d / "records_pre_merged.csv").exists())
    for d in datasets:
        records, truth_path = d / "records_pre_merged.csv", d / "merged_record_ids.csv"
        truth = read_groups(truth_path)
        n = sum(1 for _ in open(records, encoding="utf-8")) - 1
        res = {}
        for tool in tools:
            out = WORK / f"{d.name}.{tool}.groups.csv"
            log = WORK / f"{d.name}.{tool}.log"
            if out.exists():
                out.unlink()
            print(f"{d.name}: running {tool} ...", file=sys.stderr, flush=True)
            if tool == "reprisma":
                wall, mem, rc = run_reprisma(records, out, log)
            else:
                wall, mem, rc = run_bib_dedupe(py, records, out, log)
            if rc != 0 or not out.exists():
                print(f"{tool} failed on {d.name} (exit {rc}); see {log}", file=sys.stderr)
                res[tool] = None
                continue
            res[tool] = {**pairwise(read_groups(out), truth), "wall": wall, "mem": mem}
        rows.append((d.name, n, res))
    head = ("| dataset | records | true pairs | tool | precision | recall | F1 | wall s | peak MiB |\n"
            "|---|---:|---:|---|---:|---:|---:|---:|---:|")
    lines = [head]
    for name, n, res in rows:
        for tool in tools:
            r = res.get(tool)
            if r is None:
                lines.append(f"| {name} | {n} | | {tool} | failed | | | | |")
                continue
            lines.append(f"| {name} | {n} | {r['true_pairs']} | {tool} | {fmt(r['precision'])} | {fmt(r['recall'])} | "
                         f"{fmt(r['f1'])} | {r['wall']:.2f} | {r['mem']:.0f} |")
    if len(tools) == 2:
        lines.append("")
        lines.append("| dataset | F1 reprisma − bib-dedupe | speed-up (bib-dedupe s / reprisma s) | memory ratio (bib-dedupe / reprisma) |")
        lines.append("|---|---:|---:|---:|")
        for name, n, res in rows:
            a, b = res.get("reprisma"), res.get("bib-dedupe")
            if a and b:
                lines.append(f"| {name} | {a['f1'] - b['f1']:+.4f} | {b['wall'] / a['wall']:.1f}× | {b['mem'] / a['mem']:.1f}× |")
    return "\n".join(lines)


def bench_scale(sizes: list[int], data: Path, seed: int, timeout: float | None) -> str:
    sys.path.insert(0, str(HERE))
    import generate_corpus  # noqa: E402

    lines = ["| records | true dup pairs | precision | recall | F1 | wall s | peak MiB | s per 1k records |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        folder = WORK / f"scale-{n}"
        records = folder / "records_pre_merged.csv"
        truth_path = folder / "merged_record_ids.csv"
        if not records.exists() or not truth_path.exists():
            print(f"generating {n} records ...", file=sys.stderr, flush=True)
            generate_corpus.generate(data, n, seed, folder)
        out = folder / "reprisma.groups.csv"
        if out.exists():
            out.unlink()
        print(f"scale {n}: running reprisma ...", file=sys.stderr, flush=True)
        wall, mem, rc = run_reprisma(records, out, folder / "reprisma.log", timeout)
        if rc != 0 or not out.exists():
            lines.append(f"| {n} | | failed (exit {rc}, after {wall:.0f} s) | | | | | |")
            continue
        q = pairwise(read_groups(out), read_groups(truth_path))
        lines.append(f"| {n} | {q['true_pairs']} | {fmt(q['precision'])} | {fmt(q['recall'])} | {fmt(q['f1'])} | "
                     f"{wall:.1f} | {mem:.0f} | {wall / n * 1000:.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of labelled datasets")
    ap.add_argument("--tools", nargs="+", default=["reprisma", "bib-dedupe"], choices=["reprisma", "bib-dedupe"])
    ap.add_argument("--scale", nargs="*", type=int, default=None, help="corpus sizes for the scaling curve")
    ap.add_argument("--skip-real", action="store_true", help="only the scaling curve")
    ap.add_argument("--seed", type=int, default=20201, help="generator seed")
    ap.add_argument("--timeout", type=float, default=None, help="seconds before a scale run is killed")
    args = ap.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    if not args.data.is_dir():
        print(f"error: {args.data} is not a folder (use --data)", file=sys.stderr)
        return 2
    print(f"Machine: {machine()}\n")
    if not args.skip_real:
        print(bench_real(args.data, args.tools))
        print()
    if args.scale:
        print(bench_scale(args.scale, args.data, args.seed, args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
