"""Stage commands the Snakemake rules call: ``python -m reprisma.cli STAGE ...``, one hop from each
rule to its stage's public function (``reprisma.replay.capture_records``, ``reprisma.refresh.compare``,
``reprisma.dedup.pipeline_rows``, ``reprisma.screen.eligibility.eligibility_rows``,
``reprisma.screen.stage.screen_records``, ``reprisma.counts.count_capture``,
``reprisma.report.build_report``, ``reprisma.verify.verify``).

Each command reads the effective protocol (``--protocol results/<id>/protocol.json``, the
validated config Snakemake holds, so ``snakemake --config`` overrides reach every stage), does one stage and writes its
outputs atomically. Errors print one line and exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reprisma.errors import ReprismaError
from reprisma.protocol import ProtocolError, validate_config
from reprisma.snapshot import SnapshotError, atomic_write_text, dumps_json
from reprisma.textfile import read_tsv, tsv_text


def _protocol(args):
    return validate_config(json.loads(Path(args.protocol).read_text(encoding="utf-8")), args.config_file)


def _capture(args, protocol):
    """The capture a stage derives from: the one the LOCK names, or (a live run, whose LOCK moves
    only when the whole run has succeeded) the one named by ``--replay-capture``."""
    from reprisma.replay import open_capture

    return open_capture(protocol, Path(args.snapshot_root), args.replay_capture)


def _read_jsonl(path) -> list[dict]:
    from reprisma.records import read_records_jsonl

    return list(read_records_jsonl(path))


def cmd_capture(args):
    from reprisma.search.capture import capture

    protocol = _protocol(args)
    capture(protocol, Path(args.snapshot_root), args.capture_id, kind=args.kind, lock=False)
    atomic_write_text(Path(args.out), dumps_json({"capture_id": args.capture_id, "kind": args.kind}))


def cmd_records(args):
    from reprisma.records import write_records_jsonl
    from reprisma.replay import capture_records

    protocol = _protocol(args)
    n = write_records_jsonl(capture_records(_capture(args, protocol)), Path(args.out))
    print(f"reprisma: {n} records -> {args.out}", file=sys.stderr)


def _refresh(args):
    from reprisma.refresh import Refresh

    return Refresh.from_json(json.loads(Path(args.refresh).read_text(encoding="utf-8")))


def cmd_refresh(args):
    from reprisma.refresh import DIFF_COLUMNS, compare

    protocol = _protocol(args)
    result = compare(protocol, _capture(args, protocol), _read_jsonl(args.records), Path(args.snapshot_root))
    atomic_write_text(Path(args.diff), tsv_text(result.rows, DIFF_COLUMNS))
    atomic_write_text(Path(args.out), dumps_json(result.to_json()))
    since = f"since capture {result.previous_capture}" if result.previous_capture else "(first capture)"
    print(f"reprisma: refresh {since}:", file=sys.stderr)
    for line in result.summary_lines():
        print(f"reprisma:   {line}", file=sys.stderr)
    prev = result.previous_round
    if prev is not None:
        print(f"reprisma:   previous version: {prev.studies if prev.studies is not None else 'unknown'} studies, "
              f"{prev.reports if prev.reports is not None else 'unknown'} reports ({prev.description}); "
              f"{len(prev.complete_record_ids)} records screened before carry their decisions forward",
              file=sys.stderr)


def cmd_dedup(args):
    import pandas as pd

    from reprisma.dedup import pipeline_rows, summary

    protocol = _protocol(args)
    records = _read_jsonl(args.records)
    rows, result = pipeline_rows(records, protocol.config["dedup"]["overrides"])
    atomic_write_text(Path(args.summary), dumps_json(summary(result, pd.DataFrame(records))))
    atomic_write_text(Path(args.out), tsv_text(rows, ["record_id", "cluster_id", "representative", "rule"]))
    for frame, path in ((result.explanations, args.explanations), (result.maybe_pairs, args.maybe)):
        atomic_write_text(Path(path), tsv_text(frame.to_dict("records"), list(frame.columns)))
    n = len({r["cluster_id"] for r in rows})
    print(f"reprisma: {len(rows)} records in {n} clusters, {len(result.maybe_pairs)} borderline pairs for a "
          f"human (see {args.maybe}) -> {args.out}", file=sys.stderr)


def cmd_eligibility(args):
    from reprisma.screen.eligibility import REMOVED, eligibility_rows

    protocol = _protocol(args)
    rows = eligibility_rows(_read_jsonl(args.records), read_tsv(args.clusters), protocol, refresh=_refresh(args))
    atomic_write_text(Path(args.out), tsv_text(rows, ["record_id", "eligible", "rule", "detail"]))
    other = sum(1 for r in rows if r["rule"] == REMOVED)
    automation = sum(1 for r in rows if not r["eligible"]) - other
    print(f"reprisma: {automation} records marked ineligible by automation, {other} removed by reviewers "
          f"for other reasons -> {args.out}", file=sys.stderr)


def cmd_screening(args):
    from reprisma.screen.interchange import export_for_screening
    from reprisma.screen.stage import decision_files, pending_breakdown, screen_records

    protocol = _protocol(args)
    records = _read_jsonl(args.records)
    screened = screen_records(records, read_tsv(args.clusters), read_tsv(args.eligibility), protocol,
                              decision_files(protocol), _refresh(args))
    conflict_rows, result = screened.conflicts, screened.ledger
    atomic_write_text(Path(args.conflicts), tsv_text(conflict_rows.to_dict("records"), list(conflict_rows.columns)))
    export_for_screening(records, screened.ranking, csv_path=Path(args.to_screen_csv),
                         ris_path=Path(args.to_screen_ris))
    atomic_write_text(Path(args.out), dumps_json(result))
    why = pending_breakdown(result)
    ta = f" ({why['title_abstract']})" if why.get("title_abstract") else ""
    ft = f" ({why['full_text']})" if why.get("full_text") else ""
    print(f"reprisma: {result['records_pending']} records await a title/abstract decision{ta}, "
          f"{result['reports_pending']} a full-text decision{ft}; ranked list {Path(args.to_screen_csv).name} "
          f"(published to reports/ when the whole run succeeds)",
          file=sys.stderr)
    stopped = (f"; screening stopped: {result['records_stopped']} records left unscreened are counted as excluded "
               "by the stopping rule" if "records_stopped" in result else "")
    print(f"reprisma: {result['stopping']['sentence']}{stopped}", file=sys.stderr)


def cmd_counts(args):
    from reprisma.counts import count_capture

    protocol = _protocol(args)
    screening = json.loads(Path(args.screening).read_text())
    ledger = count_capture(protocol, _capture(args, protocol), _read_jsonl(args.records),
                           read_tsv(args.clusters), read_tsv(args.eligibility), screening, _refresh(args))
    atomic_write_text(Path(args.out), dumps_json(ledger))


def cmd_report(args):
    from reprisma.report import build_report

    protocol = _protocol(args)
    capture = _capture(args, protocol)
    counts = json.loads(Path(args.counts).read_text())
    import shlex

    # the command as a replay runs it: a live run's --replay-capture names the capture the LOCK
    # names once the run has published, so a live report and its replay are byte-identical
    argv = list(sys.argv[1:])
    if "--replay-capture" in argv:
        i = argv.index("--replay-capture")
        del argv[i:i + 2]
    command = "python -m reprisma.cli " + shlex.join(argv)
    build_report(protocol, capture, counts, _read_jsonl(args.records), json.loads(Path(args.dedup).read_text()),
                 json.loads(Path(args.screening).read_text()), Path(args.outdir), clusters=read_tsv(args.clusters),
                 eligibility=read_tsv(args.eligibility), command=command)
    print(f"reprisma: report rendered ({Path(args.outdir) / 'report.html'}; published to reports/ when the "
          "whole run succeeds)", file=sys.stderr)


def cmd_verify(args):
    from reprisma.verify import verify

    protocol = _protocol(args)
    ok, lines = verify(protocol, Path(args.snapshot_root), Path(args.counts))
    text = "\n".join(lines) + "\n"
    if args.out:
        atomic_write_text(Path(args.out), text)
    print(text, end="", file=sys.stdout if ok else sys.stderr)
    if not ok:
        raise SystemExit(1)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m reprisma.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def stage(name, func, *opts):
        p = sub.add_parser(name)
        p.add_argument("--protocol", required=True, help="the validated protocol as JSON (results/<id>/protocol.json)")
        p.add_argument("--config-file", default="config/config.yaml", help="where the protocol came from (for messages)")
        p.add_argument("--snapshot-root", default="snapshots")
        p.add_argument("--replay-capture", default=None, metavar="CAPTURE_ID",
                       help="derive from this capture instead of the one the LOCK names (a live run)")
        for opt in opts:
            p.add_argument(f"--{opt}", required=opt not in ("out-optional",))
        p.set_defaults(func=func)
        return p

    p = stage("capture", cmd_capture, "capture-id", "out")
    p.add_argument("--kind", default="live", choices=["live", "example"])
    stage("records", cmd_records, "out")
    stage("refresh", cmd_refresh, "records", "out", "diff")
    stage("dedup", cmd_dedup, "records", "out", "explanations", "maybe", "summary")
    stage("eligibility", cmd_eligibility, "records", "clusters", "refresh", "out")
    stage("screening", cmd_screening, "records", "clusters", "eligibility", "refresh", "out", "conflicts",
          "to-screen-csv", "to-screen-ris")
    stage("counts", cmd_counts, "records", "clusters", "eligibility", "screening", "refresh", "out")
    stage("report", cmd_report, "counts", "records", "dedup", "screening", "clusters", "eligibility", "outdir")
    p = stage("verify", cmd_verify, "counts")
    p.add_argument("--out", default=None)

    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ProtocolError, SnapshotError) as e:
        print(f"reprisma: {e}", file=sys.stderr)
        raise SystemExit(1)
    except ReprismaError as e:  # a stage's own error class carries file and position
        print(f"reprisma: {type(e).__name__}: {e}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
