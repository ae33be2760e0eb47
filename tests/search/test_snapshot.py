import gzip

import pytest

from reprisma import snapshot


def test_gzip_is_deterministic_and_lossless(fixtures_dir):
    body = (fixtures_dir / "pubmed/biopython/pubmed1.xml").read_bytes()
    a, b = snapshot.gzip_bytes(body), snapshot.gzip_bytes(body)
    assert a == b
    assert gzip.decompress(a) == body


def test_write_raw_then_check(tmp_path, fixtures_dir):
    body = (fixtures_dir / "pubmed/biopython/esearch1.xml").read_bytes()
    entry = snapshot.write_raw(tmp_path, "raw/s/esearch.xml.gz", body)
    manifest = {"searches": [{"files": [entry]}]}
    assert snapshot.check_files(tmp_path, manifest) == []
    assert snapshot.read_raw(tmp_path, "raw/s/esearch.xml.gz") == body
    # a stray file and a changed byte are both named
    (tmp_path / "raw/s/extra.gz").write_bytes(b"x")
    raw = tmp_path / "raw/s/esearch.xml.gz"
    data = bytearray(raw.read_bytes())
    data[-1] ^= 1
    raw.write_bytes(bytes(data))
    problems = snapshot.check_files(tmp_path, manifest)
    assert any("esearch.xml.gz: content changed" in p for p in problems)
    assert any("extra.gz: file not listed" in p for p in problems)


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "counts.json"
    target.write_text("old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(snapshot.os, "replace", boom)
    with pytest.raises(OSError):
        snapshot.atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_missing_lock_says_what_to_do(tmp_path):
    with pytest.raises(snapshot.SnapshotError, match="make refresh"):
        snapshot.read_lock(tmp_path, "greenway2020")
