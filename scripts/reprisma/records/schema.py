"""The record shape (workflow/schemas/record.schema.json): every key, lists empty and scalars None."""

from __future__ import annotations

import json
import re
from functools import lru_cache

from reprisma.paths import SCHEMA_DIR
from reprisma.records.errors import RecordError

SCHEMA_PATH = SCHEMA_DIR / "record.schema.json"


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema())


@lru_cache(maxsize=1)
def _empty() -> tuple[tuple[str, object], ...]:
    items = []
    for key, spec in schema()["properties"].items():
        types = spec.get("type")
        items.append((key, [] if types == "array" else None))
    return tuple(items)


def fields() -> list[str]:
    """Every key of a record, in schema order."""
    return [k for k, _ in _empty()]


def new_record(**values) -> dict:
    """A record with every schema key: the given values, [] for other lists, None for the rest."""
    rec = {k: (list(v) if isinstance(v, list) else v) for k, v in _empty()}
    unknown = set(values) - set(rec)
    if unknown:
        raise RecordError(f"not record fields: {', '.join(sorted(unknown))}")
    rec.update(values)
    return rec


# JSON Schema type -> Python types (json.loads gives these); bool is excluded from integer below
_PY_TYPES = {"string": (str,), "array": (list,), "object": (dict,), "null": (type(None),),
             "integer": (int,), "number": (int, float), "boolean": (bool,)}
_KNOWN = {"type", "pattern", "enum", "items", "minItems", "description"}


@lru_cache(maxsize=1)
def _fast_checks():
    """Per-field checks compiled from the schema, for the common case of a valid record.

    jsonschema takes most of a millisecond per record; these take a few microseconds. They cover
    only the keywords the record schema uses: if the schema ever uses another one, this returns
    None and every record goes through jsonschema. A record these reject goes through jsonschema
    too, so jsonschema stays the judge and writes every error message.
    """
    s = schema()
    if set(s) - {"$schema", "$id", "title", "type", "additionalProperties", "required", "properties"} \
            or s.get("type") != "object" or s.get("additionalProperties") is not False \
            or set(s.get("required", [])) - set(s["properties"]):
        return None

    def compile_one(spec):
        if not isinstance(spec, dict) or set(spec) - _KNOWN:
            return None
        types = spec.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if set(types) - set(_PY_TYPES):
            return None
        py_types = tuple({t for name in types for t in _PY_TYPES[name]})
        allow_bool = "boolean" in types
        search = re.compile(spec["pattern"]).search if "pattern" in spec else None
        enum = spec.get("enum")
        items = None
        if "items" in spec:
            items = compile_one(spec["items"])
            if items is None:
                return None
        min_items = spec.get("minItems", 0)

        def check(v):
            if py_types:
                if not isinstance(v, py_types):
                    return False
                if v.__class__ is bool and not allow_bool:
                    return False
            if enum is not None and v not in enum:
                return False
            if search is not None and v.__class__ is str and search(v) is None:
                return False
            if v.__class__ is list:
                if len(v) < min_items:
                    return False
                if items is not None:
                    for x in v:
                        if not items(x):
                            return False
            return True
        return check

    checks = {}
    for key, spec in s["properties"].items():
        c = compile_one(spec)
        if c is None:
            return None
        checks[key] = c
    return checks


def _fast_valid(record) -> bool:
    checks = _fast_checks()
    if checks is None or record.__class__ is not dict or record.keys() != checks.keys():
        return False
    for key, check in checks.items():
        if not check(record[key]):
            return False
    return True


def validate_record(record: dict, where: str = "") -> dict:
    """Check one record against the schema (and that it has every key); return it.

    Raises ``RecordError`` naming the record (and ``where``, e.g. ``records.jsonl:12``), the
    field and what is wrong.
    """
    if _fast_valid(record):
        return record
    prefix = f"{where}: " if where else ""
    rid = record.get("record_id", "?") if isinstance(record, dict) else "?"
    errors = sorted(_validator().iter_errors(record), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        field = "/".join(str(p) for p in e.absolute_path) or "(record)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise RecordError(f"{prefix}record {rid}: {field}: {e.message}{more}")
    missing = [k for k in fields() if k not in record]
    if missing:
        raise RecordError(f"{prefix}record {rid}: missing field(s) {', '.join(missing)}")
    return record
