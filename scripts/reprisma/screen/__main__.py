"""Command line of the screening stage: ``python -m reprisma.screen simulate ...``."""

from __future__ import annotations

import argparse
import sys


def _iso_date(text: str) -> str:
    from reprisma.screen.eligibility import is_iso_day

    if not is_iso_day(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date (YYYY-MM-DD)")
    return text


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE, e.g. \"Ana Lima=ana\"")
    return name.strip(), value.strip()


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
    from reprisma.screen.stopping import DEFAULTS, SIMULATION_RULES

    st = s.add_argument_group("stopping (where a rule would have said stop; see README, Stopping rules)")
    st.add_argument("--stopping", choices=SIMULATION_RULES,
                    help="the stopping rule to replay on the simulated order (random_sample: ranked until "
                    "--consecutive irrelevant in a row, then a random sample of the rest tested as in "
                    "Callaghan & Müller-Hansen 2020; the sample is drawn with --seed)")
    st.add_argument("--target-recall", type=float, default=DEFAULTS["target_recall"],
                    help=f"recall the rule must reach (default {DEFAULTS['target_recall']})")
    st.add_argument("--confidence", type=float, default=DEFAULTS["confidence"],
                    help=f"confidence of the hypergeometric rule (default {DEFAULTS['confidence']})")
    st.add_argument("--consecutive", type=int, default=DEFAULTS["consecutive"],
                    help=f"consecutive_irrelevant (and random_sample's switch): run of irrelevant records "
                    f"(default {DEFAULTS['consecutive']})")
    st.add_argument("--fraction", type=float, default=DEFAULTS["fraction"],
                    help=f"fixed_fraction: share of the records screened (default {DEFAULTS['fraction']})")
    st.add_argument("--stop-out", help="JSON file: rule, target_recall, stopped_at, recall_at_stop, ...")

    m = sub.add_parser("metrics", help="WSS@95, recall@10/20/50%%, RRF@10 of a ranking CSV")
    m.add_argument("ranking", help="CSV written by `simulate` (rank,record_id,label)")
    m.add_argument("--n-prior", type=int, default=2, help="leading prior rows to leave out (default 2)")
    for name, helptext in (
        ("import-asreview", "ASReview LAB dataset export (CSV/TSV/RIS) -> decisions TSV"),
        ("import-rayyan", "Rayyan CSV export -> decisions TSV"),
    ):
        i = sub.add_parser(name, help=helptext)
        i.add_argument("export", help="the tool's export file")
        i.add_argument("--out", required=True, help="new decisions TSV in the protocol's decisions folder "
                       "(e.g. config/screening/ta_alice.tsv); an existing file is never overwritten")
        i.add_argument("--stage", default="title_abstract", choices=["title_abstract", "full_text"])
        i.add_argument("--date", type=_iso_date, help="ISO date for rows without one (required for Rayyan)")
        i.add_argument("--protocol", default="config/config.yaml",
                       help="the protocol: its exclusion reasons and results folder (default config/config.yaml)")
        i.add_argument("--records", help="records to match the export against: records.jsonl or a CSV with "
                       "record_id, pmid, doi such as reports/to_screen.csv (default: the protocol's "
                       "results/<protocol id>/records.jsonl, written by `make run`)")
        if name == "import-asreview":
            i.add_argument("--reviewer", required=True, help="reviewer name written on every row (e.g. ana)")
            i.add_argument("--exclusion-reason", help="reason written on exclusions (full text needs one, "
                           "from the protocol's screening.exclusion_reasons)")
        else:
            i.add_argument("--reviewer-map", action="append", default=[], type=_pair, metavar="RAYYAN_NAME=REVIEWER",
                           help="Rayyan user name -> reviewer name, once per reviewer (default: spaces become _)")
            i.add_argument("--reason-map", action="append", default=[], type=_pair, metavar="RAYYAN_REASON=REASON",
                           help="Rayyan exclusion reason -> the protocol's reason, once per reason "
                           "(default: unchanged)")
    return p


