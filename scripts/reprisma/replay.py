"""Replay: open the locked capture, check it, and parse its raw responses into records.

Replay never opens a socket: everything comes from the files the manifest lists, each re-hashed
before it is read.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

from reprisma.protocol import Protocol
from reprisma.snapshot import (SnapshotError, check_files, load_manifest, raw_path, read_lock, sha256_file)


@dataclass(frozen=True)
class Capture:
    directory: Path
    manifest: dict
    manifest_sha256: str


def open_capture(protocol: Protocol, snapshot_root: Path, capture_id: str | None = None) -> Capture:
    """The capture the LOCK names (or ``capture_id``, a capture not locked yet: a live run reads
    it before its LOCK moves), checked against the LOCK, the protocol and its own hashes."""
    if capture_id is not None:
        path = Path(snapshot_root) / protocol.id / capture_id / "manifest.json"
        lock = {"capture_id": capture_id, "manifest_sha256": sha256_file(path) if path.exists() else None}
    else:
        lock = read_lock(snapshot_root, protocol.id)
    directory = Path(snapshot_root) / protocol.id / lock["capture_id"]
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise SnapshotError(f"{manifest_path}: capture {lock['capture_id']!r} has no manifest")
    digest = sha256_file(manifest_path)
    if digest != lock["manifest_sha256"]:
        raise SnapshotError(
            f"{manifest_path}: manifest changed since it was locked (LOCK sha256 {lock['manifest_sha256'][:12]}…, "
            f"now {digest[:12]}…)")
    manifest = load_manifest(directory)
    if manifest.get("searches_sha256") != protocol.searches_sha256():
        raise SnapshotError(
            f"{manifest_path}: captured for different searches than {protocol.source_path} now describes "
            "(a query, limit or window changed). Capture again with `make refresh`, or restore the protocol.")
    problems = check_files(directory, manifest)
    if problems:
        raise SnapshotError("snapshot does not match its manifest:\n  " + "\n  ".join(problems))
    return Capture(directory, manifest, digest)


def open_capture_at(snapshot_root: Path, protocol_id: str, capture_id: str,
                    manifest_sha256: str | None = None) -> Capture:
    """Any capture of a protocol's history (not only the locked one), checked against its own
    hashes and, when given, the manifest hash a later capture recorded for it. The protocol may
    have changed since (an update adds searches), so the searches are not compared."""
    directory = Path(snapshot_root) / protocol_id / capture_id
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise SnapshotError(f"{manifest_path}: capture {capture_id!r} of protocol {protocol_id!r} is missing "
                            "(the capture history names it); restore it from version control")
    digest = sha256_file(manifest_path)
    if manifest_sha256 and digest != manifest_sha256:
        raise SnapshotError(f"{manifest_path}: manifest changed since a later capture recorded it "
                            f"(recorded sha256 {manifest_sha256[:12]}…, now {digest[:12]}…)")
    manifest = load_manifest(directory)
    problems = check_files(directory, manifest)
    if problems:
        raise SnapshotError("snapshot does not match its manifest:\n  " + "\n  ".join(problems))
    return Capture(directory, manifest, digest)


def capture_history(snapshot_root: Path, protocol_id: str, capture: Capture) -> list[Capture]:
    """The captures before ``capture``, newest first, following each manifest's
    ``previous_capture`` (a capture made before the history was kept has none)."""
    out: list[Capture] = []
    seen = {capture.manifest.get("capture_id")}
    prev = capture.manifest.get("previous_capture")
    while prev:
        if prev["capture_id"] in seen:
            raise SnapshotError(f"{capture.directory / 'manifest.json'}: the capture history loops at "
                                f"{prev['capture_id']!r}")
        seen.add(prev["capture_id"])
        earlier = open_capture_at(snapshot_root, protocol_id, prev["capture_id"], prev.get("manifest_sha256"))
        out.append(earlier)
        prev = earlier.manifest.get("previous_capture")
    return out


def iter_capture_records(capture: Capture):
    """Every record in the capture's raw responses, one per (raw file, record)."""
    from reprisma.records.ctgov import iter_ctgov_records
    from reprisma.records.pubmed import iter_pubmed_records

    for search in capture.manifest["searches"]:
        sid = [search["search_id"]]
        for entry in search["files"]:
            endpoint = entry["request"]["endpoint"]
            path = raw_path(capture.directory, entry)
            if endpoint == "efetch.fcgi":
                raw_file = (f"{entry['reused_from']}/{entry['path']}" if entry.get("reused_from") else entry["path"])
                wanted = set(entry["ids"]) if entry.get("reused_from") else None
                with gzip.open(path, "rb") as f:
                    for rec in iter_pubmed_records(f, raw_file=raw_file, search_ids=sid):
                        # a file an earlier capture stored holds more than this search returned now
                        if wanted is None or rec["pmid"] in wanted:
                            yield rec
            elif endpoint == "studies":
                with gzip.open(path, "rb") as f:
                    yield from iter_ctgov_records(f, raw_file=entry["path"], search_ids=sid)


def capture_records(capture: Capture) -> list[dict]:
    """The records stage: every record of the capture, one per source record, merged across the
    searches that returned it (``search_ids``), sorted by record id."""
    from reprisma.records import merge_records

    return merge_records(iter_capture_records(capture))
