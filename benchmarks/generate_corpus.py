#!/usr/bin/env python
"""Generate a large labelled corpus for the deduplication scaling curve, from the REAL benchmark records.

    python benchmarks/generate_corpus.py --n 100000 --out benchmarks/.work/dedup/scale-100000 [--data DIR] [--seed S]

Writes ``records_pre_merged.csv`` (benchmark columns ``ID,title,year,author,pages,volume,number,
ENTRYTYPE,journal``) and ``merged_record_ids.csv`` (the true groups) into ``--out``.

How (everything starts from the records of ../shared/data/dedup-benchmark, MIT, Copyright (c) 2021
Gerit Wagner — the output is synthetic test data, never a real bibliography):

* works: every real unique work (one record per true group, plus the singletons). Past that, new
  distinct works are made by recombining real parts — the first half of one real title with the
  second half of another (each combination used once), the author list of a third record, the
  journal of a fourth, a fresh year, volume and page range — so near-identical titles that are
  NOT duplicates exist at every size, as in real searches;
* duplicates: each work gets 1 record (72 %), 2 (20 %), 3 (6 %) or 4 (2 %); extra copies are
  perturbed the way databases differ: case, trailing period, typos, translated-title brackets,
  HTML tags, ``[Review] [n refs]`` notes, truncated titles; authors as initials, truncated lists,
  two authors swapped, accents dropped; journal replaced by a variant spelling observed for it in
  the real labelled groups (or an ISO-4-like abbreviation); pages as ``1308-15``/``1308--1315``
  or missing; volume or year missing, year off by one; database record numbers in ``number``.
Deterministic for a given seed.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import re
import unicodedata
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "dedup-benchmark"
COLUMNS = ["ID", "title", "year", "author", "pages", "volume", "number", "ENTRYTYPE", "journal"]
_STOP = {"of", "the", "and", "for", "in", "on", "&", "de", "la"}


def load_real(data: Path) -> tuple[list[dict], dict[str, list[str]]]:
    """Real unique works and, per journal string, the other spellings seen in the same true group."""
    works: list[dict] = []
    variants: dict[str, set[str]] = {}
    for d in sorted(p for p in data.iterdir() if (p / "records_pre_merged.csv").exists()):
        df = pd.read_csv(d / "records_pre_merged.csv", dtype=str, keep_default_na=False)
        if "journal" not in df.columns:
            continue
        df = df.set_index("ID", drop=False)
        grouped: set[str] = set()
        for g in pd.read_csv(d / "merged_record_ids.csv", dtype=str)["merged_ids"]:
            ids = g.split(";")
            grouped.update(ids)
            js = {df.at[i, "journal"] for i in ids if df.at[i, "journal"]}
            for j in js:
                variants.setdefault(j, set()).update(js - {j})
            works.append(df.loc[ids[0]].to_dict())
        for rid in df.index:
            if rid not in grouped:
                works.append(df.loc[rid].to_dict())
    works = [w for w in works if w.get("title", "").strip()]
    works.sort(key=lambda w: (w["title"], w["ID"]))
    return works, {k: sorted(v) for k, v in variants.items()}


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _abbreviate(journal: str, rng: random.Random) -> str:
    words = [w for w in re.split(r"[\s\-]+", journal) if w and w.lower() not in _STOP]
    out = []
    for w in words:
        w = re.sub(r"[^\w]", "", w)
        if len(w) > 5:
            w = w[: rng.choice((3, 4, 5))]
        out.append(w)
    return " ".join(out)


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 10:
        return text
    i = rng.randrange(1, len(text) - 2)
    op = rng.randrange(3)
    if op == 0:
        return text[:i] + text[i + 1:]
    if op == 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + rng.choice("aeioumnrst") + text[i + 1:]


def _initials(author: str) -> str:
    out = []
    for name in author.split(" and "):
        last, _, given = name.partition(",")
        parts = [p for p in re.split(r"[\s\-\.]+", given.strip()) if p]
        out.append(f"{last.strip()}, " + " ".join(p[0].upper() + "." for p in parts) if parts else last.strip())
    return " and ".join(out)


def _pages_variant(pages: str, rng: random.Random) -> str:
    m = re.match(r"^\s*(\d+)\s*-+\s*(\d+)\s*$", pages)
    if not m:
        return pages
    a, b = m.group(1), m.group(2)
    if rng.random() < 0.7 and len(a) == len(b):
        k = 0
        while k < len(a) - 1 and a[k] == b[k]:
            k += 1
        return f"{a}-{b[k:]}"
    return f"{a}--{b}"


def perturb(rec: dict, rng: random.Random, variants: dict[str, list[str]]) -> dict:
    r = dict(rec)
    t = r["title"]
    if rng.random() < 0.3:
        t = t.lower() if rng.random() < 0.5 else t.title()
    if rng.random() < 0.3:
        t = t.rstrip(".") + "."
    if rng.random() < 0.15:
        t = _typo(t, rng)
    if rng.random() < 0.05 and not t.startswith("["):
        t = "[" + t.rstrip(".") + "]"
    if rng.random() < 0.03:
        words = t.split()
        k = rng.randrange(len(words))
        words[k] = f"<i>{words[k]}</i>"
        t = " ".join(words)
    if rng.random() < 0.05:
        t = t.rstrip(".") + f". [Review] [{rng.randrange(10, 120)} refs]"
    if rng.random() < 0.03 and len(t) > 120:
        t = t[:120]
    r["title"] = t
    a = r.get("author", "")
    if a:
        if rng.random() < 0.4:
            a = _initials(a)
        names = a.split(" and ")
        if rng.random() < 0.1 and len(names) > 3:
            names = names[:3]
        if rng.random() < 0.05 and len(names) > 2:
            k = rng.randrange(len(names) - 1)
            names[k], names[k + 1] = names[k + 1], names[k]
        a = " and ".join(names)
        if rng.random() < 0.1:
            a = _fold(a)
        r["author"] = a
    j = r.get("journal", "")
    if j and rng.random() < 0.4:
        alts = variants.get(j)
        r["journal"] = rng.choice(alts) if alts and rng.random() < 0.7 else _abbreviate(j, rng)
    elif rng.random() < 0.05:
        r["journal"] = ""
    p = r.get("pages", "")
    x = rng.random()
    if x < 0.3:
        r["pages"] = _pages_variant(p, rng)
    elif x < 0.4:
        r["pages"] = ""
    if rng.random() < 0.05:
        r["volume"] = ""
    x = rng.random()
    if x < 0.03 and r.get("year", "").isdigit():
        r["year"] = str(int(r["year"]) + rng.choice((-1, 1)))
    elif x < 0.05:
        r["year"] = ""
    if rng.random() < 0.2:
        r["number"] = str(rng.randrange(60, 3000))
    return r


def synthetic_work(j: int, works: list[dict], rng: random.Random) -> dict:
    """A distinct work recombined from real parts (see module docstring)."""
    w = len(works)
    base = works[j % w]
    other = works[(j // w + (j % w) * 7919 + 1) % w]
    t1, t2 = base["title"].split(), other["title"].split()
    title = " ".join(t1[: max(1, len(t1) // 2)] + t2[len(t2) // 2:])
    authors = works[(j * 31 + 7) % w].get("author", "")
    journal = works[(j * 17 + 3) % w].get("journal", "")
    start = rng.randrange(1, 3000)
    return {"title": title, "author": authors, "journal": journal, "year": str(rng.randrange(1970, 2024)),
            "volume": str(rng.randrange(1, 400)), "pages": f"{start}-{start + rng.randrange(1, 15)}",
            "number": str(rng.randrange(1, 13)), "ENTRYTYPE": "article"}


def generate(data: Path, n: int, seed: int, out: Path) -> tuple[Path, Path]:
    rng = random.Random(seed)
    works, variants = load_real(data)
    records: list[dict] = []
    groups: list[list[int]] = []
    j = 0
    while len(records) < n:
        if j < len(works):
            src = {k: works[j].get(k, "") for k in COLUMNS if k != "ID"}
            src["ENTRYTYPE"] = src.get("ENTRYTYPE") or "article"
        else:
            src = synthetic_work(j, works, rng)
        x = rng.random()
        k = 1 if x < 0.72 else 2 if x < 0.92 else 3 if x < 0.98 else 4
        k = min(k, n - len(records))
        idx = []
        for c in range(k):
            records.append(src if c == 0 else perturb(src, rng, variants))
            idx.append(len(records) - 1)
        if k > 1:
            groups.append(idx)
        j += 1
    order = list(range(len(records)))
    rng.shuffle(order)
    ids = {pos: f"gen_{rank + 1:07d}" for rank, pos in enumerate(order)}
    out.mkdir(parents=True, exist_ok=True)
    rec_path, truth_path = out / "records_pre_merged.csv", out / "merged_record_ids.csv"
    tmp = rec_path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
        w.writerow(COLUMNS)
        for pos in sorted(order, key=lambda p: ids[p]):
            r = records[pos]
            w.writerow([ids[pos]] + [r.get(c, "") for c in COLUMNS[1:]])
    os.replace(tmp, rec_path)
    tmp = truth_path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write("merged_ids\n")
        for g in sorted(sorted(ids[p] for p in g) for g in groups):
            fh.write('"' + ";".join(g) + '"\n')
    os.replace(tmp, truth_path)
    (out / "README.md").write_text(
        f"Synthetic corpus of {len(records)} records (seed {seed}) generated by benchmarks/generate_corpus.py\n"
        "from the bib-dedupe benchmark records (MIT License, Copyright (c) 2021, Gerit Wagner).\n"
        "Not a real bibliography: recombined and perturbed for benchmarking only.\n", encoding="utf-8")
    return rec_path, truth_path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=20201)
    args = ap.parse_args(argv)
    rec, truth = generate(args.data, args.n, args.seed, args.out)
    print(rec, truth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
