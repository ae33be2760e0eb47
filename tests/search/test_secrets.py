"""The API key and e-mail address never printed: every fault, then grep stdout, stderr, the
error texts and every file written (raw bodies decompressed)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

from search_helpers import make_protocol, protocol_config

from reprisma.emulator import Fault
from reprisma.search.capture import capture

KEY = "ZZKEY-5e1f0c9a77b3d2"
EMAIL = "secret.auditor@example.org"

FAULTS = [
    Fault(kind="http_status", status=429, times=50, retry_after=0, path="esearch.fcgi"),  # body echoes the key
    Fault(kind="http_status", status=429, times=2, retry_after=0, path="efetch.fcgi"),
    Fault(kind="http_status", status=503, times=50, retry_after=0, path="efetch.fcgi"),
    Fault(kind="http_status", status=400, times=50, path="efetch.fcgi", body="Error: External viewer error"),
    Fault(kind="http_status", status=200, times=50, path="esearch.fcgi", body=f"not xml api_key={KEY}"),
    Fault(kind="drop_connection", times=50, path="efetch.fcgi"),
    Fault(kind="truncate_body", times=50, path="esearch.fcgi"),
    Fault(kind="count_mismatch", times=50, path="efetch.fcgi"),
    Fault(kind="count_mismatch", times=1, path="esearch.fcgi"),
    Fault(kind="expire_webenv", times=50, path="efetch.fcgi"),
    Fault(kind="trickle", times=1, chunk=200, delay=0.01, path="efetch.fcgi"),
]


def everything_written(root) -> str:
    out = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            out.append(gzip.decompress(data) if path.suffix == ".gz" and data[:2] == b"\x1f\x8b" else data)
    return b"\n".join(out).decode("utf-8", "replace")


def test_no_fault_prints_the_key_or_email(tmp_path, eutils, ctgov, monkeypatch, capfd):
    monkeypatch.setenv("NCBI_API_KEY", KEY)
    monkeypatch.setenv("NCBI_EMAIL", EMAIL)
    eutils.rate_limit = False
    protocol = make_protocol(eutils, ctgov, ctgov_search={"intervention": "oxytocin"})
    texts = []
    for n, fault in enumerate(FAULTS):
        eutils.faults.reset()
        eutils.faults.queue(fault)
        try:
            capture(protocol, tmp_path, f"c{n}", incremental=False)  # every fault reaches a request
        except Exception as e:  # noqa: BLE001 - the message is what a user sees
            assert type(e).__module__.startswith("reprisma."), f"{fault}: {type(e)} would be a traceback"
            assert "\n" not in str(e)
            texts.append(f"{type(e).__name__}: {e}")
        assert eutils.faults.fired, fault
    out = capfd.readouterr()
    seen = "\n".join(texts) + out.out + out.err + everything_written(tmp_path)
    assert "HTTP 429" in seen and "External viewer error" in seen  # the faults did reach the messages
    for secret in (KEY, EMAIL):
        i = seen.find(secret)
        assert i < 0, seen[max(0, i - 300):i + 100]
    # every request did carry them (the emulator records the key redacted)
    assert all(r.param("email") == EMAIL for r in eutils.requests if r.path.endswith("efetch.fcgi"))


def test_cli_one_line_error_without_the_key(tmp_path, eutils, ctgov):
    eutils.rate_limit = False
    cfg = protocol_config(eutils, ctgov)
    from reprisma.protocol import validate_config

    (tmp_path / "protocol.json").write_text(json.dumps(validate_config(cfg, "test.yaml").config))
    eutils.faults.queue(Fault(kind="http_status", status=429, times=50, retry_after=0, path="esearch.fcgi"))
    env = dict(os.environ, NCBI_API_KEY=KEY, NCBI_EMAIL=EMAIL, REPRISMA_HTTP_BACKOFF="0",
               REPRISMA_HTTP_RETRY_AFTER_CAP="0", REPRISMA_HTTP_ATTEMPTS="3")
    r = subprocess.run([sys.executable, "-m", "reprisma.cli", "capture", "--protocol", str(tmp_path / "protocol.json"),
                        "--config-file", "test.yaml", "--snapshot-root", str(tmp_path / "snap"), "--capture-id", "x",
                        "--out", str(tmp_path / "out.json")], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("reprisma: ServiceError: pm: POST ") and "HTTP 429" in last
    assert "gave up after 3 attempts" in last and "rerun the same command to resume" in last
    assert "Traceback" not in r.stderr
    assert KEY not in r.stderr + r.stdout and EMAIL not in r.stderr + r.stdout
