"""Live capture: run every search of the protocol and write a verified snapshot.

The capture is written into ``snapshots/<protocol>/.partial-<capture-id>/``. Each raw response
is stored as soon as it arrives (atomically), so an interrupted capture resumes from its
finished batches: a rerun with the same capture id re-issues the esearch (WebEnvs expire) and,
when PubMed still returns the same id list, fetches only the batches that are missing. When all
searches are complete and every received id set equals what the service announced, the manifest
is written, the files are re-hashed, the directory is renamed into place and the LOCK is
pointed at it.
"""

from __future__ import annotations

import json
import platform
import shutil
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import reprisma
from reprisma.protocol import Protocol, Search, pubmed_query, sha256_json
from reprisma.search.ctgov import CtgovClient, parse_json, study_nct
from reprisma.search.eutils import ESEARCH_MAX, EutilsClient, efetch_pmids, split_window
from reprisma.search.http import HttpClient, ServiceError, env_credentials, progress
from reprisma.snapshot import (LOCK, MANIFEST, SnapshotError, read_lock, atomic_write_text, check_files, dumps_json,
                               protocol_dir, read_raw, sha256_bytes, sha256_file, write_lock, write_raw)

LIBRARIES = ("snakemake", "biopython", "requests", "urllib3", "pandas", "rapidfuzz", "jinja2", "jsonschema")


# What E-utilities says when a WebEnv has expired (efetch, esearch with query_key)
HISTORY_EXPIRED = ("Cannot retrieve history data", "Unable to obtain query")


