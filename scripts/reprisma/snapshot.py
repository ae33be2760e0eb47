"""The snapshot: raw responses exactly as the services sent them, a manifest, and a LOCK.

Layout::

    snapshots/<protocol-id>/LOCK                      {"capture_id": ..., "manifest_sha256": ...}
    snapshots/<protocol-id>/<capture-id>/manifest.json
    snapshots/<protocol-id>/<capture-id>/raw/<search-id>/<name>.gz
    snapshots/<protocol-id>/ledgers/<capture-id>.json   the ledger each round published (counts.json)

Raw files are gzip with mtime 0 and no file name, so the same bytes always give the same file.
A capture is built in ``.partial-<capture-id>/`` beside its final place and renamed into place
only when complete and verified.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

from reprisma.errors import ReprismaError

MANIFEST = "manifest.json"
_UMASK = os.umask(0)
os.umask(_UMASK)
LOCK = "LOCK"


class SnapshotError(ReprismaError, RuntimeError):
    """A snapshot that is missing, incomplete or does not match its manifest."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def id_list_sha256(ids) -> str:
    """The hash of a search's id list as the manifest records it (sorted, one id per line)."""
    return sha256_bytes("\n".join(sorted(ids)).encode())


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip: fixed mtime, no file name, fixed level."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return buf.getvalue()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the mode open() would
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def dumps_json(obj) -> str:
    """The one JSON style for files people diff: sorted keys, two-space indent, final newline."""
    return json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_raw(capture_dir: Path, relpath: str, body: bytes) -> dict:
    """Store one raw response (gzipped) and return its manifest entry."""
    stored = gzip_bytes(body)
    atomic_write_bytes(capture_dir / relpath, stored)
    return {"path": relpath, "size": len(stored), "sha256": sha256_bytes(stored),
            "body_size": len(body), "body_sha256": sha256_bytes(body)}


def raw_path(capture_dir: Path, entry: dict) -> Path:
    """Where a manifest's file entry is: in the capture itself, or (an incremental capture's entry
    ``reused_from`` an earlier capture of the protocol) in the capture that stored those bytes."""
    capture_dir = Path(capture_dir)
    if entry.get("reused_from"):
        return capture_dir.parent / entry["reused_from"] / entry["path"]
    return capture_dir / entry["path"]


def read_raw(capture_dir: Path, relpath: str) -> bytes:
    with gzip.open(capture_dir / relpath, "rb") as f:
        return f.read()


def protocol_dir(snapshot_root: Path, protocol_id: str) -> Path:
    return Path(snapshot_root) / protocol_id


def read_lock(snapshot_root: Path, protocol_id: str) -> dict:
    lock = protocol_dir(snapshot_root, protocol_id) / LOCK
    if not lock.exists():
        raise SnapshotError(
            f"{lock}: no LOCK: nothing to replay for protocol {protocol_id!r}. "
            "Capture one with `make refresh` (needs network) or restore the committed snapshot.")
    try:
        data = json.loads(lock.read_text())
        return {"capture_id": data["capture_id"], "manifest_sha256": data["manifest_sha256"]}
    except (ValueError, KeyError, TypeError) as e:
        raise SnapshotError(f"{lock}: unreadable LOCK ({e})") from None


def write_lock(snapshot_root: Path, protocol_id: str, capture_id: str) -> dict:
    pdir = protocol_dir(snapshot_root, protocol_id)
    lock = {"capture_id": capture_id,
            "manifest_sha256": sha256_file(pdir / capture_id / MANIFEST)}
    atomic_write_text(pdir / LOCK, dumps_json(lock))
    return lock


def ledger_path(snapshot_root: Path, protocol_id: str, capture_id: str) -> Path:
    """Where a round's published ledger is kept: the next round's "previous version" numbers."""
    return protocol_dir(snapshot_root, protocol_id) / "ledgers" / f"{capture_id}.json"


def write_round_ledger(snapshot_root: Path, protocol_id: str, ledger: bytes) -> Path:
    """Keep a published ledger (counts.json bytes) as its round's, unless it is already there."""
    path = ledger_path(snapshot_root, protocol_id, json.loads(ledger)["capture"]["capture_id"])
    if not path.exists() or path.read_bytes() != ledger:
        atomic_write_bytes(path, ledger)
    return path


def load_manifest(capture_dir: Path) -> dict:
    path = Path(capture_dir) / MANIFEST
    if not path.exists():
        raise SnapshotError(f"{path}: manifest missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise SnapshotError(f"{path}:{e.lineno}:{e.colno}: manifest is not valid JSON: {e.msg}") from None


def check_files(capture_dir: Path, manifest: dict) -> list[str]:
    """Re-hash every raw file the manifest lists; one line per problem (empty = all good)."""
    problems = []
    listed = set()
    for search in manifest.get("searches", []):
        for entry in search.get("files", []):
            path = raw_path(capture_dir, entry)
            if "reused_from" not in entry:
                listed.add(entry["path"])
            if not path.exists():
                problems.append(f"{path}: listed in the manifest but missing")
                continue
            size = path.stat().st_size
            digest = sha256_file(path)
            if size != entry["size"] or digest != entry["sha256"]:
                problems.append(
                    f"{path}: content changed (manifest: {entry['size']} bytes sha256 {entry['sha256'][:12]}…, "
                    f"now: {size} bytes sha256 {digest[:12]}…)")
    raw_dir = Path(capture_dir) / "raw"
    if raw_dir.exists():
        for path in sorted(raw_dir.rglob("*")):
            rel = path.relative_to(capture_dir).as_posix()
            if path.is_file() and rel not in listed:
                problems.append(f"{path}: file not listed in the manifest")
    return problems
