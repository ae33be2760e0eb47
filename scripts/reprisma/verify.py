"""verify: re-hash the snapshot, re-derive every count, compare with the manifest and the ledger.

Unlike replay, verify does not stop at the first problem: it collects every disagreement and
prints them as a readable diff (one line per path), so an auditor sees all that moved at once.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from reprisma.protocol import Protocol
from reprisma.snapshot import SnapshotError, check_files, id_list_sha256, load_manifest, read_lock, sha256_file


def flatten(obj, prefix="") -> dict:
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            key = v.get("search_id") or v.get("name") or v.get("key") if isinstance(v, dict) else None
            out.update(flatten(v, f"{prefix}[{key if key else i}]"))
    else:
        out[prefix] = obj
    return out


def diff_ledgers(committed: dict, derived: dict) -> list[str]:
    a, b = flatten(committed), flatten(derived)
    lines = []
    for key in sorted(set(a) | set(b)):
        if key not in a:
            lines.append(f"  + {key}: {b[key]!r} (derived, not in committed ledger)")
        elif key not in b:
            lines.append(f"  - {key}: {a[key]!r} (committed, no longer derived)")
        elif a[key] != b[key]:
            lines.append(f"  ~ {key}: committed {a[key]!r}, derived {b[key]!r}")
    return lines


def verify(protocol: Protocol, snapshot_root: Path, counts_path: Path) -> tuple[bool, list[str]]:
    from reprisma.pipeline import derive_all
    from reprisma.replay import Capture, capture_history, capture_records

    problems: list[str] = []
    lines = [f"verify {protocol.id}"]
    try:
        lock = read_lock(snapshot_root, protocol.id)
    except SnapshotError as e:
        return False, lines + [f"FAIL {e}"]
    directory = Path(snapshot_root) / protocol.id / lock["capture_id"]
    try:
        manifest = load_manifest(directory)
    except SnapshotError as e:
        return False, lines + [f"FAIL {e}"]
    digest = sha256_file(directory / "manifest.json")
    lines.append(f"capture {lock['capture_id']} ({manifest.get('capture')}), manifest sha256 {digest}")
    if digest != lock["manifest_sha256"]:
        problems.append(f"{directory / 'manifest.json'}: manifest edited after it was locked "
                        f"(LOCK {lock['manifest_sha256'][:12]}…, file {digest[:12]}…)")
    if manifest.get("searches_sha256") != protocol.searches_sha256():
        problems.append(f"{protocol.source_path}: the searches no longer match the capture (query, limit or window changed)")
    file_problems = check_files(directory, manifest)
    problems.extend(file_problems)
    n_files = sum(len(s["files"]) for s in manifest["searches"])
    lines.append(f"raw files re-hashed: {n_files}, mismatches: {len(file_problems)}")
    # every earlier capture of the history: its manifest is the one the next capture recorded,
    # and its raw files still match it
    try:
        history = capture_history(snapshot_root, protocol.id, Capture(directory, manifest, digest))
    except SnapshotError as e:
        problems.append(f"capture history: {e}")
        history = []
    for earlier in history:
        n = sum(len(s["files"]) for s in earlier.manifest["searches"])
        lines.append(f"earlier capture {earlier.manifest['capture_id']}: manifest and {n} raw files re-hashed, agree")

    try:
        records = capture_records(Capture(directory, manifest, digest))
    except Exception as e:  # a raw file that no longer parses is a finding, not a crash
        problems.append(f"records: {type(e).__name__}: {e}")
        records = None
    if records is not None:
        per_search = Counter(s for r in records for s in r["search_ids"])
        for s in manifest["searches"]:
            got = per_search.get(s["search_id"], 0)
            if got != s["records_received"]:
                problems.append(f"{directory / 'manifest.json'}: search {s['search_id']}: manifest says "
                                f"{s['records_received']} records received, raw files hold {got}")
            if s["records_received"] != s["count_reported"]:
                problems.append(f"{directory / 'manifest.json'}: search {s['search_id']}: "
                                f"{s['records_received']} received but the service announced {s['count_reported']}")
            ids = sorted(r["record_id"].split(":", 1)[1] for r in records if s["search_id"] in r["search_ids"])
            if id_list_sha256(ids) != s.get("id_list_sha256"):
                problems.append(f"{directory / 'manifest.json'}: search {s['search_id']}: id list hash differs "
                                "from the records in the raw files")
        lines.append(f"records re-parsed: {len(records)}")

    if records is not None and not problems:
        derived = derive_all(protocol, Capture(directory, manifest, digest))["counts"]
        if not counts_path.exists():
            problems.append(f"{counts_path}: no committed ledger to compare with")
        else:
            committed = json.loads(counts_path.read_text())
            delta = diff_ledgers(committed, derived)
            if delta:
                problems.append(f"{counts_path}: differs from the counts re-derived from the snapshot:")
                problems.extend(delta)
            else:
                lines.append(f"counts re-derived: identical to {counts_path}")
    if problems:
        return False, lines + ["FAIL"] + problems
    return True, lines + ["OK: snapshot, manifest and counts agree"]
