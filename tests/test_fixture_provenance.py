"""Every copied fixture still has the SHA-256 its provenance file records."""

import hashlib
import re


def test_fixture_hashes_match_provenance(fixtures_dir):
    text = (fixtures_dir / "PROVENANCE.md").read_text()
    rows = re.findall(r"^([0-9a-f]{64})\s+(\d+)\s+(\S+)$", text, flags=re.M)
    assert len(rows) >= 40
    for digest, size, rel in rows:
        data = (fixtures_dir / rel).read_bytes()
        assert len(data) == int(size), rel
        assert hashlib.sha256(data).hexdigest() == digest, rel
