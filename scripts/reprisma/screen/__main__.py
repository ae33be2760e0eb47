"""Command line of the screening stage: ``python -m reprisma.screen simulate ...``."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m reprisma.screen", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser(
        "simulate",
        help="simulate prioritised screening on a labelled table; write the screening order",
    )
    s.add_argument("data", help="CSV with title, abstract and the label column")
    s.add_argument("--label", required=True, help="0/1 label column (e.g. label_included)")
    s.add_argument("--seed", type=int, default=0, help="chooses the prior records (default 0)")
    s.add_argument("--out", required=True, help="output CSV: rank,record_id,label")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--prior-idx", nargs="+", help="0-based row positions of the prior records")
    g.add_argument("--prior-ids", nargs="+", help="record ids of the prior records")
    s.add_argument(
        "--batch-divisor",
        type=int,
        default=50,
        help="retrain after max(1, n_labelled // D) new labels (default 50)",
    )

    m = sub.add_parser("metrics", help="WSS@95, recall@10/20/50%%, RRF@10 of a ranking CSV")
    m.add_argument("ranking", help="CSV written by `simulate` (rank,record_id,label)")
    m.add_argument("--n-prior", type=int, default=2, help="leading prior rows to leave out (default 2)")
    for name, helptext in (
        ("import-asreview", "ASReview LAB dataset export (CSV/TSV/RIS) -> decisions TSV"),
        ("import-rayyan", "Rayyan CSV export -> decisions TSV"),
    ):
        i = sub.add_parser(name, help=helptext)
        i.add_argument("export", help="the tool's export file")
        i.add_argument("--out", required=True, help="decisions TSV to write (e.g. config/screening/ta_alice.tsv); "
                       "an existing file is never overwritten")
        i.add_argument("--stage", default="title_abstract", choices=["title_abstract", "full_text"])
        i.add_argument("--date", help="ISO date for rows without one (required for Rayyan)")
        if name == "import-asreview":
            i.add_argument("--reviewer", required=True)
            i.add_argument("--exclusion-reason", help="reason written on exclusions (full text needs one)")
        else:
            i.add_argument("--reviewer-map", nargs="*", default=[], metavar="RAYYAN_NAME=REVIEWER")
    return p


def _import(args) -> int:
    from pathlib import Path

    from reprisma.screen.decisions import write_decisions_tsv

    if Path(args.out).exists():
        sys.stderr.write(f"error: {args.out} exists; decisions already recorded are never overwritten: "
                         "choose a new file name (every *.tsv in config/screening is read)\n")
        return 2
    from reprisma.screen.interchange import import_asreview, import_rayyan

    if args.command == "import-asreview":
        rows = import_asreview(
            args.export, reviewer=args.reviewer, stage=args.stage, date=args.date,
            exclusion_reason=args.exclusion_reason,
        )
    else:
        if not args.date:
            sys.stderr.write("error: --date is required (Rayyan's CSV has no decision dates)\n")
            return 2
        mapping = dict(x.split("=", 1) for x in args.reviewer_map)
        rows = import_rayyan(args.export, stage=args.stage, date=args.date, reviewers=mapping)
    write_decisions_tsv(args.out, rows)
    sys.stderr.write(f"wrote {len(rows)} decision rows to {args.out}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "simulate":
        from reprisma.screen.simulate import main_simulate

        try:
            return main_simulate(args)
        except ValueError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 2
    if args.command in ("import-asreview", "import-rayyan"):
        try:
            return _import(args)
        except ValueError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 2
    if args.command == "metrics":
        import json

        import pandas as pd

        from reprisma.screen.metrics import screening_metrics

        df = pd.read_csv(args.ranking)
        labels = df.sort_values("rank")["label"].astype(int).tolist()[args.n_prior :]
        print(json.dumps(screening_metrics(labels), indent=2, sort_keys=True))
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
