"""Human overrides: ``config/dedup_overrides.tsv`` forces a merge or a split.

Columns (tab-separated, header required): ``action`` (``merge`` | ``split``), ``record_id_a``,
``record_id_b``, ``reason``, ``reviewer``. Each row is validated against
``workflow/schemas/dedup_overrides.schema.json``; problems (bad row, unknown record id, a pair
both merged and split) raise :class:`OverrideError` naming the file and line.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pandas as pd

from reprisma.errors import ReprismaError
from reprisma.paths import SCHEMA_DIR

COLUMNS = ["action", "record_id_a", "record_id_b", "reason", "reviewer"]
SCHEMA_PATH = SCHEMA_DIR / "dedup_overrides.schema.json"

# Kept in step with the schema file (the file is used when present, e.g. in a checkout).
_FALLBACK_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": COLUMNS,
    "properties": {
        "action": {"enum": ["merge", "split"]},
        "record_id_a": {"type": "string", "minLength": 1},
        "record_id_b": {"type": "string", "minLength": 1},
        "reason": {"type": "string", "minLength": 1},
        "reviewer": {"type": "string", "minLength": 1},
    },
}


class OverrideError(ReprismaError, ValueError):
    """An override file or table is invalid."""


def _schema() -> dict:
    if SCHEMA_PATH.exists():
        return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["items"]
    return _FALLBACK_SCHEMA


def load_overrides(path: str | Path) -> pd.DataFrame:
    """Read and validate an overrides TSV. Adds ``file`` and ``line`` columns for messages."""
    return read_pair_table(path, _schema(), OverrideError)


def read_pair_table(path: str | Path, row_schema: dict, error: type[Exception] = OverrideError) -> pd.DataFrame:
    """Read a human-edited table of record pairs (``action``, ``record_id_a``, ``record_id_b``,
    ``reason``, ``reviewer``; header required; blank and ``#`` lines skipped), each row validated
    against ``row_schema`` (JSON Schema); the first problem raises ``error("FILE:LINE: ...")``.
    Shared by the dedup overrides and the study links (:mod:`reprisma.dedup.study_links`)."""
    path = Path(path)
    validator = jsonschema.Draft202012Validator(row_schema)
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if header is None:
            raise error(f"{path}:1: empty file, expected the header row " + "<TAB>".join(COLUMNS))
        header = [h.strip() for h in header]
        if header != COLUMNS:
            raise error(f"{path}:1: header must be {COLUMNS}, got {header}")
        for lineno, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row) or row[0].startswith("#"):
                continue
            if len(row) != len(COLUMNS):
                raise error(f"{path}:{lineno}: expected {len(COLUMNS)} tab-separated columns, got {len(row)}")
            rec = {k: v.strip() for k, v in zip(COLUMNS, row)}
            errors = sorted(validator.iter_errors(rec), key=lambda e: list(e.path))
            if errors:
                e = errors[0]
                where = ".".join(str(p) for p in e.path) or "row"
                raise error(f"{path}:{lineno}: {where}: {e.message}")
            if rec["record_id_a"] == rec["record_id_b"]:
                raise error(f"{path}:{lineno}: record_id_a and record_id_b are the same")
            rows.append({**rec, "file": str(path), "line": lineno})
    return pd.DataFrame(rows, columns=COLUMNS + ["file", "line"])


def check_overrides(overrides: pd.DataFrame, record_ids) -> pd.DataFrame:
    """Validate an overrides table against the records; returns it with ``file``/``line`` filled."""
    ov = overrides.copy()
    for col in COLUMNS:
        if col not in ov.columns:
            raise OverrideError(f"overrides table lacks column {col!r}")
    if "file" not in ov.columns:
        ov["file"] = "<overrides>"
    if "line" not in ov.columns:
        ov["line"] = range(2, len(ov) + 2)
    known = set(record_ids)
    seen: dict[tuple[str, str], tuple[str, str, int]] = {}
    for row in ov.itertuples(index=False):
        where = f"{row.file}:{row.line}"
        if row.action not in ("merge", "split"):
            raise OverrideError(f"{where}: action must be merge or split, got {row.action!r}")
        for col in ("record_id_a", "record_id_b"):
            rid = getattr(row, col)
            if rid not in known:
                raise OverrideError(f"{where}: {col} {rid!r} is not a record id of the records being deduplicated")
        key = tuple(sorted((row.record_id_a, row.record_id_b)))
        if key in seen and seen[key][0] != row.action:
            raise OverrideError(f"{where}: {key[0]} / {key[1]} is both merged and split "
                                f"(see {seen[key][1]}:{seen[key][2]})")
        seen[key] = (row.action, row.file, row.line)
    return ov
