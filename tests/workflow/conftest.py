"""Helpers for running the real workflow (Snakemake in a subprocess) in a scratch project."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

SOCKET_BLOCKER = '''
import socket

def _refuse(*args, **kwargs):
    raise OSError("reprisma test: network access attempted during replay")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
'''


def run_snakemake(workdir: Path, *args: str, block_sockets: bool = False, check: bool = True,
                  pythonpath: Path | None = None):
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    if block_sockets:
        blocker = workdir / ".socket-blocker"
        blocker.mkdir(exist_ok=True)
        (blocker / "sitecustomize.py").write_text(SOCKET_BLOCKER)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(blocker), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(PROJECT / "workflow" / "Snakefile"), "--cores", "1",
           "--directory", str(workdir), *args]
    out = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise AssertionError(f"snakemake failed ({out.returncode}):\n{out.stdout[-4000:]}\n{out.stderr[-6000:]}")
    return out


@pytest.fixture
def scratch_project(tmp_path) -> Path:
    """A working directory with the project's config (and nothing captured yet)."""
    work = tmp_path / "project"
    (work / "config").mkdir(parents=True)
    for name in ("config.yaml", "greenway2020.yaml"):
        shutil.copy(PROJECT / "config" / name, work / "config" / name)
    return work


@pytest.fixture
def example_project(tmp_path) -> Path:
    """A working directory holding a copy of the shipped example snapshot and committed reports."""
    work = tmp_path / "example"
    work.mkdir()
    shutil.copytree(PROJECT / "config", work / "config")
    shutil.copytree(PROJECT / "snapshots", work / "snapshots")
    shutil.copytree(PROJECT / "reports", work / "reports")
    return work


def stages_in_process(work: Path, protocol_file: str = "config/config.yaml") -> dict:
    """Every stage on a scratch project in this process, without Snakemake: what the workflow
    derives (``reprisma.pipeline.derive_all``, the composition verify uses) and the files it
    publishes to ``reports/`` (the report stage's files, the conflicts table and the list of what
    is left to screen). For tests of counts and report content; the true end-to-end runs
    (tests/workflow/test_example_replay.py, test_live_then_replay.py, test_reports_publish.py)
    check that the workflow's rules chain the same stages. Returns derive_all's result."""
    import contextlib

    from reprisma.pipeline import derive_all
    from reprisma.protocol import load_protocol
    from reprisma.replay import open_capture
    from reprisma.report import build_report
    from reprisma.screen.interchange import export_for_screening
    from reprisma.snapshot import atomic_write_text
    from reprisma.textfile import tsv_text

    with contextlib.chdir(work):  # the protocol's paths are relative to the project folder
        protocol = load_protocol(Path(protocol_file))
        capture = open_capture(protocol, Path(protocol.config["snapshot_dir"]))
        d = derive_all(protocol, capture)
        reports = Path(protocol.config["reports_dir"])
        build_report(protocol, capture, d["counts"], d["records"], d["dedup"], d["screening"], reports,
                     clusters=d["clusters"], eligibility=d["eligibility"], command="tests: stages_in_process")
        conflicts = d["conflicts"]
        atomic_write_text(reports / "screening_conflicts.tsv",
                          tsv_text(conflicts.to_dict("records"), list(conflicts.columns)))
        export_for_screening(d["records"], d["ranking"], csv_path=reports / "to_screen.csv",
                             ris_path=reports / "to_screen.ris")
    return d
