#!/usr/bin/env python
"""Stopping-rule benchmark: where each rule says stop on reprisma's simulated screening order.

For every CSV in the data directory (default ``../shared/data/screening-benchmark`` relative to
the repository) with the label column and every seed, reprisma simulates prioritised screening
once, through its command line, with the hypergeometric rule::

    python -m reprisma.screen simulate DATA --label L --seed S --out RANKING.csv \\
        --stopping hypergeometric --target-recall T --confidence C --stop-out STOP.json

and the other rules are replayed on the same screening order (``RANKING.csv``) in-process with
``reprisma.screen.simulate.stop_result`` (the function the command line calls). Per rule: the
recall actually reached when it said stop, the fraction of records screened, and whether recall
reached the target. ASReview is not run (reprisma's ranker only).

Usage::

    .venv/bin/python benchmarks/stopping.py [--data DIR] [--seeds 1 2 3] [--label label_included]
        [--target-recall 0.95] [--confidence 0.95] [--results-md benchmarks/RESULTS.md] [--json FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from reprisma.screen.simulate import stop_result  # noqa: E402
from reprisma.screen.stopping import StoppingConfig  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe  # noqa: E402


ORACLE = "(reference: fewest records reaching the target in this order)"


def rules(target: float, confidence: float, seed: int = 0) -> list[tuple[str, StoppingConfig]]:
    return [
        (f"hypergeometric (τ={target:g}, conf={confidence:g})", StoppingConfig("hypergeometric", target, confidence)),
        (f"random_sample (switch after 50 irrelevant in a row; τ={target:g}, conf={confidence:g})",
         StoppingConfig("random_sample", target, confidence, consecutive=50, seed=seed)),
        ("consecutive_irrelevant 50", StoppingConfig("consecutive_irrelevant", target, consecutive=50)),
        ("consecutive_irrelevant 100", StoppingConfig("consecutive_irrelevant", target, consecutive=100)),
        ("consecutive_irrelevant 200", StoppingConfig("consecutive_irrelevant", target, consecutive=200)),
        ("fixed_fraction 0.5", StoppingConfig("fixed_fraction", target, fraction=0.5)),
    ]


def run_one(data: Path, label: str, seed: int, work: Path, target: float, confidence: float,
            reuse: bool = False) -> tuple[list[int], dict, float]:
    ranking = work / f"{data.stem}.{label}.seed{seed}.csv"
    stop = work / f"{data.stem}.{label}.seed{seed}.stop.json"
    cmd = [sys.executable, "-m", "reprisma.screen", "simulate", str(data), "--label", label, "--seed", str(seed),
           "--out", str(ranking), "--stopping", "hypergeometric", "--target-recall", str(target),
           "--confidence", str(confidence), "--stop-out", str(stop)]
    env = dict(os.environ, PYTHONPATH=str(REPO / "scripts"))
    t0 = time.monotonic()
    if not (reuse and ranking.exists() and stop.exists()):
        subprocess.run(cmd, check=True, env=env, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    labels = pd.read_csv(ranking).sort_values("rank")["label"].astype(int).tolist()
    return labels, json.loads(stop.read_text()), wall


def markdown(results: list[dict], target: float, confidence: float) -> tuple[str, str]:
    df = pd.DataFrame(results)
    names = list(dict.fromkeys(df["rule"]))
    lines = ["| dataset | N | relevant | rule | recall at stop (mean; min) | fraction screened (mean) | "
             "target met (runs) | stopped before the end (runs) |", "|" + "---|" * 8]
    for name in sorted(df["dataset"].unique()):
        d = df[df.dataset == name]
        for rule in names:
            x = d[d.rule == rule]
            lines.append(
                f"| {name} | {int(x.n_records.iloc[0])} | {int(x.n_relevant.iloc[0])} | {rule} | "
                f"{x.recall_at_stop.mean():.3f}; {x.recall_at_stop.min():.3f} | {x.fraction_screened.mean():.3f} | "
                f"{int(x.target_met.sum())}/{len(x)} | {int(x.met_before_end.sum())}/{len(x)} |")
    lines += ["", "| rule (all datasets and seeds) | runs | target met | recall at stop (mean; min) | "
              "fraction screened (mean) | work saved vs screening all (mean) |", "|" + "---|" * 6]
    for rule in names:
        x = df[df.rule == rule]
        lines.append(f"| {rule} | {len(x)} | {int(x.target_met.sum())}/{len(x)} ({x.target_met.mean():.1%}) | "
                     f"{x.recall_at_stop.mean():.3f}; {x.recall_at_stop.min():.3f} | "
                     f"{x.fraction_screened.mean():.3f} | {1 - x.fraction_screened.mean():.3f} |")
    h = df[df.rule == names[0]]
    verdict = (f"The hypergeometric rule (target recall {target:g}, confidence {confidence:g}) reached the target "
               f"in {int(h.target_met.sum())} of {len(h)} runs ({h.target_met.mean():.1%}; the guarantee asks for at "
               f"least {confidence:.0%}), screening {h.fraction_screened.mean():.1%} of the records on average.")
    rs = df[df.rule == names[1]]
    verdict += (f" The random-sample rule reached it in {int(rs.target_met.sum())} of {len(rs)} runs "
                f"({rs.target_met.mean():.1%}), screening {rs.fraction_screened.mean():.1%} on average.")
    return "\n".join(lines), verdict


def write_section(path: Path, label: str, body: str) -> None:
    """Put ``body`` as the ``### Label `label``` subsection of the ``## Stopping rules`` section
    of RESULTS.md (replacing an earlier one for the same label), after the section's intro."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    head = "## Stopping rules"
    start = text.find(head)
    if start == -1:
        text = text.rstrip() + "\n\n" + INTRO.strip() + "\n"
        start = text.find(head)
    nxt = text.find("\n## ", start + 5)
    end = len(text) if nxt == -1 else nxt + 1
    section = text[start:end]
    if "### Label `" not in section:
        section = INTRO.strip() + "\n"
    sub = f"### Label `{label}`"
    i = section.find(sub)
    if i == -1:
        section = section.rstrip() + "\n\n" + body.strip() + "\n"
    else:
        j = section.find("\n### ", i + len(sub))
        section = section[:i] + body.strip() + "\n" + ("" if j == -1 else section[j:])
    new = text[:start] + section.rstrip() + "\n" + ("\n" + text[end:] if nxt != -1 else "")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(new)
    os.replace(tmp, path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "screening-benchmark"))
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--label", default="label_included")
    p.add_argument("--target-recall", type=float, default=0.95)
    p.add_argument("--confidence", type=float, default=0.95)
    p.add_argument("--datasets", nargs="*", help="file stems to run (default: all *.csv)")
    p.add_argument("--work", default=str(REPO / "benchmarks" / ".work" / "stopping"))
    p.add_argument("--results-md", help="replace the Stopping rules section of this RESULTS.md")
    p.add_argument("--json", help="write every run's result here")
    p.add_argument("--reuse", action="store_true",
                   help="reuse the screening orders an earlier run left in --work (same data, label, seed and "
                   "target) instead of simulating again; the stopping rules are replayed afresh")
    args = p.parse_args(argv)

    files = sorted(Path(args.data).glob("*.csv"))
    if args.datasets:
        files = [f for f in files if f.stem in set(args.datasets)]
    if not files:
        raise SystemExit(f"no CSV files in {args.data}")
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for f in files:
        if args.label not in pd.read_csv(f, nrows=0).columns:
            print(f"{f.stem}: no column {args.label!r}, skipped", file=sys.stderr)
            continue
        for seed in args.seeds:
            labels, from_cli, wall = run_one(f, args.label, seed, work, args.target_recall, args.confidence,
                                             args.reuse)
            for name, cfg in rules(args.target_recall, args.confidence, seed):
                res = stop_result(labels, cfg)
                if cfg.rule == "hypergeometric" and res != from_cli:
                    raise RuntimeError(f"{f.stem} seed {seed}: the command line's --stop-out {from_cli} differs "
                                       f"from the replay {res}")
                results.append({**res, "dataset": f.stem, "seed": seed, "rule": name, "wall_s": wall})
                print(f"{f.stem} seed={seed} {name}: stop at {res['stopped_at']}/{res['n_records']} "
                      f"recall {res['recall_at_stop']:.3f}", file=sys.stderr, flush=True)
            # reference, not a rule: the fewest records screened in this order that reach the target
            need = next(i for i, c in enumerate(itertools.accumulate(labels), start=1)
                        if c >= args.target_recall * sum(labels))
            results.append({**res, "dataset": f.stem, "seed": seed, "rule": ORACLE, "wall_s": wall,
                            "stopped_at": need, "recall_at_stop": sum(labels[:need]) / sum(labels),
                            "fraction_screened": need / len(labels), "met_before_end": need < len(labels),
                            "target_met": True, "confidence": None})
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    table, verdict = markdown(results, args.target_recall, args.confidence)
    print(table)
    print(verdict)
    if args.results_md:
        command = "benchmarks/stopping.py " + " ".join(argv if argv is not None else sys.argv[1:])
        body = SECTION.format(command=command, machine=describe(), seeds=" ".join(map(str, args.seeds)),
                              label=args.label, table=table, verdict=verdict)
        write_section(Path(args.results_md), args.label, body)
    return 0


