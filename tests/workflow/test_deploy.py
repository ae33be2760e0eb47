"""reprisma as a Snakemake module: `snakedeploy deploy-workflow` from the repository into a new
folder, then the replay runs there (offline) and publishes the committed reports byte for byte."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workflow.conftest import PROJECT, SOCKET_BLOCKER

pytestmark = pytest.mark.workflow


def _repository_copy(dest: Path) -> Path:
    """The repository as a clone would hold it: its tracked files and new ones not ignored (no
    virtualenv, no results), as they are in the working tree."""
    listed = subprocess.run(["git", "-C", str(PROJECT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode("utf-8").split("\0")
    for name in filter(None, listed):
        source = PROJECT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def test_deployed_module_replays_the_example(tmp_path):
    repo = _repository_copy(tmp_path / "reprisma")
    deployed = tmp_path / "my-review"
    snakedeploy = Path(sys.executable).with_name("snakedeploy")
    out = subprocess.run([str(snakedeploy), "deploy-workflow", str(repo), str(deployed), "--name", "reprisma",
                          "--branch", "main"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (deployed / "config" / "config.yaml").read_bytes() == (PROJECT / "config" / "config.yaml").read_bytes()
    assert (deployed / "config" / "README.md").is_file() and (deployed / "LICENSE").is_file()
    snakefile = deployed / "workflow" / "Snakefile"
    text = snakefile.read_text()
    assert "module reprisma:" in text and "use rule * from reprisma" in text
    # snakedeploy's provider for a local repository names the module's Snakefile by its path
    # inside the repository ("workflow/Snakefile"), which Snakemake reads relative to the deployed
    # Snakefile; a deployment from GitHub names it with github(...). Point it at the repository.
    assert '"workflow/Snakefile"' in text
    snakefile.write_text(text.replace('"workflow/Snakefile"', f'"{repo / "workflow" / "Snakefile"}"'))

    # the review's data: the locked example snapshot
    shutil.copytree(PROJECT / "snapshots", deployed / "snapshots")
    blocker = tmp_path / "socket-blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(SOCKET_BLOCKER)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(blocker), os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1"], cwd=deployed, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    published = sorted(p.relative_to(deployed / "reports") for p in (deployed / "reports").rglob("*") if p.is_file())
    assert Path("report.html") in published and Path("records/included.csv") in published
    for name in published:
        assert (deployed / "reports" / name).read_bytes() == (PROJECT / "reports" / name).read_bytes(), name
    assert (deployed / "results" / "greenway2020-update" / "logs" / "report.log").is_file()
