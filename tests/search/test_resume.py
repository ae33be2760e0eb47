"""Crash-consistent capture state: kill -9 at random points then resume, leftovers, changed batch
sizes, unlocked captures, paging cycles. Real subprocesses, real SIGKILL, real loopback HTTP."""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from search_helpers import make_protocol, protocol_config, served_pmids

from reprisma.emulator import CtgovEmulator, EutilsEmulator, Fault
from reprisma.search.capture import CaptureError, capture
from reprisma.search.http import ServiceError
from reprisma.snapshot import check_files, load_manifest, read_lock

CHILD = Path(__file__).with_name("capture_child.py")
CT_SEARCH = {"intervention": "oxytocin OR pembrolizumab"}


@pytest.fixture(scope="module")
def emulators(corpus):
    with EutilsEmulator(corpus, rate_limit=True) as eu, \
            CtgovEmulator(corpus, data_timestamp="2026-08-11T00:00:00") as ct:
        yield eu, ct


def child_env():
    env = dict(os.environ, NCBI_API_KEY="KILL-TEST-KEY-0001", NCBI_EMAIL="kill@example.org",
               REPRISMA_HTTP_BACKOFF="0", REPRISMA_HTTP_RETRY_AFTER_CAP="0")
    return env


def run_child(cfg: Path, root: Path, cid: str, *extra, kill_after_line: int | None = None,
              extra_delay: float = 0.0) -> tuple[int, str, bool]:
    """Run one capture process; with ``kill_after_line``, SIGKILL it ``extra_delay`` s after its
    n-th progress line. Returns (exit code, stderr, killed)."""
    proc = subprocess.Popen([sys.executable, str(CHILD), str(cfg), str(root), cid, *extra],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=child_env(), text=True)
    lines, killed = [], False
    if kill_after_line is None:
        err = proc.communicate(timeout=120)[1]
        return proc.returncode, err, False
    for line in proc.stderr:
        lines.append(line)
        if len(lines) == kill_after_line:
            time.sleep(extra_delay)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed = True
            break
    rest = proc.communicate(timeout=120)[1]
    return proc.wait(), "".join(lines) + (rest or ""), killed