def _load_match_records(path):
    """Records to match an export against: a records.jsonl (validated) or a CSV/TSV table with a
    ``record_id`` column (``pmid``, ``doi`` used when present)."""
    from pathlib import Path

    import pandas as pd

    path = Path(path)
    if path.suffix.lower() == ".jsonl":
        from reprisma.records import RecordError, read_records_jsonl

        try:
            return [{"record_id": r["record_id"], "pmid": r.get("pmid"), "doi": r.get("doi")}
                    for r in read_records_jsonl(path)]
        except RecordError as exc:
            raise ValueError(str(exc)) from None
    try:
        df = pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",", dtype=str,
                         keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ValueError(f"{path}: cannot read the records table: {exc}") from None
    if "record_id" not in df.columns:
        raise ValueError(f"{path}: line 1: no record_id column (expected records.jsonl or reports/to_screen.csv)")
    return df[[c for c in ("record_id", "pmid", "doi") if c in df.columns]]


def _recorded_decisions(protocol):
    """The decisions already in the protocol's decisions folder (rows that can be read) and, when
    the workflow has run, its id map (``aliases``, ``not_screened``: see ``screening_ids``)."""
    from pathlib import Path

    from reprisma.screen.decisions import read_decision_files, screening_ids
    from reprisma.screen.stage import decision_files
    from reprisma.textfile import read_tsv

    recorded, _ = read_decision_files(decision_files(protocol))
    results = Path(protocol.config["results_dir"]) / protocol.id
    ids = {"aliases": None, "not_screened": None}
    if (results / "clusters.tsv").exists() and (results / "eligibility.tsv").exists():
        full = screening_ids(read_tsv(results / "clusters.tsv"), read_tsv(results / "eligibility.tsv"))
        ids = {"aliases": full["aliases"], "not_screened": full["not_screened"]}
    return recorded, ids


def _out_problem(out, protocol) -> str | None:
    """Why ``--out`` would never be read by the workflow, or None."""
    from pathlib import Path

    folder = Path(protocol.config["screening"]["decisions_dir"])
    out = Path(out)
    if out.suffix != ".tsv" or out.name.startswith(".") or out.resolve().parent != folder.resolve():
        return (f"{out}: decisions are read only from {folder}/*.tsv (the protocol's screening.decisions_dir); "
                f"choose a new file there, e.g. {folder}/ta_ana.tsv")
    return None


def _write_new(out, rows) -> None:
    """Write a new decisions file atomically; an existing file is never replaced, even one created
    while this runs (hard link of the finished temporary file: fails if the name exists)."""
    import os
    from pathlib import Path

    from reprisma.screen.decisions import write_decisions_tsv

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.import-{os.getpid()}")
    write_decisions_tsv(tmp, rows)
    try:
        try:
            os.link(tmp, out)
        except FileExistsError:
            raise
        except OSError:  # a filesystem without hard links (exFAT, some network mounts): create exclusively
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "wb") as fh:
                fh.write(tmp.read_bytes())
                fh.flush()
                os.fsync(fh.fileno())
    finally:
        tmp.unlink(missing_ok=True)