class CaptureError(RuntimeError):
    """The services did not deliver what they announced; nothing is locked."""


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def versions() -> dict:
    out = {"reprisma": reprisma.__version__, "python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out


def id_list_sha256(ids) -> str:
    return sha256_bytes("\n".join(sorted(ids)).encode())


class _Progress:
    """Per-search resume state kept in the partial directory."""

    def __init__(self, path: Path):
        self.path = path
        self.data = json.loads(path.read_text()) if path.exists() else {}

    def save(self):
        atomic_write_text(self.path, dumps_json(self.data))


def _file_entry(capture_dir: Path, relpath: str, endpoint: str, params: dict) -> dict:
    path = capture_dir / relpath
    body = read_raw(capture_dir, relpath)
    return {"path": relpath, "size": path.stat().st_size, "sha256": sha256_file(path),
            "body_size": len(body), "body_sha256": sha256_bytes(body),
            "request": {"endpoint": endpoint, "params": params}}


def _store(capture_dir: Path, relpath: str, body: bytes, endpoint: str, params: dict) -> dict:
    entry = write_raw(capture_dir, relpath, body)
    entry["request"] = {"endpoint": endpoint, "params": params}
    return entry


def capture_pubmed(search: Search, client: EutilsClient, batch_size: int, capture_dir: Path,
                   esearch_max: int = ESEARCH_MAX) -> dict:
    started = utc_now()
    sid = search.id
    state = _Progress(capture_dir / "raw" / sid / ".progress.json")
    def query_for(window):
        return pubmed_query(search.spec["term"], search.limits, window)

    files: list[dict] = []
    top, sent = client.esearch(search.query, retmax=esearch_max)
    files.append(_store(capture_dir, f"raw/{sid}/esearch.xml.gz", top.body, "esearch.fcgi", sent))
    progress(f"{sid}: PubMed reports {top.count} records")

    # Date slices below PubMed's 9,999-id esearch ceiling, each with its own history entry.
    slices = [(search.window, top)] if top.count <= esearch_max else []
    pending = [search.window] if top.count > esearch_max else []
    n = 0
    while pending:
        window = pending.pop(0)
        start = window[0] or "1800-01-01"
        end = window[1] or datetime.now(timezone.utc).date().isoformat()
        res, sent_s = client.esearch(query_for((start, end)), retmax=esearch_max)
        n += 1
        files.append(_store(capture_dir, f"raw/{sid}/esearch-slice-{n:03d}.xml.gz", res.body, "esearch.fcgi", sent_s))
        if res.count > esearch_max:
            pending[:0] = list(split_window(start, end))
        else:
            slices.append(((start, end), res))
    sliced_total = sum(r.count for _, r in slices)
    if sliced_total != top.count:
        raise CaptureError(f"{sid}: date slices add up to {sliced_total} records, PubMed announced {top.count}")

    expected = sorted({i for _, r in slices for i in r.ids})
    if len(expected) != top.count:
        raise CaptureError(f"{sid}: esearch listed {len(expected)} distinct ids, announced Count {top.count}")
    fingerprint = id_list_sha256(expected)
    if state.data.get("id_list_sha256") != fingerprint:
        state.data = {"id_list_sha256": fingerprint, "done": {}}
        state.save()

    received: set[str] = set()
    for k, (window, res) in enumerate(slices, 1):
        for retstart in range(0, res.count, batch_size):
            rel = f"raw/{sid}/efetch-{k:03d}-{retstart:06d}.xml.gz"
            done = state.data["done"].get(rel)
            if done and (capture_dir / rel).exists():
                files.append(_file_entry(capture_dir, rel, "efetch.fcgi", done["params"]))
                received.update(done["pmids"])
                continue
            try:
                body, sent_f = client.efetch(res.webenv, res.query_key, retstart, batch_size)
            except ServiceError as e:
                if not any(m in str(e) for m in HISTORY_EXPIRED):
                    raise
                # The history entry expired: search again; the id list must not have moved.
                again, _ = client.esearch(query_for(window) if len(slices) > 1 else search.query, retmax=esearch_max)
                if id_list_sha256(again.ids) != id_list_sha256(res.ids):
                    raise CaptureError(f"{sid}: PubMed's result changed during the capture; start again") from None
                res.webenv, res.query_key = again.webenv, again.query_key
                body, sent_f = client.efetch(res.webenv, res.query_key, retstart, batch_size)
            pmids = efetch_pmids(body)
            entry = _store(capture_dir, rel, body, "efetch.fcgi", sent_f)
            entry["request"]["params"] = {k2: v for k2, v in sent_f.items() if k2 != "WebEnv"} | {"WebEnv": "(history)"}
            files.append(entry)
            state.data["done"][rel] = {"params": entry["request"]["params"], "pmids": pmids}
            state.save()
            received.update(pmids)
            progress(f"{sid}: {len(received)}/{top.count} records")

    missing = sorted(set(expected) - received)
    extra = sorted(received - set(expected))
    if missing or extra:
        raise CaptureError(
            f"{sid}: received {len(received)} records, PubMed announced {top.count}; "
            f"missing {len(missing)} (first: {', '.join(missing[:5]) or '-'}), "
            f"unexpected {len(extra)} (first: {', '.join(extra[:5]) or '-'})")
    return {
        "search_id": sid, "source": "pubmed", "database": "PubMed", "query": search.query,
        "window": list(search.window), "query_translation": top.query_translation,
        "service_warnings": top.warnings, "service_errors": top.errors, "data_timestamp": None,
        "started": started, "finished": utc_now(), "count_reported": top.count,
        "records_received": len(received), "id_list_sha256": id_list_sha256(received),
        "slices": [{"window": list(w), "count": r.count} for w, r in slices] if len(slices) > 1 else [],
        "files": files,
    }


def capture_ctgov(search: Search, client: CtgovClient, page_size: int, capture_dir: Path) -> dict:
    started = utc_now()
    sid = search.id
    files = []
    vbody, vparams = client.version()
    files.append(_store(capture_dir, f"raw/{sid}/version.json.gz", vbody, "version", vparams))
    data_timestamp = parse_json(vbody, "/version").get("dataTimestamp")

    token, page, total, ncts = None, 0, None, []
    while True:
        page += 1
        body, params = client.studies_page(search.params, page_size, token)
        files.append(_store(capture_dir, f"raw/{sid}/studies-{page:05d}.json.gz", body, "studies", params))
        data = parse_json(body, "/studies")
        if total is None:
            if "totalCount" not in data:
                raise CaptureError(f"{sid}: the first /studies page has no totalCount although countTotal=true")
            total = int(data["totalCount"])
            progress(f"{sid}: ClinicalTrials.gov reports {total} studies")
        ncts.extend(study_nct(s) for s in data["studies"])
        token = data.get("nextPageToken")
        progress(f"{sid}: {len(ncts)}/{total} studies")
        if not token:
            break
    if len(set(ncts)) != len(ncts):
        raise CaptureError(f"{sid}: a study came twice across pages ({len(ncts) - len(set(ncts))} repeats)")
    if len(ncts) != total:
        raise CaptureError(f"{sid}: received {len(ncts)} studies, ClinicalTrials.gov announced {total}")
    return {
        "search_id": sid, "source": "ctgov", "database": "ClinicalTrials.gov", "query": search.query,
        "window": list(search.window), "params": search.params, "query_translation": None,
        "service_warnings": [], "service_errors": [], "data_timestamp": data_timestamp,
        "started": started, "finished": utc_now(), "count_reported": total,
        "records_received": len(ncts), "id_list_sha256": id_list_sha256(ncts), "files": files,
    }


def previous_capture(snapshot_root: Path, protocol_id: str, capture_id: str) -> dict | None:
    """The capture a new one follows in the protocol's history: the one the LOCK names (its id and
    manifest hash), unless that is the capture being replaced or it no longer exists."""
    pdir = protocol_dir(snapshot_root, protocol_id)
    if not (pdir / LOCK).exists():
        return None
    lock = read_lock(snapshot_root, protocol_id)
    if lock["capture_id"] == capture_id or not (pdir / lock["capture_id"] / MANIFEST).exists():
        return None
    return {"capture_id": lock["capture_id"], "manifest_sha256": lock["manifest_sha256"]}


def capture(protocol: Protocol, snapshot_root: Path, capture_id: str, kind: str = "live",
            slot_dir: Path | None = None, provenance: dict | None = None, lock: bool = True) -> Path:
    """Run every search, write and verify the snapshot, lock it (``lock=False``: leave the LOCK to
    the workflow's publish step, which moves it with the reports once every stage has succeeded).
    Returns the capture directory."""
    pdir = protocol_dir(snapshot_root, protocol.id)
    final = pdir / capture_id
    if final.exists():
        raise SnapshotError(f"{final}: a capture with this id exists already; choose another capture_id")
    partial = pdir / f".partial-{capture_id}"
    partial.mkdir(parents=True, exist_ok=True)
    creds = env_credentials()
    services = protocol.config["services"]
    eu, ct = services["eutils"], services["ctgov"]
    slot_dir = Path(slot_dir) if slot_dir else pdir / ".ratelimit"
    eutils = EutilsClient(eu["base_url"], eu["tool"], creds["email"], creds["api_key"],
                          HttpClient(EutilsClient.rate(creds["api_key"]), slot_dir / "eutils"))
    ctgov = CtgovClient(ct["base_url"], HttpClient(5.0, slot_dir / "ctgov"))

    predecessor = previous_capture(snapshot_root, protocol.id, capture_id)
    started = utc_now()
    entries = []
    for search in protocol.searches:
        progress(f"capturing {search.id} from {search.database}")
        if search.source == "pubmed":
            entries.append(capture_pubmed(search, eutils, eu["batch_size"], partial))
        else:
            entries.append(capture_ctgov(search, ctgov, ct["page_size"], partial))
    manifest = {
        "format": 1,
        "protocol_id": protocol.id,
        "protocol_file": protocol.source_path,
        "searches_sha256": protocol.searches_sha256(),
        "protocol_sha256": sha256_json(protocol.config["searches"]),
        "capture": kind,
        "capture_id": capture_id,
        # the capture history: the capture the LOCK named when this one started (None: the first)
        "previous_capture": predecessor,
        "started": started,
        "finished": utc_now(),
        "services": {"eutils": {"base_url": eu["base_url"], "tool": eu["tool"],
                                "email_given": bool(creds["email"]), "api_key_given": bool(creds["api_key"])},
                     "ctgov": {"base_url": ct["base_url"]}},
        "versions": versions(),
        "searches": entries,
    }
    if provenance:
        manifest["provenance"] = provenance
    for p in partial.rglob(".progress.json"):
        p.unlink()
    atomic_write_text(partial / MANIFEST, dumps_json(manifest))
    problems = check_files(partial, manifest)
    if problems:
        raise CaptureError("capture failed its own verification:\n" + "\n".join(problems))
    partial.rename(final)
    if lock:
        write_lock(snapshot_root, protocol.id, capture_id)
    shutil.rmtree(slot_dir, ignore_errors=True)
    progress(f"captured {capture_id}: {sum(e['records_received'] for e in entries)} records in {final}")
    return final
