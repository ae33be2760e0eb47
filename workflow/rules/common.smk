import glob
import os
import json
import shlex
import sys
from datetime import datetime, timezone

from reprisma.protocol import ProtocolError, validate_config

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
LIVE = CONFIG["mode"] == "live"
CAPTURE_ID = CONFIG.get("capture_id") or datetime.now(timezone.utc).strftime("live-%Y%m%dT%H%M%SZ")
# every stage command gets the validated protocol, so --config overrides reach all of them
STAGE_ARGS = (f"--config-json {shlex.quote(json.dumps(CONFIG, sort_keys=True))} "
              f"--config-file {shlex.quote(PROTOCOL.source_path)} --snapshot-root {shlex.quote(SNAPSHOTS)}")


def stage(name):
    return f"{shlex.quote(sys.executable)} -m reprisma.cli {name} {STAGE_ARGS}"


def snapshot_inputs(wildcards=None):
    """What replay reads: the LOCK (and, in live mode, the capture that writes it)."""
    if LIVE:
        return [f"{RESULTS}/captures/{CAPTURE_ID}.json"]
    return [f"{SNAPSHOTS}/{PID}/LOCK"]


# human decisions: every TSV in the decisions folder (a new file makes the counts rerun)
DECISION_FILES = sorted(glob.glob(f"{CONFIG['screening']['decisions_dir']}/*.tsv"))

REPORT_FILES = ["report.html", "prisma.svg", "counts.json", "prisma2020.csv", "included.csv", "included.ris"]
SCREENING_FILES = ["screening_conflicts.tsv", "to_screen.csv", "to_screen.ris", "dedup_explanations.tsv", "dedup_maybe.tsv"]
# forced merges and splits; a missing file means none
OVERRIDES = [CONFIG["dedup"]["overrides"]] if os.path.exists(CONFIG["dedup"]["overrides"]) else []


def all_outputs():
    return [f"{REPORTS}/{name}" for name in REPORT_FILES + SCREENING_FILES]
