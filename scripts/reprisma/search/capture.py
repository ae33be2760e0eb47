"""Live capture: run every search of the protocol and write a verified snapshot.

The capture is written into ``snapshots/<protocol>/.partial-<capture-id>/`` and is
crash-consistent: a kill at any moment leaves only things a rerun of the same command either
trusts or discards (and says so).

* A PubMed efetch batch counts as done only once its body has been verified (it holds exactly
  the PMIDs asked for, it is a complete ``<PubmedArticleSet>``, not an error page) and written
  durably (write, fsync, rename), and then recorded in ``.state/<search>.json`` (written the same
  way). A resume re-issues the esearch (WebEnvs expire) and reuses a batch only when its file is
  intact and it covers the same ids at the same retstart and batch size as now; every other
  leftover (``.tmp`` files, unrecorded or mismatched batches after a change of ``batch_size`` or
  of the result set, files of searches no longer in the protocol) is deleted, with a message.
* CT.gov pages are refetched on every attempt (page tokens are not stable across sessions);
  a page token seen twice is a cycle and an error.
* When every search is complete the manifest is written, every file re-hashed, ``.state``
  removed, the directory renamed into place and (unless ``lock=False``) the LOCK pointed at it.
  A rerun that finds the manifest already written, or the capture already in place but not
  locked, verifies it and finishes the job.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import shutil
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import reprisma
from reprisma.errors import ReprismaError
from reprisma.protocol import Protocol, Search, pubmed_query, sha256_json
from reprisma.search.ctgov import CtgovClient, parse_json, study_nct
from reprisma.search.eutils import ESEARCH_MAX, EutilsClient, split_window
from reprisma.search.http import HttpClient, RetryPolicy, ServiceError, env_credentials, progress
from reprisma.snapshot import (LOCK, MANIFEST, SnapshotError, atomic_write_text, check_files, dumps_json, id_list_sha256,
                               load_manifest, protocol_dir, read_lock, sha256_file, write_lock, write_raw)

STATE_DIR = ".state"

LIBRARIES = ("snakemake", "biopython", "requests", "urllib3", "pandas", "rapidfuzz", "jinja2", "jsonschema")


# What E-utilities says when a WebEnv has expired (efetch, esearch with query_key)
HISTORY_EXPIRED = ("Cannot retrieve history data", "Unable to obtain query")


class CaptureError(ReprismaError, RuntimeError):
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


class _State:
    """Per-search resume state: the verified batches, in ``.state/<search>.json``."""

    def __init__(self, capture_dir: Path, sid: str):
        self.path = capture_dir / STATE_DIR / f"{sid}.json"
        self.data = {"batches": {}}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and isinstance(data.get("batches"), dict):
                    self.data = data
            except (ValueError, UnicodeDecodeError):
                progress(f"{sid}: the resume state {self.path} is unreadable; fetching every batch again")

    def save(self):
        atomic_write_text(self.path, dumps_json(self.data))


def _store(capture_dir: Path, relpath: str, body: bytes, endpoint: str, params: dict) -> dict:
    entry = write_raw(capture_dir, relpath, body)
    entry["request"] = {"endpoint": endpoint, "params": params}
    return entry


def _discard_leftovers(capture_dir: Path, sid: str, keep: set[str]) -> None:
    """Delete files of ``raw/<sid>/`` that this attempt did not write or verify."""
    sdir = capture_dir / "raw" / sid
    if not sdir.exists():
        return
    gone = [p for p in sorted(sdir.rglob("*")) if p.is_file() and p.relative_to(capture_dir).as_posix() not in keep]
    for p in gone:
        p.unlink()
    if gone:
        progress(f"{sid}: discarded {len(gone)} file(s) an earlier attempt left that no longer fit "
                 f"(first: {gone[0].name})")


def _discard_tmp(partial: Path) -> None:
    tmps = sorted(p for p in partial.rglob(".*.tmp") if p.is_file())
    for p in tmps:
        p.unlink()
    if tmps:
        progress(f"resuming {partial.name}: discarded {len(tmps)} half-written file(s) of an interrupted attempt")


def _record_batch(state: "_State", rel: str, entry: dict, batch_size: int, want: list[str]) -> None:
    """Durable and verified: only now does a batch count as done (a resume trusts it)."""
    state.data["batches"][rel] = {"retmax": batch_size, "ids_sha256": id_list_sha256(want),
                                  "size": entry["size"], "sha256": entry["sha256"],
                                  "body_size": entry["body_size"], "body_sha256": entry["body_sha256"],
                                  "params": entry["request"]["params"]}
    state.save()


def _verified_entry(rel: str, done: dict, want: list[str]) -> dict:
    """The manifest entry of a batch an earlier attempt stored and recorded (see _batch_ok)."""
    return {"path": rel, "size": done["size"], "sha256": done["sha256"], "body_size": done["body_size"],
            "body_sha256": done["body_sha256"], "ids": sorted(want),
            "request": {"endpoint": "efetch.fcgi", "params": done["params"]}}


def _batch_ok(capture_dir: Path, rel: str, done: dict | None, retmax: int, want: list[str]) -> bool:
    if not done or done.get("retmax") != retmax or done.get("ids_sha256") != id_list_sha256(want):
        return False
    path = capture_dir / rel
    return path.exists() and path.stat().st_size == done.get("size") and sha256_file(path) == done.get("sha256")


def held_records(snapshot_root: Path, protocol_id: str, predecessor: dict | None) -> tuple[dict, str | None]:
    """What the previous capture holds for an incremental one: PMID -> where its bytes are (the
    capture that stored the file, its path and hashes), and when that capture started."""
    if not predecessor:
        return {}, None
    from reprisma.search.eutils import efetch_pmids

    cid = predecessor["capture_id"]
    directory = protocol_dir(snapshot_root, protocol_id) / cid
    manifest = load_manifest(directory)
    held: dict[str, dict] = {}
    for search in manifest["searches"]:
        if search["source"] != "pubmed":
            continue
        for entry in search["files"]:
            if entry["request"]["endpoint"] != "efetch.fcgi":
                continue
            origin = entry.get("reused_from") or cid
            ids = entry.get("ids")
            if ids is None:  # a capture made before manifests listed each batch's PMIDs
                with gzip.open(directory.parent / origin / entry["path"], "rb") as f:
                    ids = efetch_pmids(f.read())
            ref = {k: entry[k] for k in ("path", "size", "sha256", "body_size", "body_sha256")}
            for pmid in ids:
                held.setdefault(pmid, {"reused_from": origin, **ref})
    return held, manifest["started"]


def _fetch_incremental(search: Search, client: EutilsClient, batch_size: int, capture_dir: Path, state,
                       expected: list[str], held: dict, since: str, esearch_max: int, files: list[dict]):
    """Efetch only the records no earlier capture holds, plus those PubMed modified since it
    ([mdat]); every other record's bytes stay where they are and the manifest points there."""
    sid = search.id
    since_q = since[:10].replace("-", "/")
    mres, sent_m = client.esearch(f'({search.query}) AND ("{since_q}"[mdat] : "3000/12/31"[mdat])',
                                  retmax=esearch_max)
    files.append(_store(capture_dir, f"raw/{sid}/esearch-modified.xml.gz", mres.body, "esearch.fcgi", sent_m))
    modified = set(mres.ids) if mres.count <= esearch_max else set(expected)  # too many: fetch all again
    reuse = {p: held[p] for p in expected if p in held and p not in modified}
    fetch = [p for p in expected if p not in reuse]
    done_before = dict(state.data["batches"])
    made = 0
    for i in range(0, len(fetch), batch_size):
        rel = f"raw/{sid}/efetch-new-{i:06d}.xml.gz"
        want = fetch[i:i + batch_size]
        done = done_before.get(rel)
        if _batch_ok(capture_dir, rel, done, batch_size, want):
            files.append(_verified_entry(rel, done, want))
            continue
        body, sent_f = client.efetch_ids(want)
        made += 1
        entry = _store(capture_dir, rel, body, "efetch.fcgi", sent_f)
        entry["ids"] = sorted(want)
        files.append(entry)
        _record_batch(state, rel, entry, batch_size, want)
        progress(f"{sid}: fetched {min(i + batch_size, len(fetch))}/{len(fetch)} new or modified records")
    by_file: dict[tuple, list[str]] = {}
    for pmid, ref in reuse.items():
        by_file.setdefault((ref["reused_from"], ref["path"]), []).append(pmid)
    for (origin, path), ids in sorted(by_file.items()):
        ref = held[ids[0]]
        files.append({"path": path, "reused_from": origin, "size": ref["size"], "sha256": ref["sha256"],
                      "body_size": ref["body_size"], "body_sha256": ref["body_sha256"], "ids": sorted(ids),
                      "request": {"endpoint": "efetch.fcgi", "params": {"reused": f"records held by capture {origin}"}}})
    full = sum(1 for _ in range(0, len(expected), batch_size))
    progress(f"{sid}: {len(reuse)} records already held, {len(fetch)} fetched ({len(modified & set(held))} "
             f"modified since {since[:10]}); {made} efetch requests instead of {full}")
    return set(expected), {"efetch_made": made, "efetch_full_capture": full, "esearch_modified": 1,
                           "records_reused": len(reuse), "records_fetched": len(fetch),
                           "records_modified": len(modified & set(held))}


