"""A built wheel of reprisma carries its JSON Schemas and report template and works without the
source tree: built offline from a copy of what the build reads, installed with --target, and
imported from a folder outside the checkout with the checkout's own paths taken off sys.path."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import reprisma

PROJECT = Path(__file__).resolve().parents[1]

# run in the installed copy: the checkout is taken off sys.path (the editable install's .pth
# entry or finder), so every file must come from the wheel
PROBE = r'''
import json, os, sys
project, venv = sys.argv[1], os.path.join(sys.argv[1], ".venv")
# the checkout's own folders go (its virtualenv's third-party packages stay)
sys.path[:] = [p for p in sys.path if not p.startswith(project) or p.startswith(venv)]
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]

import reprisma
from reprisma.paths import SCHEMA_DIR
from reprisma.protocol import ProtocolError, load_protocol
from reprisma.records.schema import schema as record_schema
from reprisma.dedup.overrides import SCHEMA_PATH as OVERRIDES_SCHEMA
from reprisma.dedup.study_links import SCHEMA_PATH as STUDY_LINKS_SCHEMA
from reprisma.screen.decisions import _schema as decisions_schema
from reprisma.report.render import _ENV
from snakemake.utils import validate

protocol = load_protocol("config/config.yaml")
validate(json.loads(json.dumps(protocol.config)), str(SCHEMA_DIR / "config.schema.yaml"), set_default=False)
try:
    load_protocol("config/bad.yaml")
    bad = None
except ProtocolError as e:
    bad = str(e)
template = _ENV.get_template("report.html.j2")
print(json.dumps({
    "package": reprisma.__file__,
    "schemas": str(SCHEMA_DIR),
    "overrides_schema": str(OVERRIDES_SCHEMA) if OVERRIDES_SCHEMA.is_file() else None,
    "study_links_schema": str(STUDY_LINKS_SCHEMA) if STUDY_LINKS_SCHEMA.is_file() else None,
    "record_schema_keys": sorted(record_schema()["properties"])[:3],
    "decisions_schema": bool(decisions_schema()),
    "template": template.filename,
    "protocol_id": protocol.id,
    "searches": [s["id"] for s in protocol.config["searches"]],
    "bad": bad,
    "fingerprint": reprisma.code_fingerprint(),
}))
'''


def test_packages_list_every_subpackage():
    listed = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = sorted(".".join(p.parent.relative_to(PROJECT / "scripts").parts)
                   for p in (PROJECT / "scripts" / "reprisma").rglob("__init__.py"))
    assert sorted(listed) == sorted(found + ["reprisma.schemas"])


def test_wheel_works_without_the_source_tree(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(PROJECT / name, src / name)
    shutil.copytree(PROJECT / "scripts" / "reprisma", src / "scripts" / "reprisma",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(PROJECT / "workflow" / "schemas", src / "workflow" / "schemas")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w",
                            str(tmp_path / "dist"), str(src)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("reprisma-*.whl")
    site = tmp_path / "site"
    installed = subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
                               capture_output=True, text=True)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]

    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "config").mkdir(parents=True)
    for name in ("config.yaml", "greenway2020.yaml"):
        shutil.copy(PROJECT / "config" / name, elsewhere / "config" / name)
    good = (elsewhere / "config" / "greenway2020.yaml").read_text()
    assert "      languages:" in good
    (elsewhere / "config" / "bad.yaml").write_text(good.replace("      languages:", "      langauges:", 1))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    probe = subprocess.run([sys.executable, "-c", PROBE, str(PROJECT)], cwd=elsewhere, env=env,
                           capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr[-4000:]
    import json

    seen = json.loads(probe.stdout.splitlines()[-1])
    for key in ("package", "schemas", "overrides_schema", "study_links_schema", "template"):
        assert seen[key] and Path(seen[key]).is_relative_to(site), (key, seen[key])
    assert seen["schemas"] == str(site / "reprisma" / "schemas")
    assert seen["template"] == str(site / "reprisma" / "report" / "templates" / "report.html.j2")
    assert seen["decisions_schema"] and seen["record_schema_keys"]
    assert seen["protocol_id"] == "greenway2020-update"
    assert "psychedelic_drugs" in seen["searches"]
    assert seen["bad"] and "bad.yaml:" in seen["bad"] and "langauges: unknown key" in seen["bad"]
    # the wheel holds every file the checkout's fingerprint covers, byte for byte
    assert seen["fingerprint"] == reprisma.code_fingerprint()
