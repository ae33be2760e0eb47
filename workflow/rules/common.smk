import copy
import os
import json
import shlex
import sys
from pathlib import Path
from datetime import datetime, timezone

from snakemake.utils import validate

from reprisma import code_fingerprint
from reprisma.screen.stage import decision_files
from reprisma.protocol import ProtocolError, load_protocol
from reprisma.snapshot import atomic_write_bytes, atomic_write_text


def protocol_file():
    """The protocol this run replays: the last --configfile given, else config/config.yaml. It is
    loaded on its own (its `extends:` chain resolved) with only the --config values over it, so
    keys of config/config.yaml never leak into another protocol."""
    given = list(workflow.config_settings.configfiles or [])
    if not given:
        return "config/config.yaml"
    path = Path(given[-1])
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


try:
    PROTOCOL = load_protocol(protocol_file(), overrides=dict(workflow.config_settings.config or {}))
except ProtocolError as e:
    sys.stderr.write(f"reprisma: {e}\n")
    sys.exit(2)

CONFIG = PROTOCOL.config
# Snakemake's own check of the loaded protocol against the same schema (on a copy, defaults not
# filled in); reprisma's loader above already gave any located error, so this one should never
# fire on a protocol that loaded.
validate(copy.deepcopy(CONFIG), "../schemas/config.schema.yaml", set_default=False)
PID = PROTOCOL.id
SNAPSHOTS = CONFIG["snapshot_dir"]
RESULTS = f"{CONFIG['results_dir']}/{PID}"
REPORTS = CONFIG["reports_dir"]
# The stages write their report files here; rule publish copies them to REPORTS only once every
# stage has succeeded, so a failed run (bad input) leaves the committed reports/ as they were.
STAGED = f"{RESULTS}/reports"
LIVE = CONFIG["mode"] == "live"


def live_capture_id():
    """The id of the capture a live run writes, fixed once per refresh: --config capture_id, else
    the unfinished refresh's id (kept in results/<id>/live_capture_id until its capture is
    locked, so every parse of the workflow, and a rerun after a failure, agree on it), else a new
    UTC timestamp."""
    if CONFIG.get("capture_id"):
        return CONFIG["capture_id"]
    pending = Path(RESULTS) / "live_capture_id"
    lock = Path(SNAPSHOTS) / PID / "LOCK"
    locked = json.loads(lock.read_text())["capture_id"] if lock.exists() else None
    if pending.exists():
        cid = pending.read_text(encoding="utf-8").strip()
        if cid and cid != locked:
            return cid
    cid = datetime.now(timezone.utc).strftime("live-%Y%m%dT%H%M%SZ")
    atomic_write_text(pending, f"{cid}\n")
    return cid


