"""The cluster tests' Slurm: Debian's slurm-wlm and munge (installed by scripts/install_slurm.sh,
as root), and one single-node cluster on localhost for the whole session, stopped at its end
(after a failure too) with every daemon it started."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.cluster.slurm_cluster import MARKER, SYSTEM_CONF, TIMINGS, LocalSlurm, SlurmError, missing_commands

PROJECT = Path(__file__).resolve().parents[2]
INSTALL = PROJECT / "scripts" / "install_slurm.sh"



@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the Slurm tests run slurmctld, slurmd and munged as root (and install Debian's slurm-wlm "
                    "and munge with scripts/install_slurm.sh): run them as root, as CI does")
    started = time.monotonic()
    install = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True)
    TIMINGS["install (scripts/install_slurm.sh)"] = time.monotonic() - started
    if install.returncode != 0:
        pytest.skip(f"scripts/install_slurm.sh failed ({install.returncode}): {install.stderr.strip()[-500:]}")
    missing = missing_commands()
    assert not missing, f"scripts/install_slurm.sh succeeded but these commands are missing: {missing}"
    if SYSTEM_CONF.exists() and not SYSTEM_CONF.read_text(errors="replace").startswith(MARKER):
        pytest.skip(f"{SYSTEM_CONF} belongs to a real Slurm installation on this machine; the test cluster would "
                    "replace it, so it does not start")
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    started = time.monotonic()
    try:
        cluster.start()
    except SlurmError:
        cluster.stop()
        raise
    TIMINGS["daemons start (munged, slurmctld, slurmd; node idle)"] = time.monotonic() - started
    try:
        yield cluster
    finally:
        for job, seconds in cluster.job_durations().items():
            TIMINGS[f"Slurm job {job} (allocated to completed)"] = seconds
        started = time.monotonic()
        cluster.stop()
        TIMINGS["daemons stop"] = time.monotonic() - started
    assert cluster.running() == [], f"daemons still running: {cluster.running()}"
    assert not SYSTEM_CONF.exists(), f"{SYSTEM_CONF} was left behind"


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_sep("-", "slurm cluster timings")
        for what, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{seconds:7.1f} s  {what}")
