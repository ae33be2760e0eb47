#!/usr/bin/env python
"""Deduplication benchmark: reprisma vs bib-dedupe on labelled real datasets, plus a scaling curve.

    python benchmarks/dedup.py                       # every dataset in ../shared/data/dedup-benchmark
    python benchmarks/dedup.py --data DIR            # another folder of <dataset>/records_pre_merged.csv
                                                     #   + <dataset>/merged_record_ids.csv
    python benchmarks/dedup.py --scale 10000 100000  # reprisma on generated corpora (generate_corpus.py)
    python benchmarks/dedup.py --no-loo              # skip the leave-one-dataset-out analysis

Leave-one-dataset-out (an evaluation that cannot flatter itself): every rule except the PMID, PMCID,
NCT and DOI ones is switched off in turn on every dataset (in-process, ``deduplicate(...,
disabled_rules=...)``); a rule is *justified by* a dataset when switching it off there loses true
pairs and no false ones. Scoring dataset D, only the rules justified by another dataset (and harming
none) stay on. Vetoes and thresholds are not refitted (they are hand-set; the table says so).
Every labelled pair reprisma leaves apart is listed with the reason from its maybe table.

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


def run_reprisma(records: Path, out: Path, log: Path, timeout=None, maybe: Path | None = None):
    cmd = [sys.executable, "-m", "reprisma.dedup", str(records), "--out", str(out)]
    if maybe is not None:
        cmd += ["--maybe", str(maybe)]
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
                wall, mem, rc = run_reprisma(records, out, log, maybe=WORK / f"{d.name}.reprisma.maybe.tsv")
            else:
                wall, mem, rc = run_bib_dedupe(py, records, out, log)
            if rc != 0 or not out.exists():
                print(f"{tool} failed on {d.name} (exit {rc}); see {log}", file=sys.stderr)
                res[tool] = None
                continue
            res[tool] = {**pairwise(read_groups(out), truth), "wall": wall, "mem": mem}
        rows.append((d.name, n, res))
        RUNS[d.name] = res
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


RUNS: dict[str, dict] = {}
ALWAYS_ON = {"pmid", "pmcid", "nct_registration", "doi"}  # identifiers: not fitted to any dataset


def pair_set(groups: list[list[str]]) -> set[tuple[str, str]]:
    return {p for g in groups for p in itertools.combinations(sorted(g), 2)}


def _score(pred: set, truth: set) -> dict[str, float]:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth) if truth else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "fp": len(pred - truth)}


def bench_loo(data: Path) -> str:
    """Rule contributions per dataset, leave-one-dataset-out scores and the generalisation table."""
    from reprisma.dedup import deduplicate
    from reprisma.dedup.rules import RULES

    datasets = sorted(d for d in data.iterdir() if (d / "records_pre_merged.csv").exists())
    frames = {d.name: pd.read_csv(d / "records_pre_merged.csv", dtype=str, keep_default_na=False) for d in datasets}
    truth = {d.name: pair_set(read_groups(d / "merged_record_ids.csv")) for d in datasets}
    names = list(frames)
    tested = [r.name for r in RULES if r.name not in ALWAYS_ON]
    full = {n: pair_set(deduplicate(frames[n]).groups()) for n in names}
    gain: dict[tuple[str, str], tuple[int, int]] = {}
    for rule in tested:
        print(f"leave-one-out: without {rule} ...", file=sys.stderr, flush=True)
        for n in names:
            without = pair_set(deduplicate(frames[n], disabled_rules=[rule]).groups())
            gain[rule, n] = (len((full[n] - without) & truth[n]), len((full[n] - without) - truth[n]))
    justified = {(r, n): gain[r, n][0] > 0 and gain[r, n][1] == 0 for r in tested for n in names}
    harms = {(r, n): gain[r, n][1] > 0 for r in tested for n in names}

    lines = ["Rule contributions: true / false labelled pairs lost when the rule alone is switched off",
             "(rules that fire on no dataset's pairs show 0 / 0).", "",
             "| rule | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for r in tested:
        lines.append(f"| `{r}` | " + " | ".join(f"{gain[r, n][0]} / {gain[r, n][1]}" for n in names) + " |")
    lines += ["", "Leave-one-dataset-out: scoring D with only the rules some other dataset justifies "
              "(PMID/PMCID/NCT/DOI always on; vetoes and thresholds as shipped, not refitted).", "",
              "| dataset | rules off (justified by D alone or by none) | precision | recall | F1 | F1 all rules | "
              "F1 bib-dedupe | LOO F1 − bib-dedupe |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for n in names:
        off = [r for r in tested if not any(justified[r, m] for m in names if m != n)
               or any(harms[r, m] for m in names if m != n)]
        loo = _score(pair_set(deduplicate(frames[n], disabled_rules=off).groups()), truth[n])
        allr = _score(full[n], truth[n])
        bib = (RUNS.get(n) or {}).get("bib-dedupe")
        bib_f1 = f"{bib['f1']:.4f}" if bib else "n/a"
        diff = f"{loo['f1'] - bib['f1']:+.4f}" if bib else "n/a"
        lines.append(f"| {n} | {', '.join(f'`{r}`' for r in off) or '—'} | {fmt(loo['precision'])} | "
                     f"{fmt(loo['recall'])} | {fmt(loo['f1'])} | {fmt(allr['f1'])} | {bib_f1} | {diff} |")
    return "\n".join(lines)


def missed_pairs(data: Path, name: str) -> str:
    """Every labelled pair reprisma leaves apart on ``name``, with the reason from its maybe table."""
    d = data / name
    truth = pair_set(read_groups(d / "merged_record_ids.csv"))
    pred = pair_set(read_groups(WORK / f"{name}.reprisma.groups.csv"))
    maybe_path = WORK / f"{name}.reprisma.maybe.tsv"
    why = {}
    if maybe_path.exists():
        mb = pd.read_csv(maybe_path, sep="\t", dtype=str, keep_default_na=False)
        why = {(a, b): w for a, b, w in zip(mb["record_id_a"], mb["record_id_b"], mb["why"])}
    rec = pd.read_csv(d / "records_pre_merged.csv", dtype=str, keep_default_na=False).set_index("ID")
    classes = [(("kind ",), "by design: a notice, reply, comment or abstract vs an article"),
               (("contrast ",), "by design: titles that name different works (numbers, phases, ...)"),
               (("generic title",), "by design: a generic title at different places"),
               (("different first page", "different volume", "years differ", "different doi", "union refused"),
                "by design: the records' locators disagree"),
               (("scores below", "not listed"), "not by design: no rule reaches it (a miss)")]
    lines = [f"| {name}: labelled pair left apart | why (maybe table) | class | titles |", "|---|---|---|---|"]
    counts: dict[str, int] = {}
    for a, b in sorted(truth - pred):
        w = why.get((a, b), "not listed: titles or fields too far apart for any rule")
        cls = next((c for prefixes, c in classes if w.startswith(prefixes)), "other")
        counts[cls] = counts.get(cls, 0) + 1
        t = " / ".join(str(rec.loc[i, "title"])[:60].replace("|", "/") for i in (a, b))
        lines.append(f"| {a} {b} | {w.replace('|', '/')} | {cls} | {t} |")
    lines.append(f"\n{len(truth - pred)} labelled pairs left apart: "
                 + "; ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ".")
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
    ap.add_argument("--no-loo", action="store_true", help="skip the leave-one-dataset-out analysis")
    ap.add_argument("--missed", nargs="*", default=["haematology"],
                    help="datasets whose labelled pairs left apart are listed (default: haematology)")
    args = ap.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    if not args.data.is_dir():
        print(f"error: {args.data} is not a folder (use --data)", file=sys.stderr)
        return 2
    print(f"Machine: {machine()}\n")
    if not args.skip_real:
        print(bench_real(args.data, args.tools))
        print()
        if "reprisma" in args.tools:
            for name in args.missed:
                if (WORK / f"{name}.reprisma.groups.csv").exists():
                    print(missed_pairs(args.data, name))
                    print()
        if not args.no_loo:
            print(bench_loo(args.data))
            print()
    if args.scale:
        print(bench_scale(args.scale, args.data, args.seed, args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
