"""The package's import direction (.importlinter, README "Architecture"): each stage imports only
from the stages below it, and the emulators stand apart. The check runs import-linter on the real
package, and once on a copy with one upward import added, to show that it catches one."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
CONFIG = PROJECT / ".importlinter"


def lint_imports(pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    command = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
               "--config", str(CONFIG), "--no-cache", "--no-logo"]
    return subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)


def test_the_package_keeps_its_import_layers():
    out = lint_imports()
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 kept, 0 broken" in out.stdout


def test_an_upward_import_is_caught(tmp_path):
    copy = tmp_path / "reprisma"
    shutil.copytree(PROJECT / "scripts" / "reprisma", copy, ignore=shutil.ignore_patterns("__pycache__"))
    # the snapshot layer reaching up into the report stage
    with open(copy / "snapshot.py", "a", encoding="utf-8") as f:
        f.write("\nfrom reprisma.report import build_report  # noqa: E402,F401\n")
    out = lint_imports(pythonpath=tmp_path)
    assert out.returncode != 0
    assert "reprisma.snapshot is not allowed to import reprisma.report" in out.stdout
    assert "reprisma.snapshot -> reprisma.report" in out.stdout
