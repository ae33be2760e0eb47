"""``python -m reprisma.dedup RECORDS.csv --out GROUPS.csv [--explain X.tsv] [--maybe M.tsv] [--overrides O.tsv]``

``python -m reprisma.dedup --rules`` prints the rule table (the README's rule list).

Reads a records table (bib-dedupe benchmark columns ``ID,title,year,author,pages,volume,number,
ENTRYTYPE,journal`` plus any of ``doi,abstract,...``; or the pipeline's record columns) and writes
the duplicate groups in the benchmark's ``merged_record_ids.csv`` format: header ``merged_ids``,
one group of two or more ids per line, ``;``-separated and quoted, ids sorted inside a group and
groups sorted by their first id. Writes are atomic. Progress goes to stderr for large inputs.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

from . import InputError, OverrideError, deduplicate, load_overrides
from .rules import RULE_BY_NAME, rules_markdown

PROGRESS_THRESHOLD = 5000


def _atomic_write(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_groups(path: Path, groups: list[list[str]]) -> None:
    def w(fh):
        fh.write("merged_ids\n")
        for g in groups:
            fh.write('"' + ";".join(g).replace('"', '""') + '"\n')
    _atomic_write(path, w)


def write_tsv(path: Path, table: pd.DataFrame) -> None:
    _atomic_write(path, lambda fh: table.to_csv(fh, sep="\t", index=False, lineterminator="\n",
                                                quoting=csv.QUOTE_MINIMAL))


def read_records(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read as CSV: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m reprisma.dedup", description=__doc__.splitlines()[0])
    ap.add_argument("records", type=Path, nargs="?", help="records table (CSV)")
    ap.add_argument("--out", type=Path, help="duplicate groups (merged_record_ids.csv format)")
    ap.add_argument("--explain", type=Path, help="TSV: one row per merged pair (rule, fields, scores)")
    ap.add_argument("--maybe", type=Path, help="TSV: borderline pairs for a human to decide")
    ap.add_argument("--overrides", type=Path, help="dedup_overrides.tsv (forced merges/splits)")
    ap.add_argument("--quiet", action="store_true", help="no progress output")
    ap.add_argument("--rules", action="store_true", help="print the rule table (Markdown) and exit")
    ap.add_argument("--without-rule", action="append", default=[], metavar="NAME",
                    help="do not apply this rule (repeatable; names as in --rules)")
    args = ap.parse_args(argv)
    if args.rules:
        sys.stdout.write(rules_markdown())
        return 0
    if args.records is None or args.out is None:
        ap.error("RECORDS and --out are required (or --rules)")
    unknown = sorted(set(args.without_rule) - set(RULE_BY_NAME))
    if unknown:
        ap.error(f"--without-rule: unknown rule {unknown[0]!r} (known: {', '.join(RULE_BY_NAME)})")
    try:
        df = read_records(args.records)
        overrides = load_overrides(args.overrides) if args.overrides else None
        verbose = not args.quiet and len(df) >= PROGRESS_THRESHOLD
        progress = (lambda msg: print(f"[reprisma.dedup] {msg}", file=sys.stderr, flush=True)) if verbose else None
        result = deduplicate(df, overrides=overrides, progress=progress, disabled_rules=args.without_rule)
    except (InputError, OverrideError, FileNotFoundError) as exc:
        msg = str(exc)
        if isinstance(exc, InputError) and not msg.startswith(str(args.records)):
            msg = f"{args.records}: {msg}"
        print(f"error: {msg}", file=sys.stderr)
        return 2
    write_groups(args.out, result.groups())
    if args.explain:
        write_tsv(args.explain, result.explanations)
    if args.maybe:
        write_tsv(args.maybe, result.maybe_pairs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
