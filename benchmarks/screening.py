#!/usr/bin/env python
"""Screening-prioritisation benchmark: reprisma's ranking vs ASReview LAB's simulation.

For every CSV in the data directory (default ``../shared/data/screening-benchmark`` relative to
the repository) and every seed, both tools simulate screening from the same prior (one relevant
and one irrelevant record, chosen by ``reprisma.screen.simulate.choose_prior(labels, seed)``):

* reprisma: ``python -m reprisma.screen simulate DATA --label L --seed S --out RANKING.csv``;
* ASReview LAB 3.0.8 (default model ELAS u4, installed by this script into
  ``benchmarks/.envs/asreview``): ``asreview simulate PREPARED.csv --prior-idx I J --seed S
  -o RUN.asreview`` on a copy of the data holding only ``title``, ``abstract`` and ``included``
  (= the chosen label column, so ASReview cannot pick another label column), rows in the same
  order (ASReview's record ids are the 0-based row numbers); the screening order is read from the
  project's ``results.db``. ASReview stops when the last relevant record is found; the records it
  never labelled are appended as irrelevant (ASReview Insights pads the same way).

Metrics (``reprisma.screen.metrics``, ASReview Insights' definitions, priors left out): WSS@95,
recall after 10/20/50 % screened, RRF@10, plus wall time of each tool's command (process start
to exit, feature extraction included).

Usage::

    .venv/bin/python benchmarks/screening.py [--data DIR] [--seeds 1 2 3] [--label label_included]
        [--datasets NAME ...] [--results-md benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from reprisma.screen.metrics import screening_metrics  # noqa: E402
from reprisma.screen.simulate import choose_prior, read_labelled  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe  # noqa: E402

ASREVIEW_VERSION = "3.0.8"
ENV = REPO / "benchmarks" / ".envs" / "asreview"
METRICS = ["wss@95", "recall@10", "recall@20", "recall@50", "rrf@10"]


def ensure_asreview() -> Path:
    exe = ENV / "bin" / "asreview"
    if exe.exists():
        out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, cwd=ENV)
        if ASREVIEW_VERSION in out.stdout:
            return exe
    print(f"installing asreview=={ASREVIEW_VERSION} into {ENV}", file=sys.stderr)
    ENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(ENV)], check=True)
    subprocess.run(
        [str(ENV / "bin" / "pip"), "install", "-q", f"asreview=={ASREVIEW_VERSION}"], check=True
    )
    return exe


def run_reprisma(data: Path, label: str, seed: int, out: Path) -> tuple[list[int], float]:
    cmd = [
        sys.executable, "-m", "reprisma.screen", "simulate", str(data),
        "--label", label, "--seed", str(seed), "--out", str(out),
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO / "scripts"))
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, env=env, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    df = pd.read_csv(out).sort_values("rank")
    return df["label"].astype(int).tolist(), wall


def run_asreview(
    exe: Path, data: Path, label: str, prior: tuple[int, int], seed: int, work: Path
) -> tuple[list[int], float]:
    df = pd.read_csv(data, dtype=str, keep_default_na=False)
    prepared = work / f"{data.stem}.{label}.asreview-input.csv"
    if not prepared.exists():
        pd.DataFrame(
            {"title": df["title"], "abstract": df.get("abstract", ""), "included": df[label]}
        ).to_csv(prepared, index=False)
    project = work / f"{data.stem}.{label}.seed{seed}.asreview"
    if project.exists():
        project.unlink()
    cmd = [
        str(exe), "simulate", str(prepared), "--prior-idx", str(prior[0]), str(prior[1]),
        "--seed", str(seed), "-o", str(project),
    ]
    t0 = time.monotonic()
    # cwd=work: ASReview's dataset helper drops a synergy_cache.sqlite in the working directory
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    wall = time.monotonic() - t0
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(project) as z:
            z.extract("results.db", tmp)
        con = sqlite3.connect(Path(tmp) / "results.db")
        row_of = dict(con.execute("SELECT record_id, dataset_row FROM record").fetchall())
        results = con.execute("SELECT record_id, label FROM results ORDER BY rowid").fetchall()
        con.close()
    rows = [row_of[r] for r, _ in results]
    if rows[:2] != list(prior) and set(rows[:2]) != set(prior):
        raise RuntimeError(f"ASReview did not start from the prior {prior}: {rows[:2]}")
    y = read_labelled(data, label).labels
    seen = set(rows)
    order = rows + [i for i in range(len(y)) if i not in seen]
    return [int(y[i]) for i in order], wall


def machine() -> str:
    return describe()


def markdown(results: list[dict], label: str, seeds: list[int], command: str) -> str:
    df = pd.DataFrame(results)
    lines = []
    agg = df.groupby(["dataset", "tool"])[METRICS + ["wall_s"]].mean().reset_index()
    head = "| dataset | N | relevant | tool | WSS@95 | recall@10% | recall@20% | recall@50% | RRF@10 | wall s |"
    lines += [head, "|" + "---|" * 10]
    wins = 0
    datasets = sorted(df["dataset"].unique())
    for name in datasets:
        n = int(df[df.dataset == name]["n"].iloc[0])
        r = int(df[df.dataset == name]["n_relevant"].iloc[0])
        for tool in ("reprisma", "asreview"):
            a = agg[(agg.dataset == name) & (agg.tool == tool)].iloc[0]
            lines.append(
                f"| {name} | {n} | {r} | {tool} | {a['wss@95']:.3f} | {a['recall@10']:.3f} | "
                f"{a['recall@20']:.3f} | {a['recall@50']:.3f} | {a['rrf@10']:.3f} | {a['wall_s']:.1f} |"
            )
        rp = agg[(agg.dataset == name) & (agg.tool == "reprisma")]["wss@95"].iloc[0]
        ar = agg[(agg.dataset == name) & (agg.tool == "asreview")]["wss@95"].iloc[0]
        wins += int(rp >= ar)
    mean = df.groupby("tool")[METRICS + ["wall_s"]].mean()
    for tool in ("reprisma", "asreview"):
        a = mean.loc[tool]
        lines.append(
            f"| **mean of {len(datasets)}** | | | {tool} | {a['wss@95']:.3f} | {a['recall@10']:.3f} | "
            f"{a['recall@20']:.3f} | {a['recall@50']:.3f} | {a['rrf@10']:.3f} | {a['wall_s']:.1f} |"
        )
    verdict = (
        f"reprisma's mean WSS@95 >= ASReview's on **{wins} of {len(datasets)}** datasets; "
        f"mean over datasets {mean.loc['reprisma', 'wss@95']:.3f} (reprisma) vs "
        f"{mean.loc['asreview', 'wss@95']:.3f} (ASReview)."
    )
    return "\n".join(lines), verdict, wins


def write_section(path: Path, label: str, body: str) -> None:
    """Put ``body`` as the ``### Label `label``` subsection of the Screening section of
    RESULTS.md (replacing an earlier one for the same label), with the section's fixed intro."""
    text = path.read_text(encoding="utf-8")
    head = "## Screening prioritisation"
    start = text.index(head)
    nxt = text.find("\n## ", start + 5)
    end = len(text) if nxt == -1 else nxt + 1
    section = text[start:end]
    if "### Label `" not in section:
        section = INTRO.rstrip() + "\n"
    sub = f"### Label `{label}`"
    i = section.find(sub)
    if i == -1:
        section = section.rstrip() + "\n\n" + body.strip() + "\n"
    else:
        j = section.find("\n### ", i + len(sub))
        rest = "" if j == -1 else section[j:]
        section = section[:i] + body.strip() + "\n" + rest
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
    p.add_argument("--datasets", nargs="*", help="file stems to run (default: all *.csv)")
    p.add_argument("--work", default=str(REPO / "benchmarks" / ".work" / "screening"))
    p.add_argument("--skip-asreview", action="store_true")
    p.add_argument("--results-md", help="replace the Screening section of this RESULTS.md")
    p.add_argument("--json", help="write every run's metrics here")
    args = p.parse_args(argv)

    data_dir = Path(args.data)
    files = sorted(data_dir.glob("*.csv"))
    if args.datasets:
        files = [f for f in files if f.stem in set(args.datasets)]
    if not files:
        raise SystemExit(f"no CSV files in {data_dir}")
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    exe = None if args.skip_asreview else ensure_asreview()

    results = []
    for f in files:
        header = pd.read_csv(f, nrows=0).columns
        if args.label not in header:
            print(f"{f.stem}: no column {args.label!r}, skipped", file=sys.stderr)
            continue
        data = read_labelled(f, args.label)
        n, r = len(data.labels), int(data.labels.sum())
        for seed in args.seeds:
            prior = choose_prior(data.labels, seed)
            runs = {"reprisma": run_reprisma(f, args.label, seed, work / f"{f.stem}.{args.label}.seed{seed}.reprisma.csv")}
            if exe is not None:
                runs["asreview"] = run_asreview(exe, f, args.label, prior, seed, work)
            for tool, (labels, wall) in runs.items():
                m = screening_metrics(labels[2:])
                results.append(dict(dataset=f.stem, n=n, n_relevant=r, seed=seed, prior=list(prior),
                                    tool=tool, wall_s=wall, **m))
                print(f"{f.stem} seed={seed} {tool}: WSS@95={m['wss@95']:.3f} "
                      f"r@10={m['recall@10']:.3f} r@20={m['recall@20']:.3f} "
                      f"r@50={m['recall@50']:.3f} wall={wall:.1f}s", file=sys.stderr, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    if exe is None:
        return 0
    command = "benchmarks/screening.py " + " ".join(
        a if " " not in a else repr(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    table, verdict, wins = markdown(results, args.label, args.seeds, command)
    print(table)
    print(verdict)
    if args.results_md:
        body = SUBSECTION.format(
            command=command, machine=machine(), label=args.label,
            seeds=" ".join(map(str, args.seeds)), table=table, verdict=verdict,
        )
        write_section(Path(args.results_md), args.label, body)
    return 0


INTRO = f"""## Screening prioritisation (`benchmarks/screening.py`)

Setup: every dataset of `../shared/data/screening-benchmark` (from ASReview's older
systematic-review-datasets collection, none of them in SYNERGY 1.0; see its README) that has
the label column; for each seed both tools start from the same prior (one relevant + one
irrelevant record, `reprisma.screen.simulate.choose_prior(labels, seed)`), in the same run, one
after the other (never at the same time).

- ASReview LAB {ASREVIEW_VERSION} (pip, in `benchmarks/.envs/asreview`), its default model ELAS u4
  (TF-IDF word 1-2-grams + linear SVM, C=0.11, balanced sample weights with ratio 9.8, max
  querier), `asreview simulate DATA --prior-idx I J --seed S`: retrains after **every** label and
  stops at the last relevant record (the records it never labelled count as screened last, as
  ASReview Insights pads them).
- reprisma (`reprisma/screen/ranking.py`, `python -m reprisma.screen simulate`): TF-IDF over
  1-2-grams of Snowball English stems (stop words kept) + linear SVM with ASReview's C=0.11 and
  ratio 9.8 (balanced sample weights, relevant class 9.8 times heavier), so the one model change
  against ELAS u4 is the stemming; records without any text kept as zero vectors; retrained after
  batches of
  `max(1, n_labelled // 50)` labels (every label for the first 100, then batches growing by about
  2 %: about 250 retrains for 2,000 records where ASReview retrains about 2,000 times).
- Metrics: ASReview Insights' definitions, priors left out (`reprisma/screen/metrics.py` cites
  them; RRF@10 is by that definition the recall after 10 %). Values are means over the seeds;
  the "mean" rows are means over datasets. Wall time: the whole command, start-up and feature
  extraction included, on a machine shared with other jobs (indicative only).
"""

SUBSECTION = """### Label `{label}`

Command (from the repository root):

    .venv/bin/python {command}

Machine: {machine}. Seeds: {seeds}.

{table}

{verdict}
"""


if __name__ == "__main__":
    sys.exit(main())