def capture_pubmed(search: Search, client: EutilsClient, batch_size: int, capture_dir: Path,
                   esearch_max: int = ESEARCH_MAX, held: dict | None = None, since: str | None = None) -> dict:
    started = utc_now()
    sid = search.id
    state = _State(capture_dir, sid)

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
            try:
                pending[:0] = list(split_window(start, end))
            except ValueError:
                raise CaptureError(
                    f"{sid}: the one-day window {start} alone has {res.count} records, more than PubMed's "
                    f"{esearch_max} esearch limit; narrow the search") from None
        else:
            slices.append(((start, end), res))
    sliced_total = sum(r.count for _, r in slices)
    if sliced_total != top.count:
        raise CaptureError(f"{sid}: date slices add up to {sliced_total} records, PubMed announced {top.count}")

    expected = sorted({i for _, r in slices for i in r.ids})
    if len(expected) != top.count:
        raise CaptureError(f"{sid}: esearch listed {len(expected)} distinct ids, announced Count {top.count}")

    done_before = dict(state.data["batches"])  # each entry is checked again before it is trusted
    received: set[str] = set()
    reused = 0
    requests_note = None
    if held:
        received, requests_note = _fetch_incremental(search, client, batch_size, capture_dir, state, expected,
                                                     held, since, esearch_max, files)
        slices_to_fetch = []
    else:
        slices_to_fetch = slices
    for k, (window, res) in enumerate(slices_to_fetch, 1):
        for retstart in range(0, res.count, batch_size):
            rel = f"raw/{sid}/efetch-{k:03d}-{retstart:06d}.xml.gz"
            want = res.ids[retstart:retstart + batch_size]
            done = done_before.get(rel)
            if _batch_ok(capture_dir, rel, done, batch_size, want):
                files.append(_verified_entry(rel, done, want))
                received.update(want)
                reused += 1
                continue
            try:
                body, sent_f = client.efetch(res.webenv, res.query_key, retstart, batch_size, expect=want)
            except ServiceError as e:
                if not any(m in str(e) for m in HISTORY_EXPIRED):
                    raise
                # The history entry expired: search again; the id list must not have moved.
                again, _ = client.esearch(query_for(window) if len(slices) > 1 else search.query, retmax=esearch_max)
                if id_list_sha256(again.ids) != id_list_sha256(res.ids):
                    raise CaptureError(f"{sid}: PubMed's result changed during the capture; start again") from None
                res.webenv, res.query_key = again.webenv, again.query_key
                body, sent_f = client.efetch(res.webenv, res.query_key, retstart, batch_size, expect=want)
            entry = _store(capture_dir, rel, body, "efetch.fcgi", sent_f)
            entry["request"]["params"] = {k2: v for k2, v in sent_f.items() if k2 != "WebEnv"} | {"WebEnv": "(history)"}
            entry["ids"] = sorted(want)
            files.append(entry)
            _record_batch(state, rel, entry, batch_size, want)
            received.update(want)
            progress(f"{sid}: {len(received)}/{top.count} records")
    if reused:
        progress(f"{sid}: reused {reused} verified batch(es) of an earlier attempt")
    _discard_leftovers(capture_dir, sid, {f["path"] for f in files if "reused_from" not in f})

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
        **({"requests": requests_note} if requests_note else {}),
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
    seen_tokens: set[str] = set()
    while True:
        page += 1
        if total is not None and page > -(-total // page_size) + 1:
            raise CaptureError(f"{sid}: ClinicalTrials.gov is still paging after {page - 1} pages of {page_size} "
                               f"for {total} studies; start again later")
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
        if token in seen_tokens:
            raise CaptureError(f"{sid}: ClinicalTrials.gov sent page {page} a page token it had sent before "
                               f"(a paging cycle); nothing is locked, start again later")
        seen_tokens.add(token)
    if len(set(ncts)) != len(ncts):
        raise CaptureError(f"{sid}: a study came twice across pages ({len(ncts) - len(set(ncts))} repeats)")
    if len(ncts) != total:
        raise CaptureError(f"{sid}: received {len(ncts)} studies, ClinicalTrials.gov announced {total}")
    _discard_leftovers(capture_dir, sid, {f["path"] for f in files})
    return {
        "search_id": sid, "source": "ctgov", "database": "ClinicalTrials.gov", "query": search.query,
        "window": list(search.window), "params": search.params, "query_translation": None,
        "service_warnings": [], "service_errors": [], "data_timestamp": data_timestamp,
        "started": started, "finished": utc_now(), "count_reported": total,
        "records_received": len(ncts), "id_list_sha256": id_list_sha256(ncts), "files": files,
    }


def ratelimit_dir(snapshot_root: Path) -> Path:
    """Where the request budget's slot files are: one per service, shared by every protocol (and,
    through the ``flock``-ed files, every process) that captures into this snapshot folder. NCBI
    counts requests per user, not per review: 50 protocols captured at once still get 3/s (10/s
    with a key) between them. ``REPRISMA_RATELIMIT_DIR`` moves it, e.g. to a folder on the shared
    file system of a cluster, so that jobs on every node draw on one budget."""
    return Path(os.environ.get("REPRISMA_RATELIMIT_DIR") or Path(snapshot_root) / ".ratelimit")


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


def _verify_complete(directory: Path, protocol: Protocol, capture_id: str) -> tuple[dict | None, list[str]]:
    """The manifest of a finished capture and its problems (an empty list: usable as it is)."""
    try:
        manifest = load_manifest(directory)
    except SnapshotError as e:
        return None, [str(e)]
    problems = check_files(directory, manifest)
    if manifest.get("protocol_id") != protocol.id or manifest.get("capture_id") != capture_id:
        problems.append(f"{directory / MANIFEST}: belongs to {manifest.get('protocol_id')}/{manifest.get('capture_id')}")
    if manifest.get("searches_sha256") != protocol.searches_sha256():
        problems.append(f"{directory / MANIFEST}: was captured for other searches than the protocol's now")
    return manifest, problems


def _is_locked(snapshot_root: Path, protocol_id: str, capture_id: str) -> bool:
    lock = protocol_dir(snapshot_root, protocol_id) / LOCK
    try:
        return json.loads(lock.read_text(encoding="utf-8")).get("capture_id") == capture_id
    except (OSError, ValueError, AttributeError):
        return False


def _finish_existing(final: Path, protocol: Protocol, snapshot_root: Path, capture_id: str, lock: bool) -> Path:
    """A capture already in place under this id: lock it if it is complete and not locked yet."""
    if _is_locked(snapshot_root, protocol.id, capture_id):
        raise SnapshotError(f"{final}: a capture with this id exists already; choose another capture_id")
    manifest, problems = _verify_complete(final, protocol, capture_id)
    if problems:
        raise SnapshotError(f"{final}: a capture with this id exists already and cannot be finished: {problems[0]}; "
                            "choose another capture_id")
    if lock:
        write_lock(snapshot_root, protocol.id, capture_id)
        progress(f"{capture_id}: an earlier run had finished this capture but not locked it; verified and locked")
    else:
        progress(f"{capture_id}: complete and verified (not locked)")
    return final


def _publish(partial: Path, final: Path, snapshot_root: Path, protocol: Protocol, capture_id: str,
             lock: bool) -> None:
    manifest, problems = _verify_complete(partial, protocol, capture_id)
    if problems:
        raise CaptureError("capture failed its own verification:\n" + "\n".join(problems))
    shutil.rmtree(partial / STATE_DIR, ignore_errors=True)
    partial.rename(final)
    if lock:
        write_lock(snapshot_root, protocol.id, capture_id)


def capture(protocol: Protocol, snapshot_root: Path, capture_id: str, kind: str = "live",
            slot_dir: Path | None = None, provenance: dict | None = None, *, lock: bool = True,
            policy: RetryPolicy | None = None, incremental: bool = True) -> Path:
    """Run every search, write and verify the snapshot and (``lock=True``) lock it.

    Rerunning the same ``capture_id`` resumes an interrupted capture, or verifies and locks one
    that is complete but unlocked. ``lock=False`` leaves the LOCK alone (a publish step writes
    it). ``policy`` sets retries and deadlines (default: :meth:`RetryPolicy.from_env`).
    Returns the capture directory."""
    pdir = protocol_dir(snapshot_root, protocol.id)
    final = pdir / capture_id
    if final.exists():
        return _finish_existing(final, protocol, Path(snapshot_root), capture_id, lock)
    partial = pdir / f".partial-{capture_id}"
    resuming = partial.exists()
    partial.mkdir(parents=True, exist_ok=True)
    if resuming:
        _discard_tmp(partial)
        if (partial / MANIFEST).exists():
            _, problems = _verify_complete(partial, protocol, capture_id)
            if not problems:
                progress(f"{capture_id}: an earlier run had written and verified everything; finishing it")
                _publish(partial, final, Path(snapshot_root), protocol, capture_id, lock)
                return final
            (partial / MANIFEST).unlink()
            progress(f"{capture_id}: discarded the manifest of an earlier attempt ({problems[0]})")
    creds = env_credentials()
    if not creds["email"] and any(s.source == "pubmed" for s in protocol.searches):
        progress("warning: NCBI_EMAIL is not set; NCBI asks every E-utilities user for a contact "
                 "address (export NCBI_EMAIL=you@example.org)")
    policy = policy or RetryPolicy.from_env()
    services = protocol.config["services"]
    eu, ct = services["eutils"], services["ctgov"]
    slot_dir = Path(slot_dir) if slot_dir else ratelimit_dir(snapshot_root)
    eutils = EutilsClient(eu["base_url"], eu["tool"], creds["email"], creds["api_key"],
                          HttpClient(EutilsClient.rate(creds["api_key"]), slot_dir / "eutils",
                                     service="NCBI", policy=policy))
    ctgov = CtgovClient(ct["base_url"], HttpClient(5.0, slot_dir / "ctgov", service="ClinicalTrials.gov",
                                                   policy=policy))

    predecessor = previous_capture(snapshot_root, protocol.id, capture_id)
    # an incremental capture: PubMed records an earlier capture holds are not fetched again
    held, since = held_records(snapshot_root, protocol.id, predecessor) if incremental else ({}, None)
    started = utc_now()
    entries = []
    for search in protocol.searches:
        progress(f"capturing {search.id} from {search.database}")
        try:
            if search.source == "pubmed":
                entries.append(capture_pubmed(search, eutils, eu["batch_size"], partial, held=held, since=since))
            else:
                entries.append(capture_ctgov(search, ctgov, ct["page_size"], partial))
        except ServiceError as e:
            hint = ("rerun the same command to resume" if "gave up after" in str(e)
                    else "nothing is locked; fix the search or the service address and rerun")
            raise ServiceError(f"{search.id}: {e}; {hint}") from None
    ids = {s.id for s in protocol.searches}
    raw = partial / "raw"
    for stale in sorted(p for p in raw.iterdir() if p.is_dir() and p.name not in ids) if raw.exists() else []:
        shutil.rmtree(stale)
        progress(f"discarded {stale.name}: a search of an earlier attempt that the protocol no longer has")
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
    atomic_write_text(partial / MANIFEST, dumps_json(manifest))
    _publish(partial, final, Path(snapshot_root), protocol, capture_id, lock)
    progress(f"captured {capture_id}: {sum(e['records_received'] for e in entries)} records in {final}"
             + ("" if lock else " (not locked)"))
    return final
