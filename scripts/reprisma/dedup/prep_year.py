"""Normalise publication years to integers (``-1`` when unknown)."""
from __future__ import annotations

import re

_YEAR = re.compile(r"(1[5-9]\d\d|20\d\d)")


def normalise_year(value: object) -> int:
    """Return the first plausible four-digit year in ``value`` or -1."""
    if value is None:
        return -1
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return int(value) if 1500 <= value <= 2099 else -1
    if isinstance(value, float):
        return int(value) if value == value and 1500 <= value <= 2099 else -1
    m = _YEAR.search(str(value))
    return int(m.group(1)) if m else -1