INTRO = """## Stopping rules (`benchmarks/stopping.py`)

Setup: every dataset of `../shared/data/screening-benchmark` with the label column; for each seed
reprisma's ranker simulates screening from the prior `reprisma.screen.simulate.choose_prior(labels,
seed)` (`python -m reprisma.screen simulate ... --stopping hypergeometric --stop-out ...`), and
every rule is replayed on that one screening order (`reprisma.screen.simulate.stop_result`, the
function behind `--stop-out`), checked after every record from the first after the two prior
records on. "Recall at stop" counts the prior's relevant record; "target met" means recall at
stop >= the target recall. Two rules claim a guarantee (recall >= target with probability >=
confidence): `hypergeometric` (buscar's test on the ranked order: the guarantee rests on the
ranker being better than random) and `random_sample` (the 2020 paper's procedure: ranked
screening until 50 irrelevant records in a row, then a uniform random sample of the rest, seeded
with the run's seed, tested after every draw: exact for a random sample). The heuristics are
there for comparison, and the reference row
is no rule at all (it needs the labels of the unscreened records): the fewest records that reach
the target in that screening order, i.e. the cost of certainty is the hypergeometric row minus
it. ASReview is not run here.
"""

SECTION = """### Label `{label}`

Command (from the repository root):

    .venv/bin/python {command}

Machine: {machine}. Seeds: {seeds}.

{table}

{verdict}
"""


if __name__ == "__main__":
    sys.exit(main())