def _import(args) -> int:
    from pathlib import Path

    from reprisma.protocol import load_protocol
    from reprisma.screen.decisions import ScreeningSettings
    from reprisma.screen.interchange import (ExportFileError, check_imported, import_asreview, import_rayyan,
                                             split_recorded)

    exists = (f"error: {args.out} exists; decisions already recorded are never overwritten: "
              "choose a new file name (every *.tsv in config/screening is read)\n")
    if Path(args.out).exists():
        sys.stderr.write(exists)
        return 2
    try:
        protocol = load_protocol(args.protocol)
    except OSError as exc:
        sys.stderr.write(f"error: {args.protocol}: cannot read the protocol ({exc.strerror}); run from the "
                         "project folder (the protocol's folders, config/screening and results/, are relative "
                         "to it) or pass --protocol FILE\n")
        return 2
    bad_out = _out_problem(args.out, protocol)
    if bad_out:
        sys.stderr.write(f"error: {bad_out}\n")
        return 2
    settings = ScreeningSettings.from_protocol(protocol.config.get("screening"))
    records_path = Path(args.records or f"{protocol.config['results_dir']}/{protocol.id}/records.jsonl")
    if not records_path.exists():
        sys.stderr.write(f"error: {records_path}: no records to match the export against; run `make run` first "
                         "(it writes them) or pass --records (records.jsonl or reports/to_screen.csv)\n")
        return 2
    records = _load_match_records(records_path)
    problems: list = []
    if args.command == "import-asreview":
        rows = import_asreview(
            args.export, reviewer=args.reviewer, stage=args.stage, date=args.date, records=records,
            exclusion_reason=args.exclusion_reason, problems=problems,
        )
    else:
        if not args.date:
            sys.stderr.write("error: --date is required (Rayyan's CSV has no decision dates)\n")
            return 2
        rows = import_rayyan(args.export, stage=args.stage, date=args.date, records=records,
                             reviewers=dict(args.reviewer_map), reasons=dict(args.reason_map), problems=problems)
    if rows.empty and not problems:
        sys.stderr.write(f"error: {args.export}: no decision in the export (no record is labelled); "
                         "nothing written\n")
        return 2
    recorded, ids = _recorded_decisions(protocol)
    rows, same, changed = split_recorded(rows, recorded, ids["aliases"])
    problems += changed
    problems += check_imported(rows, settings, recorded, **ids)
    if problems:
        hint = ""
        if any("without a reason" in p.message for p in problems):
            hint = "hint: full-text exclusions need a reason: pass --exclusion-reason REASON\n"
        if any("'reviewer'" in p.message for p in problems) and args.command == "import-rayyan":
            hint += "hint: map Rayyan user names to short reviewer names: --reviewer-map \"Ana Lima=ana\"\n"
        if any("not in the protocol's list" in p.message for p in problems) and args.command == "import-rayyan":
            hint += "hint: map Rayyan's reasons to the protocol's: --reason-map \"RAYYAN REASON=protocol reason\"\n"
        sys.stderr.write(f"error: {ExportFileError(args.export, problems)}\n{hint}nothing written\n")
        return 2
    skipped = f"; {same} already recorded, skipped" if same else ""
    if rows.empty:
        sys.stderr.write(f"nothing new in {args.export}: all {same} decisions are already recorded; nothing written\n")
        return 0
    try:
        _write_new(args.out, rows)
    except FileExistsError:
        sys.stderr.write(exists)
        return 2
    per = rows.groupby("decision").size().to_dict()
    summary = ", ".join(f"{per[k]} {k}" for k in ("include", "maybe", "exclude", "not_retrieved") if k in per)
    sys.stderr.write(f"wrote {len(rows)} decision rows ({summary}) to {args.out}{skipped}\n")
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
        except ValueError as exc:  # ProtocolError, ExportFileError and unreadable files included
            sys.stderr.write(f"error: {exc}\nnothing written\n")
            return 2
    if args.command == "metrics":
        import json

        import pandas as pd

        from reprisma.screen.metrics import screening_metrics

        try:
            df = pd.read_csv(args.ranking, dtype=str, keep_default_na=False)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            sys.stderr.write(f"error: {args.ranking}: cannot read: {exc}\n")
            return 2
        missing = [c for c in ("rank", "label") if c not in df.columns]
        bad = [i + 2 for i, v in enumerate(df.get("label", [])) if v.strip() not in ("0", "1")]
        bad += [i + 2 for i, v in enumerate(df.get("rank", [])) if not v.strip().isdigit()]
        if missing or bad:
            what = (f"line 1: missing column(s) {', '.join(missing)} (expected rank,record_id,label as written "
                    "by `simulate`)") if missing else f"line {min(bad)}: rank must be a number and label 0 or 1"
            sys.stderr.write(f"error: {args.ranking}: {what}\n")
            return 2
        df["rank"] = df["rank"].astype(int)
        labels = df.sort_values("rank", kind="stable")["label"].astype(int).tolist()[args.n_prior :]
        print(json.dumps(screening_metrics(labels), indent=2, sort_keys=True))
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
