"""The workflow on a real cluster engine: Debian's Slurm (one node on localhost, tests/cluster/
conftest.py) with `--executor slurm --profile workflow/profiles/slurm`, compared byte for byte
with local runs: the shipped example's replay, and a live capture against the emulators."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reprisma.emulator import CtgovEmulator, EutilsEmulator
# the live test serves the same corpus as the local live-then-replay test
from tests.workflow.test_live_then_replay import corpus, services  # noqa: F401 (corpus is a fixture)
from tests.cluster.slurm_cluster import TIMINGS, free_port

pytestmark = pytest.mark.cluster

PROJECT = Path(__file__).resolve().parents[2]
SNAKEFILE = PROJECT / "workflow" / "Snakefile"
PROFILE = PROJECT / "workflow" / "profiles" / "slurm"
# the protocols of the shipped example, in `make run`'s order
PROTOCOLS = ["config/greenway2020.yaml", "config/config.yaml"]
# This test cluster has no accounting database (so no `sacct` and no accounts): job states come
# from squeue (the cluster keeps finished jobs there for MinJobAge=600 s), and with stages of a few
# seconds the first status check comes after 1 s instead of the profile's 10.
TEST_CLUSTER_ARGS = ["--slurm-status-command", "squeue", "--slurm-no-account",
                     "--slurm-init-seconds-before-status-checks", "1"]


def snakemake(workdir: Path, *args: str, cluster=None) -> subprocess.CompletedProcess:
    """One Snakemake run in workdir: under Slurm (the profile, with the test cluster's settings)
    when a cluster is given, else locally as `make run` does (the default profile)."""
    if cluster is not None:
        how = ["--profile", str(PROFILE), *TEST_CLUSTER_ARGS]
        env = cluster.env
    else:
        how = ["--profile", str(PROJECT / "workflow" / "profiles" / "default"), "--cores", "1"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(workdir), *how, *args]
    started = time.monotonic()
    out = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    TIMINGS[f"{'slurm' if cluster else 'local'} {' '.join(args) or 'replay'}"] = time.monotonic() - started
    if out.returncode != 0:
        raise AssertionError(f"snakemake failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-8000:]}"
                             + (f"\n{cluster.logs()}" if cluster else ""))
    return out


def slurm_jobs(cluster) -> dict[str, str]:
    """Every job the cluster knows (finished ones included): id -> state."""
    out = cluster.client("squeue", "--noheader", "--states=all", "--format=%i|%T", check=True)
    return dict(line.split("|", 1) for line in out.stdout.split())


def submitted_jobs(out: subprocess.CompletedProcess) -> list[str]:
    """The Slurm job ids Snakemake reports submitting."""
    return re.findall(r"has been submitted with SLURM jobid (\d+)", out.stdout + out.stderr)


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def copy_project(src: Path, dest: Path, names=("config", "snapshots")) -> Path:
    dest.mkdir(parents=True)
    for name in names:
        shutil.copytree(src / name, dest / name)
    return dest


def test_replay_under_slurm_is_byte_identical_to_the_committed_reports(slurm_cluster, tmp_path):
    """The shipped example replayed from scratch (both protocols, as `make run`) with
    --executor slurm: every file under reports/ equals the committed one (which a local
    `make run` reproduces, CI checks), each protocol's derived stages ran as one Slurm job."""
    work = copy_project(PROJECT, tmp_path / "example")
    before = set(slurm_jobs(slurm_cluster))
    for protocol in PROTOCOLS:
        out = snakemake(work, "--configfile", protocol, cluster=slurm_cluster)
        jobs = submitted_jobs(out)
        # the profile's group: records, dedup, refresh, eligibility, screening, counts and report
        # in one job; publish ran locally
        assert len(jobs) == 1, f"{protocol}: expected one grouped Slurm job, Snakemake submitted {jobs}"
        assert "localrule publish" in out.stdout + out.stderr
    states = {job: state for job, state in slurm_jobs(slurm_cluster).items() if job not in before}
    assert len(states) == 2 and set(states.values()) == {"COMPLETED"}, states
    produced, committed = files_under(work / "reports"), files_under(PROJECT / "reports")
    assert sorted(produced) == sorted(committed)
    different = [name for name in committed if produced[name] != committed[name]]
    assert different == [], f"differ from the committed reports: {different}"




def capture_times(manifest: dict) -> list[str]:
    """The wall-clock times a capture records (its start and end, and each search's)."""
    times = [manifest["started"], manifest["finished"]]
    for search in manifest["searches"]:
        times += [search["started"], search["finished"]]
    return times


def clock_masked(body: bytes, times: list[str], manifest_sha256: str) -> bytes:
    """body with the capture's wall-clock times (ISO 8601, and as digits alone, as a PDF's
    creation date has them) and the manifest's hash (which covers them) replaced by placeholders."""
    for when in sorted(set(times), reverse=True):
        body = body.replace(when.encode(), b"<capture time>")
        body = body.replace(re.sub(r"\D", "", when).encode(), b"<capture time>")
    return body.replace(manifest_sha256.encode(), b"<manifest sha256>")


def published(work: Path) -> dict[str, bytes]:
    """What a run leaves for the reviewer: the snapshot folder and reports/ (not the rate
    limiter's slot files in snapshots/.ratelimit/, which hold when a run last called a service)."""
    files = {f"snapshots/{k}": v for k, v in files_under(work / "snapshots").items() if not k.startswith(".ratelimit/")}
    files.update({f"reports/{k}": v for k, v in files_under(work / "reports").items()})
    return files


def test_live_capture_under_slurm_is_byte_identical_to_a_local_one(slurm_cluster, corpus, tmp_path):
    """A live capture against the emulators with --executor slurm, its capture id left to the
    workflow (fixed once per run in results/<id>/live_capture_id, so the Slurm job captures under
    the id the submitting process waits for), then the same capture locally under that id, each
    against fresh emulators on the same ports (their WebEnv strings count requests): the two
    captures' raw responses are byte-identical, and every other file of the snapshot and the
    reports is too, but for the capture's wall-clock times (and the manifest hash that covers
    them). (That the derived files of a Slurm run equal a local run's exactly is the replay
    test's.)"""
    pid = "greenway2020-update"
    on_slurm = copy_project(PROJECT, tmp_path / "slurm", names=("config",))
    local = copy_project(PROJECT, tmp_path / "local", names=("config",))
    ports = (free_port(), free_port())

    def emulators():
        return (EutilsEmulator(corpus, unknown_language_matches=True, port=ports[0]),
                CtgovEmulator(corpus, port=ports[1]))

    eutils, ctgov = emulators()
    with eutils, ctgov:
        out = snakemake(on_slurm, "--config", "mode=live", services(eutils, ctgov), cluster=slurm_cluster)
    assert len(submitted_jobs(out)) == 1, "capture and the derived stages are one grouped Slurm job"
    capture_id = json.loads((on_slurm / "snapshots" / pid / "LOCK").read_text())["capture_id"]
    assert re.fullmatch(r"live-\d{8}T\d{6}Z", capture_id), capture_id
    assert (on_slurm / "results" / pid / "live_capture_id").read_text().strip() == capture_id
    # one capture, under that id, complete: nothing captured under another id, no partial left
    assert {p.name for p in (on_slurm / "snapshots" / pid).iterdir()} == {"LOCK", capture_id, "ledgers"}
    eutils, ctgov = emulators()
    with eutils, ctgov:
        snakemake(local, "--config", "mode=live", f"capture_id={capture_id}", services(eutils, ctgov))

    slurm_files, local_files = published(on_slurm), published(local)
    assert sorted(slurm_files) == sorted(local_files)
    manifest = f"snapshots/{pid}/{capture_id}/manifest.json"
    slurm_manifest, local_manifest = json.loads(slurm_files[manifest]), json.loads(local_files[manifest])
    assert sum(s["records_received"] for s in slurm_manifest["searches"]) > 0, "the corpus must give the searches something"
    raw = [name for name in slurm_files if "/raw/" in name]
    assert raw and [name for name in raw if slurm_files[name] != local_files[name]] == []
    slurm_masked = {name: clock_masked(body, capture_times(slurm_manifest), hashlib.sha256(slurm_files[manifest]).hexdigest())
                    for name, body in slurm_files.items()}
    local_masked = {name: clock_masked(body, capture_times(local_manifest), hashlib.sha256(local_files[manifest]).hexdigest())
                    for name, body in local_files.items()}
    assert [name for name in slurm_files if slurm_masked[name] != local_masked[name]] == []
    assert [name for name in slurm_files if slurm_masked[name] != slurm_files[name]], "the capture's times are in its files"
