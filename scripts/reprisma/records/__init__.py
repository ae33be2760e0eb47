"""Records: raw service responses, exactly as a snapshot stores them, parsed into one schema.

Public API::

    iter_pubmed_records(stream_or_path, *, raw_file, search_ids)   # reprisma.records.pubmed
    iter_ctgov_records(stream_or_path, *, raw_file, search_ids)    # reprisma.records.ctgov
    validate_record(record)            # against workflow/schemas/record.schema.json
    merge_records(records) -> list     # one record per record_id, sorted by record_id
    write_records_jsonl(records, path) # merge, validate, write atomically
    read_records_jsonl(path)           # iterate, validating; errors name path:line
    normalise_doi(value)
    RawResponseError, RecordError

``records.jsonl``: one JSON object per line, keys sorted, ``ensure_ascii=False``, records sorted by
``record_id``; byte-identical for the same input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from reprisma.records.errors import RawResponseError, RecordError
from reprisma.records.normalise import normalise_doi
from reprisma.records.schema import fields, new_record, validate_record

__all__ = [
    "RawResponseError", "RecordError", "fields", "new_record", "normalise_doi", "validate_record",
    "merge_records", "records_jsonl_text", "write_records_jsonl", "read_records_jsonl",
    "iter_pubmed_records", "iter_ctgov_records",
]


def __getattr__(name):  # the parsers, imported on first use
    if name == "iter_pubmed_records":
        from reprisma.records.pubmed import iter_pubmed_records
        return iter_pubmed_records
    if name == "iter_ctgov_records":
        from reprisma.records.ctgov import iter_ctgov_records
        return iter_ctgov_records
    raise AttributeError(name)


def merge_records(records: Iterable[dict]) -> list[dict]:
    """One record per ``record_id``, sorted by it.

    The same record parsed from several raw files (or found by several searches) becomes one:
    its fields are those of the copy whose ``raw_file`` sorts first (ties: the first seen), its
    ``search_ids`` the sorted union of all copies'.
    """
    best: dict[str, dict] = {}
    searches: dict[str, set[str]] = {}
    for rec in records:
        rid = rec["record_id"]
        searches.setdefault(rid, set()).update(rec["search_ids"])
        if rid not in best or rec["raw_file"] < best[rid]["raw_file"]:
            best[rid] = rec
    out = []
    for rid in sorted(best):
        rec = dict(best[rid])
        rec["search_ids"] = sorted(searches[rid])
        out.append(rec)
    return out


def records_jsonl_text(records: Iterable[dict]) -> str:
    """The records.jsonl text of ``records`` (merged, validated, sorted)."""
    lines = []
    for rec in merge_records(records):
        validate_record(rec)
        lines.append(json.dumps(rec, sort_keys=True, ensure_ascii=False) + "\n")
    return "".join(lines)


def write_records_jsonl(records: Iterable[dict], path) -> int:
    """Write ``records`` (merged by record_id, validated) to ``path`` atomically; return how many."""
    from reprisma.snapshot import atomic_write_text

    text = records_jsonl_text(records)
    atomic_write_text(Path(path), text)
    return text.count("\n")


def read_records_jsonl(path) -> Iterator[dict]:
    """The records of a records.jsonl, validated; errors say ``<path>:<line>: what``."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            where = f"{path}:{n}"
            if not line.strip():
                raise RecordError(f"{where}: empty line")
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RecordError(f"{where}: column {exc.colno}: not valid JSON ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise RecordError(f"{where}: not a JSON object")
            yield validate_record(rec, where)