def normalised(capture_dir: Path) -> dict:
    """Every file of a capture, byte for byte, except what differs between two correct captures
    by nature: the WebEnv inside esearch answers (NCBI hands out a new one per search), the
    hashes of those esearch files, and the manifest's timestamps."""
    out = {}
    for path in sorted(capture_dir.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(capture_dir).as_posix()
        data = path.read_bytes()
        if "/esearch" in rel:
            data = re.sub(rb"<WebEnv>[^<]*</WebEnv>", b"<WebEnv/>", gzip.decompress(data))
        if rel == "manifest.json":
            m = json.loads(data)
            for key in ("started", "finished"):
                m.pop(key)
            for s in m["searches"]:
                s.pop("started"), s.pop("finished")
                for f in s["files"]:
                    if "/esearch" in f["path"]:
                        for k in ("sha256", "size", "body_sha256", "body_size"):
                            f.pop(k)
            data = json.dumps(m, sort_keys=True).encode()
        out[rel] = data
    return out


@pytest.fixture(scope="module")
def reference(emulators, tmp_path_factory):
    eu, ct = emulators
    root = tmp_path_factory.mktemp("reference")
    cfg = root / "config.json"
    cfg.write_text(json.dumps(protocol_config(eu, ct, batch=3, ctgov_search=CT_SEARCH)))
    rc, err, _ = run_child(cfg, root / "snap", "cap")
    assert rc == 0, err
    return cfg, normalised(root / "snap" / "t" / "cap")


@pytest.mark.parametrize("seed", range(6))
def test_kill_9_at_random_points_then_resume_is_byte_identical(tmp_path, emulators, reference, seed):
    cfg, expected = reference
    rng = random.Random(seed)
    root = tmp_path / "snap"
    kills = 0
    log = []
    done = False
    for attempt in range(5):
        last = attempt == 4  # the last attempt runs to its end
        rc, err, killed = run_child(cfg, root, "cap", kill_after_line=None if last else rng.randint(1, 13),
                                    extra_delay=rng.uniform(0.0, 0.15))
        log.append(err)
        kills += killed
        if not killed:
            # finished; "exists already" = an earlier attempt had locked it just before its kill
            assert rc == 0 or "a capture with this id exists already" in err, err
            done = True
            break
    assert done
    assert kills >= 1, "the test must actually have killed a capture"
    final = root / "t" / "cap"
    assert read_lock(root, "t")["capture_id"] == "cap", "".join(log)
    assert check_files(final, load_manifest(final)) == []
    assert normalised(final) == expected
    assert not list((root / "t").glob(".partial-*")) and not list(root.rglob("*.tmp"))
    assert "Traceback" not in "".join(log)


def test_leftovers_are_discarded_with_a_message(tmp_path, eutils, ctgov, capfd):
    protocol = make_protocol(eutils, ctgov, batch=5)
    eutils.faults.queue(Fault(kind="http_status", status=502, times=50, path="efetch.fcgi", after=2, retry_after=0))
    with pytest.raises(ServiceError, match=r"pm: .*HTTP 502.*rerun the same command to resume"):
        capture(protocol, tmp_path, "c1")
    eutils.faults.reset()
    partial = tmp_path / "t" / ".partial-c1"
    raw = partial / "raw" / "pm"
    (raw / ".efetch-001-000010.xml.gz.abc123.tmp").write_bytes(b"half a batch")  # a kill mid-write
    (raw / "efetch-001-000015.xml.gz").write_bytes(b"written but never recorded")  # a kill before the state
    (raw / "efetch-001-000000.xml.gz").write_bytes(b"corrupted")  # a recorded batch that no longer verifies
    capfd.readouterr()
    out = capture(protocol, tmp_path, "c1")
    err = capfd.readouterr().err
    assert "discarded 1 half-written file(s)" in err
    assert "reused 1 verified batch(es)" in err
    assert check_files(out, load_manifest(out)) == []


def test_batch_size_changed_between_attempts(tmp_path, eutils, ctgov, capfd):
    expected = served_pmids(eutils, make_protocol(eutils, ctgov).searches[0].query)
    eutils.faults.queue(Fault(kind="http_status", status=502, times=50, path="efetch.fcgi", after=3, retry_after=0))
    with pytest.raises(ServiceError):
        capture(make_protocol(eutils, ctgov, batch=5), tmp_path, "c1")
    eutils.faults.reset()
    out = capture(make_protocol(eutils, ctgov, batch=4), tmp_path, "c1")
    s = load_manifest(out)["searches"][0]
    efetch = [f for f in s["files"] if "efetch" in f["path"]]
    assert [f["request"]["params"]["retmax"] for f in efetch] == ["4"] * -(-len(expected) // 4)
    assert s["records_received"] == len(expected)
    assert check_files(out, load_manifest(out)) == []
    # retstart 0 and 20 are batches of both sizes: same place, other ids -> refetched, not trusted
    assert "discarded" in capfd.readouterr().err


def test_result_set_shrank_between_attempts(tmp_path, eutils, ctgov):
    """Another window, fewer records: the first attempt's batches no longer fit and are dropped."""
    eutils.faults.queue(Fault(kind="http_status", status=502, times=50, path="efetch.fcgi", after=2, retry_after=0))
    wide = make_protocol(eutils, ctgov, batch=5)
    with pytest.raises(ServiceError):
        capture(wide, tmp_path, "c1")
    eutils.faults.reset()
    narrow = make_protocol(eutils, ctgov, batch=5, window=("2023-01-01", "2025-12-31"))
    # a protocol change between attempts: the searches hash differs, but the directory is reused
    out = capture(narrow, tmp_path, "c1")
    s = load_manifest(out)["searches"][0]
    assert s["records_received"] == len(served_pmids(eutils, narrow.searches[0].query))
    assert check_files(out, load_manifest(out)) == []


def test_html_error_page_is_never_stored_as_a_batch(tmp_path, eutils, ctgov):
    page = "<!DOCTYPE html>\n<html><head><title>NCBI - WWW Error 500 Diagnostic</title></head><body></body></html>\n"
    eutils.faults.queue(Fault(kind="http_status", status=200, times=50, path="efetch.fcgi", after=1, body=page,
                              content_type="text/html"))
    with pytest.raises(ServiceError, match=r"root <html>, expected <PubmedArticleSet>"):
        capture(make_protocol(eutils, ctgov), tmp_path, "c1")
    raw = tmp_path / "t" / ".partial-c1" / "raw" / "pm"
    assert sorted(p.name for p in raw.glob("efetch-*")) == ["efetch-001-000000.xml.gz"]
    eutils.faults.reset()
    out = capture(make_protocol(eutils, ctgov), tmp_path, "c1")
    assert check_files(out, load_manifest(out)) == []


def test_unlocked_capture_is_finished_by_a_rerun(tmp_path, eutils, ctgov, capfd):
    protocol = make_protocol(eutils, ctgov)
    out = capture(protocol, tmp_path, "c1", lock=False)
    assert out.is_dir() and not (tmp_path / "t" / "LOCK").exists()
    # another capture holds the LOCK meanwhile
    capture(protocol, tmp_path, "c2")
    assert read_lock(tmp_path, "t")["capture_id"] == "c2"
    before = len(eutils.requests)
    assert capture(protocol, tmp_path, "c1") == out
    assert len(eutils.requests) == before, "finishing needs no request"
    assert read_lock(tmp_path, "t")["capture_id"] == "c1"
    assert "verified and locked" in capfd.readouterr().err
    with pytest.raises(Exception, match="exists already; choose another capture_id"):
        capture(protocol, tmp_path, "c1")


def test_kill_after_the_manifest_is_finished_without_requests(tmp_path, eutils, ctgov):
    protocol = make_protocol(eutils, ctgov)
    out = capture(protocol, tmp_path, "c1", lock=False)
    # as if killed after writing the manifest, before the rename
    partial = out.with_name(".partial-c1")
    out.rename(partial)
    before = len(eutils.requests)
    assert capture(protocol, tmp_path, "c1") == out
    assert len(eutils.requests) == before
    assert read_lock(tmp_path, "t")["capture_id"] == "c1"


def test_damaged_unlocked_capture_is_refused(tmp_path, eutils, ctgov):
    protocol = make_protocol(eutils, ctgov)
    out = capture(protocol, tmp_path, "c1", lock=False)
    next(out.rglob("efetch-*.xml.gz")).write_bytes(b"changed")
    with pytest.raises(Exception, match=r"exists already and cannot be finished: .*content changed"):
        capture(protocol, tmp_path, "c1")
    assert not (tmp_path / "t" / "LOCK").exists()


def test_cycling_page_token_is_an_error(tmp_path, eutils, ctgov):
    protocol = make_protocol(eutils, ctgov, page_size=1, ctgov_search={"intervention": "oxytocin OR pembrolizumab"})
    ctgov.faults.queue(Fault(kind="cycle_token", times=1000, path="/studies", after=1))
    with pytest.raises(CaptureError, match=r"ct: ClinicalTrials.gov sent page \d+ a page token it had sent before"):
        capture(protocol, tmp_path, "c1")
    assert not (tmp_path / "t" / "LOCK").exists()


@pytest.mark.parametrize("key", [None, "SHARED-KEY-77"], ids=["no-key", "key"])
def test_two_captures_at_once_share_one_budget(tmp_path, corpus, monkeypatch, key):
    """Two protocols captured at the same time (threads here, flock between them) against an
    emulator answering 429 above NCBI's rate (3 requests/s, 10 with a key): no 429, even with
    injected 5xx."""
    if key:
        monkeypatch.setenv("NCBI_API_KEY", key)
    else:
        monkeypatch.delenv("NCBI_API_KEY", raising=False)
    with EutilsEmulator(corpus, rate_limit=True) as eu, CtgovEmulator(corpus) as ct:
        eu.faults.queue(Fault(kind="http_status", status=503, times=2, path="efetch.fcgi", retry_after=0))
        protocols = []
        for pid in ("a", "b"):
            cfg = protocol_config(eu, ct, batch=4)
            cfg["protocol"]["id"] = pid
            from reprisma.protocol import validate_config

            protocols.append(validate_config(cfg, f"{pid}.yaml"))
        errors = []

        def run(p):
            try:
                capture(p, tmp_path, "c1")  # the default budget: one for every protocol of the folder
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=run, args=(p,)) for p in protocols]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        n_batches = -(-len(served_pmids(eu, protocols[0].searches[0].query)) // 4)
        # every request is accounted for: 2 x (esearch + batches) + the 2 injected 503s + our look-up
        efetch_esearch = [r for r in eu.requests if r.path.endswith(("esearch.fcgi", "efetch.fcgi"))]
        assert len(efetch_esearch) == 2 * (1 + n_batches) + 2 + 1


def test_partial_captures_and_rate_limit_slots_are_git_ignored(project_dir):
    """`git add snapshots` after a failed capture must not commit partial data."""
    if subprocess.run(["git", "rev-parse"], cwd=project_dir, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    paths = ["snapshots/p/.partial-live-1/raw/pm/efetch-001-000000.xml.gz", "snapshots/.ratelimit/eutils",
             "snapshots/p/.partial-live-1/.state/pm.json"]
    r = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=project_dir, capture_output=True, text=True)
    assert r.stdout.split() == paths
    kept = subprocess.run(["git", "check-ignore", "--no-index", "snapshots/p/live-1/manifest.json"],
                          cwd=project_dir, capture_output=True)
    assert kept.returncode == 1


def _refresh_normalised(capture_dir: Path) -> dict:
    """normalised(), less the previous capture's manifest hash (its timestamps differ by nature)."""
    out = normalised(capture_dir)
    m = json.loads(out["manifest.json"])
    m["previous_capture"].pop("manifest_sha256")
    out["manifest.json"] = json.dumps(m, sort_keys=True).encode()
    return out


@pytest.mark.parametrize("seed", range(3))
def test_a_refresh_killed_mid_capture_keeps_the_lock_then_resumes_byte_identical(tmp_path, emulators, seed):
    """Round 1 captures a narrower window; the refresh (round 2, incremental: only records round 1
    does not hold are fetched, three per batch) is killed at random points. Until it finishes the
    LOCK stays on round 1; the finished refresh equals an uninterrupted one byte for byte."""
    eu, ct = emulators
    narrow = tmp_path / "narrow.json"
    narrow.write_text(json.dumps(protocol_config(eu, ct, batch=3, window=("2024-01-01", "2025-12-31"))))
    wide = tmp_path / "wide.json"
    wide.write_text(json.dumps(protocol_config(eu, ct, batch=3)))
    ref, root = tmp_path / "ref", tmp_path / "snap"
    for r in (ref, root):
        rc, err, _ = run_child(narrow, r, "round1")
        assert rc == 0, err
    rc, err, _ = run_child(wide, ref, "round2")
    assert rc == 0, err
    # kill before the last progress line every attempt prints (rate-limit waits come and go), so
    # that the first attempt is always killed
    lines = max(2, sum(1 for line in err.splitlines() if "waiting" not in line))
    expected = _refresh_normalised(ref / "t" / "round2")
    assert any(f.get("reused_from") == "round1" for f in load_manifest(ref / "t" / "round2")["searches"][0]["files"])
    rng = random.Random(seed)
    kills, log = 0, []
    for attempt in range(5):
        last = attempt == 4
        rc, err, killed = run_child(wide, root, "round2", kill_after_line=None if last else rng.randint(1, lines - 1),
                                    extra_delay=rng.uniform(0.0, 0.05))
        log.append(err)
        kills += killed
        if killed:
            lock = read_lock(root, "t")["capture_id"]
            assert lock == "round1" or (root / "t" / "round2" / "manifest.json").exists(), "".join(log)
        else:
            assert rc == 0 or "a capture with this id exists already" in err, err
            break
    assert kills >= 1
    assert read_lock(root, "t")["capture_id"] == "round2"
    assert _refresh_normalised(root / "t" / "round2") == expected
    assert "Traceback" not in "".join(log)


def test_the_budget_folder_is_per_snapshot_folder_or_the_environments(tmp_path, monkeypatch):
    from reprisma.search.capture import ratelimit_dir

    monkeypatch.delenv("REPRISMA_RATELIMIT_DIR", raising=False)
    assert ratelimit_dir(tmp_path / "snapshots") == tmp_path / "snapshots" / ".ratelimit"
    monkeypatch.setenv("REPRISMA_RATELIMIT_DIR", str(tmp_path / "nfs" / "budget"))
    assert ratelimit_dir(tmp_path / "snapshots") == tmp_path / "nfs" / "budget"
