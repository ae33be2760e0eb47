"""Normalise DOIs: lower case, no resolver URL or ``doi:`` prefix, no trailing punctuation."""
from __future__ import annotations

import re

_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|doi\s+)", re.IGNORECASE)
_VALID = re.compile(r"^10\.\d{4,9}/\S+$")


def normalise_doi(value: object) -> str:
    """Return the DOI in canonical form (``10.xxxx/...`` lower case) or ``""``."""
    if not isinstance(value, str):
        return ""
    doi = value.strip()
    while True:
        stripped = _PREFIX.sub("", doi).strip()
        if stripped == doi:
            break
        doi = stripped
    doi = doi.lower().rstrip(".,;")
    return doi if _VALID.match(doi) else ""