CAPTURE_ID = live_capture_id() if LIVE else None
# Every stage reads the validated protocol from one file, so --config overrides reach all of them
# and a changed protocol makes the stages that read it run again. Rewritten only when it changes.
PROTOCOL_JSON = f"{RESULTS}/protocol.json"
_protocol_text = json.dumps(CONFIG, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
if not os.path.exists(PROTOCOL_JSON) or open(PROTOCOL_JSON, encoding="utf-8").read() != _protocol_text:
    atomic_write_text(PROTOCOL_JSON, _protocol_text)
STAGE_ARGS = (
    f"--protocol {shlex.quote(PROTOCOL_JSON)} --config-file {shlex.quote(PROTOCOL.source_path)} "
    f"--snapshot-root {shlex.quote(SNAPSHOTS)}"
)
if LIVE:  # the stages derive from the new capture; its LOCK moves only when the run has succeeded
    STAGE_ARGS += f" --replay-capture {shlex.quote(CAPTURE_ID)}"


# The package's code as one hash: a parameter of every derived stage, so new code reruns them
# (a live capture is never rerun for it: it is a new search, made only when asked for).
CODE = code_fingerprint()


def _stage_python():
    """The interpreter a stage runs: this one (the venv Snakemake runs in), or under
    `--software-deployment-method conda` the rule's environment's `python` (workflow/envs/
    reprisma.yaml), given this reprisma package on PYTHONPATH."""
    methods = {str(m).lower() for m in workflow.deployment_settings.deployment_method}
    if any("conda" in m for m in methods):
        import reprisma

        package_parent = Path(reprisma.__file__).resolve().parent.parent
        return f"env PYTHONPATH={shlex.quote(str(package_parent))} python"
    return shlex.quote(sys.executable)


def stage(name):
    return f"{_stage_python()} -m reprisma.cli {name} {STAGE_ARGS}"


def log_file(name):
    """Where a rule's log goes: results/<id>/logs/<rule>.log. A stage's messages are copied there
    and still printed: every shell rule ends in `2>&1 | tee {log} >&2` (bash's pipefail keeps the
    stage's exit status)."""
    return f"{RESULTS}/logs/{name}.log"


def snapshot_inputs(wildcards=None):
    """What replay reads: the protocol and the LOCK (in live mode, the capture that writes it)."""
    if LIVE:
        return [PROTOCOL_JSON, f"{RESULTS}/captures/{CAPTURE_ID}.json"]
    return [PROTOCOL_JSON, f"{SNAPSHOTS}/{PID}/LOCK"]


# human decisions: every TSV in the decisions folder (a new file makes the counts rerun); the same
# list the screening stage reads (hidden files such as macOS's ._name.tsv are skipped by both)
DECISION_FILES = [str(p) for p in decision_files(PROTOCOL)]

# the files the report stage writes (reprisma.report.REPORT_FILES; tests/report checks they agree)
REPORT_FILES = [
    "report.html",
    "prisma.svg",
    "prisma.png",
    "prisma.pdf",
    "counts.json",
    "prisma2020.csv",
    "search_appendix.md",
    "included.csv",
    "included.ris",
] + [
    f"records/{name}.csv"
    for name in (
        "identified",
        "duplicates_removed",
        "removed_by_automation",
        "removed_other_reasons",
        "screened",
        "excluded_title_abstract",
        "awaiting_title_abstract",
        "sought",
        "not_retrieved",
        "assessed",
        "excluded_full_text",
        "awaiting_full_text",
        "included",
    )
]
SCREENING_FILES = [
    "screening_conflicts.tsv",
    "to_screen.csv",
    "to_screen.ris",
    "dedup_explanations.tsv",
    "dedup_maybe.tsv",
    "refresh_diff.tsv",
]
# forced merges and splits; a missing file means none
OVERRIDES = [CONFIG["dedup"]["overrides"]] if os.path.exists(CONFIG["dedup"]["overrides"]) else []


def current_capture_id():
    """The capture this run derives from: the one a live run writes, else the one the LOCK names."""
    if LIVE:
        return CAPTURE_ID
    lock = Path(SNAPSHOTS) / PID / "LOCK"
    return json.loads(lock.read_text())["capture_id"] if lock.exists() else None


def previous_ledgers(wildcards=None):
    """The ledgers earlier rounds published (snapshots/<id>/ledgers/): a new one makes the refresh
    stage, and so the updated-review counts, run again. The current round's own is left out (it
    is written when this run publishes)."""
    folder = Path(SNAPSHOTS) / PID / "ledgers"
    current = current_capture_id()
    return sorted(str(p) for p in folder.glob("*.json") if p.stem != current) if folder.is_dir() else []


# The published files `snakemake --report` shows, with their captions (workflow/report/) and
# categories; the other published files are in the bundle's record of the run only.
REPORT_CAPTIONS = {
    "report.html": ("report_html.rst", "Report"),
    "prisma.svg": ("prisma_svg.rst", "Flow diagram"),
    "counts.json": ("counts_json.rst", "Counts"),
    "prisma2020.csv": ("prisma2020_csv.rst", "Counts"),
    "search_appendix.md": ("search_appendix.rst", "Searches"),
    "included.csv": ("included_csv.rst", "Records"),
    "to_screen.csv": ("to_screen.rst", "Screening"),
    "screening_conflicts.tsv": ("screening_conflicts.rst", "Screening"),
    "dedup_explanations.tsv": ("dedup.rst", "Deduplication"),
    "dedup_maybe.tsv": ("dedup.rst", "Deduplication"),
    "refresh_diff.tsv": ("refresh_diff.rst", "Refresh"),
}


def published(name):
    """reports/<name>, marked for `snakemake --report` when it has a caption."""
    path = f"{REPORTS}/{name}"
    if name not in REPORT_CAPTIONS:
        return path
    caption, category = REPORT_CAPTIONS[name]
    return report(path, caption=f"../report/{caption}", category=category)


def all_outputs():
    return [f"{REPORTS}/{name}" for name in REPORT_FILES + SCREENING_FILES]


def publish_reports(sources, targets, log=None):
    """Copy the staged report files to reports/ (same order), each replaced atomically, all read
    first; then keep the round's ledger beside its capture (snapshots/<id>/ledgers/<capture>.json),
    where the next round of a living review finds its "previous version" numbers. ``log``: a file
    listing what was published."""
    from reprisma.snapshot import write_round_ledger

    data = [open(src, "rb").read() for src in sources]
    for target, body in zip(targets, data):
        atomic_write_bytes(target, body)
    write_round_ledger(Path(SNAPSHOTS), PID, dict(zip((Path(t).name for t in targets), data))["counts.json"])
    if LIVE:
        # last: the LOCK moves to the new capture only now that every stage succeeded and the
        # reports are published (an interrupted run leaves it on the previous capture)
        from reprisma.snapshot import write_lock

        write_lock(Path(SNAPSHOTS), PID, CAPTURE_ID)
    if log:
        lines = [f"published {target}" for target in targets]
        if LIVE:
            lines.append(f"LOCK of {PID} moved to capture {CAPTURE_ID}")
        atomic_write_text(log, "\n".join(lines) + "\n")
