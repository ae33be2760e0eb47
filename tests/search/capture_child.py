"""A capture in its own process, for the kill -9 tests: ``capture_child.py CONFIG.json ROOT ID``.

Exit 0 when the capture is locked; 1 with one line on stderr when it fails (as the CLI does)."""

import json
import sys
from pathlib import Path

from reprisma.protocol import validate_config
from reprisma.search.capture import capture

config, root, capture_id = sys.argv[1:4]
protocol = validate_config(json.loads(Path(config).read_text()), "test.yaml")
try:
    capture(protocol, Path(root), capture_id, lock="--no-lock" not in sys.argv)
except Exception as e:  # noqa: BLE001 - the test reads the one line
    print(f"reprisma: {type(e).__name__}: {e}", file=sys.stderr)
    raise SystemExit(1)
