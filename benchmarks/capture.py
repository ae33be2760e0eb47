#!/usr/bin/env python
"""Live-capture benchmark: N emulated PubMed records through the real capture code.

    .venv/bin/python benchmarks/capture.py --n 5000 20000 50000 [--batch 500]

For each N, an E-utilities emulator (NCBI's rate limit on: 429 above 10 requests/s with a key)
serves N synthetic records, and ``reprisma.search.capture.capture`` runs in its own process
against it (with an API key, so 10 requests/s). Reported: requests the emulator received
(esearch + efetch, so any 429 or retry would show) against the minimum, wall time of the capture
process, and its peak resident memory (``VmHWM``).

The records are synthetic test data, never a bibliography: copies of the real PubMed records in
``tests/fixtures/pubmed`` (those up to 12 KB) with new PMIDs (90,000,000 + i), the word ``capturebench`` put in front
of the title, and entrez dates spread evenly over 2000-01-01..2025-12-31 (so a capture over
9,999 records must cut the window into date slices).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "scripts"))

TERM = "capturebench"
# The fixture records up to 12 KB (their median is 7.3 KB; the largest, 87 KB with its reference
# list, would make the benchmark measure gzip and XML parsing of huge bodies instead).
MAX_TEMPLATE = 12_000
START, END = dt.date(2000, 1, 1), dt.date(2025, 12, 31)


def synthetic_corpus(n: int):
    from reprisma.emulator import load_corpus
    from reprisma.emulator.corpus import Corpus

    templates = [r for r in load_corpus(pubmed_xml=[ROOT / "tests" / "fixtures" / "pubmed"]).pubmed.values()
                 if "<ArticleTitle>" in r.xml and len(r.xml.encode()) <= MAX_TEMPLATE]
    corpus = Corpus()
    span = (END - START).days
    for i in range(n):
        t = templates[i % len(templates)]
        pmid = str(90_000_000 + i)
        xml = re.sub(r"<PMID([^>]*)>\d+</PMID>", rf"<PMID\g<1>>{pmid}</PMID>", t.xml, count=1)
        xml = xml.replace("<ArticleTitle>", f"<ArticleTitle>{TERM} ", 1)
        day = START + dt.timedelta(days=i * span // n)
        corpus.add_pubmed(dataclasses.replace(t, pmid=pmid, xml=xml, title=f"{TERM} {t.title}",
                                              entrez_date=day, create_date=day))
    return corpus


def protocol_config(base_url: str, batch: int) -> dict:
    from reprisma.protocol import pubmed_query

    limits = {"date_field": "edat", "date_from": START.isoformat(), "date_to": END.isoformat()}
    return {"protocol": {"id": "bench", "title": "capture benchmark"},
            "searches": [{"id": "pm", "source": "pubmed", "term": TERM, "limits": limits,
                          "query": pubmed_query(TERM, limits, (limits["date_from"], limits["date_to"]))}],
            "services": {"eutils": {"base_url": base_url, "batch_size": batch},
                         "ctgov": {"base_url": "http://127.0.0.1:9/api/v2"}}}


def child(config: str, root: str) -> None:
    from reprisma.protocol import validate_config
    from reprisma.search.capture import capture

    protocol = validate_config(json.loads(Path(config).read_text()), "bench.yaml")
    t0 = time.monotonic()
    out = capture(protocol, Path(root), "bench")
    wall = time.monotonic() - t0
    manifest = json.loads((out / "manifest.json").read_text())
    print(json.dumps({"wall_s": wall, "records": manifest["searches"][0]["records_received"],
                      "slices": len(manifest["searches"][0]["slices"]),
                      "maxrss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's peak resident memory. ``VmHWM``, not ``ru_maxrss``: Linux carries
    ``ru_maxrss`` across fork+exec, so a child would report its parent's peak (here the emulator's
    corpus, which grows with N)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, batch: int) -> dict:
    from reprisma.emulator import EutilsEmulator

    corpus = synthetic_corpus(n)
    with EutilsEmulator(corpus, rate_limit=True) as emu, tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.json"
        cfg.write_text(json.dumps(protocol_config(emu.base_url, batch)))
        env = dict(os.environ, NCBI_API_KEY="benchmark-key", NCBI_EMAIL="bench@example.org",
                   PYTHONPATH=str(ROOT / "scripts"))
        r = subprocess.run([sys.executable, __file__, "--child", str(cfg), str(Path(tmp) / "snap")],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise SystemExit(f"capture failed for n={n}:\n{r.stderr[-2000:]}")
        res = json.loads(r.stdout.strip().splitlines()[-1])
        esearch = sum(q.path.endswith("esearch.fcgi") for q in emu.requests)
        efetch = sum(q.path.endswith("efetch.fcgi") for q in emu.requests)
    assert res["records"] == n
    res.update(n=n, batch=batch, esearch=esearch, efetch=efetch,
               min_esearch=1 + (math.ceil(n / 9999) if n > 9999 else 0), min_efetch=math.ceil(n / batch))
    return res


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[5000, 20000, 50000])
    ap.add_argument("--batch", type=int, default=500)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from machine import describe

    print(f"machine: {describe()}")
    print("| records | date slices | esearch (min) | efetch (min) | requests / minimum | wall s | peak RSS MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.n:
        r = run(n, args.batch)
        total, minimum = r["esearch"] + r["efetch"], r["min_esearch"] + r["min_efetch"]
        print(f"| {n:,} | {r['slices']} | {r['esearch']} ({r['min_esearch']}) | {r['efetch']} ({r['min_efetch']}) | "
              f"{total / minimum:.2f} | {r['wall_s']:.1f} | {r['maxrss_mib']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
