import os
import json
import shlex
import sys
from datetime import datetime, timezone

from reprisma import code_fingerprint
from reprisma.pipeline import decision_files
from reprisma.protocol import ProtocolError, validate_config
from reprisma.snapshot import atomic_write_bytes, atomic_write_text

try:
    PROTOCOL = validate_config(config, workflow.configfiles[0] if workflow.configfiles else "config/config.yaml")
except ProtocolError as e:
    sys.stderr.write(f"reprisma: {e}\n")
    sys.exit(2)

CONFIG = PROTOCOL.config
PID = PROTOCOL.id
SNAPSHOTS = CONFIG["snapshot_dir"]
RESULTS = f"{CONFIG['results_dir']}/{PID}"
REPORTS = CONFIG["reports_dir"]
# The stages write their report files here; rule publish copies them to REPORTS only once every
# stage has succeeded, so a failed run (bad input) leaves the committed reports/ as they were.
STAGED = f"{RESULTS}/reports"
LIVE = CONFIG["mode"] == "live"
CAPTURE_ID = CONFIG.get("capture_id") or datetime.now(timezone.utc).strftime("live-%Y%m%dT%H%M%SZ")
# Every stage reads the validated protocol from one file, so --config overrides reach all of them
# and a changed protocol makes the stages that read it run again. Rewritten only when it changes.
PROTOCOL_JSON = f"{RESULTS}/protocol.json"
_protocol_text = json.dumps(CONFIG, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
if not os.path.exists(PROTOCOL_JSON) or open(PROTOCOL_JSON, encoding="utf-8").read() != _protocol_text:
    atomic_write_text(PROTOCOL_JSON, _protocol_text)
STAGE_ARGS = (f"--protocol {shlex.quote(PROTOCOL_JSON)} --config-file {shlex.quote(PROTOCOL.source_path)} "
              f"--snapshot-root {shlex.quote(SNAPSHOTS)}")


# The package's code as one hash: a parameter of every derived stage, so new code reruns them
# (a live capture is never rerun for it: it is a new search, made only when asked for).
CODE = code_fingerprint()


def stage(name):
    return f"{shlex.quote(sys.executable)} -m reprisma.cli {name} {STAGE_ARGS}"


def snapshot_inputs(wildcards=None):
    """What replay reads: the protocol and the LOCK (in live mode, the capture that writes it)."""
    if LIVE:
        return [PROTOCOL_JSON, f"{RESULTS}/captures/{CAPTURE_ID}.json"]
    return [PROTOCOL_JSON, f"{SNAPSHOTS}/{PID}/LOCK"]


# human decisions: every TSV in the decisions folder (a new file makes the counts rerun); the same
# list the screening stage reads (hidden files such as macOS's ._name.tsv are skipped by both)
DECISION_FILES = [str(p) for p in decision_files(PROTOCOL)]

# the files the report stage writes (reprisma.report.REPORT_FILES; tests/report checks they agree)
REPORT_FILES = ["report.html", "prisma.svg", "prisma.png", "prisma.pdf", "counts.json", "prisma2020.csv",
                "search_appendix.md", "included.csv", "included.ris"] + [
    f"records/{name}.csv" for name in ("identified", "duplicates_removed", "removed_by_automation",
                                       "removed_other_reasons", "screened", "excluded_title_abstract",
                                       "awaiting_title_abstract", "sought", "not_retrieved", "assessed",
                                       "excluded_full_text", "awaiting_full_text", "included")]
SCREENING_FILES = ["screening_conflicts.tsv", "to_screen.csv", "to_screen.ris", "dedup_explanations.tsv", "dedup_maybe.tsv"]
# forced merges and splits; a missing file means none
OVERRIDES = [CONFIG["dedup"]["overrides"]] if os.path.exists(CONFIG["dedup"]["overrides"]) else []


def all_outputs():
    return [f"{REPORTS}/{name}" for name in REPORT_FILES + SCREENING_FILES]


def publish_reports(sources, targets):
    """Copy the staged report files to reports/ (same order), each replaced atomically, all read first."""
    data = [open(src, "rb").read() for src in sources]
    for target, body in zip(targets, data):
        atomic_write_bytes(target, body)
