"""The workflow passes Snakemake's own linter (replay and live mode) and snakefmt's formatting
check, and config/README.md documents every key of the protocol schema."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.workflow.conftest import PROJECT, run_snakemake


def test_snakemake_lint_is_clean_in_replay_mode(scratch_project):
    out = run_snakemake(scratch_project, "--lint", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Congratulations, your workflow is in a good condition!" in out.stdout + out.stderr


def test_snakemake_lint_is_clean_in_live_mode(scratch_project):
    # a fixed capture id: linting must not start a refresh (no pending id is written)
    out = run_snakemake(scratch_project, "--lint", "--config", "mode=live", "capture_id=lint-check", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Congratulations, your workflow is in a good condition!" in out.stdout + out.stderr
    assert "rule capture" not in out.stdout + out.stderr  # the live-only rule was linted without lints
    assert not list(scratch_project.glob("results/*/live_capture_id"))


def test_snakefmt_check_is_clean():
    snakefmt = Path(sys.executable).with_name("snakefmt")
    out = subprocess.run([str(snakefmt), "--check", "workflow"], cwd=PROJECT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def _schema_keys(schema, prefix=""):
    """Every property of the protocol schema as a dotted path (array items as `key[]`)."""
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        yield path
        if not isinstance(sub, dict):
            continue
        yield from _schema_keys(sub, path + ".")
        items = sub.get("items")
        if isinstance(items, dict):
            yield from _schema_keys(items, path + "[].")
            for part in items.get("allOf", []):
                yield from _schema_keys(part.get("then", {}), path + "[].")


def test_config_readme_documents_every_protocol_key():
    schema = yaml.safe_load((PROJECT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    readme = (PROJECT / "config" / "README.md").read_text()
    assert "`assumptions:`" in readme  # every section's assumptions, described once
    # the first cell of every table row: the keys it documents
    cells = [line.split("|")[1] for line in readme.splitlines() if line.startswith("| `")]
    missing = []
    for key in sorted(set(_schema_keys(schema))):
        parts = [part.removesuffix("[]") for part in key.split(".")]
        if parts[-1] == "assumptions" or parts[0] == "inherits" and len(parts) > 1:
            continue  # described once in the text; written by the loader
        # documented: a row's keys name the top-level key and every part of the path
        if not any(f"`{parts[0]}" in cell and all(re.search(rf"\b{re.escape(part)}\b", cell)
                                                               for part in parts) for cell in cells):
            missing.append(key)
    assert not missing, f"config/README.md does not document: {missing}"
