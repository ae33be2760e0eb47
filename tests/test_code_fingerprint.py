"""reprisma.code_fingerprint: what makes the workflow's derived stages rerun."""

import shutil
from pathlib import Path

from reprisma import code_fingerprint

REPO = Path(__file__).resolve().parents[1]


def test_fingerprint_covers_the_package_and_the_schemas(tmp_path):
    package = tmp_path / "reprisma"
    schemas = tmp_path / "schemas"
    shutil.copytree(REPO / "scripts" / "reprisma", package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "workflow" / "schemas", schemas)
    before = code_fingerprint(package, schemas)
    assert before == code_fingerprint(package, schemas)  # deterministic
    assert code_fingerprint() == code_fingerprint(REPO / "scripts" / "reprisma", REPO / "workflow" / "schemas")
    # a schema change (e.g. a new decision value) is a code change
    decisions = schemas / "decisions.schema.json"
    decisions.write_text(decisions.read_text().replace('"maybe"', '"maybe", "later"'))
    after_schema = code_fingerprint(package, schemas)
    assert after_schema != before
    (package / "textfile.py").write_text((package / "textfile.py").read_text() + "\n# a comment\n")
    after_code = code_fingerprint(package, schemas)
    assert after_code != after_schema
    # compiled files do not count
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert code_fingerprint(package, schemas) == after_code
