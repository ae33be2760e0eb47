"""Normalise page ranges: ``1308-15``, ``1308--1315`` and ``1308–1315`` all become ``1308-1315``."""
from __future__ import annotations

import re

_RANGE = re.compile(r"^\s*([A-Za-z]{0,2})(\d+)\s*(?:-+|\u2013|\u2014|to)\s*([A-Za-z]{0,2})(\d+)\s*$")
_SINGLE = re.compile(r"^\s*([A-Za-z]{0,2})(\d+)\s*$")


def normalise_pages(value: object) -> tuple[str, str]:
    """Return ``(first_page, last_page)`` as strings of digits (``""`` when unknown).

    Letter prefixes (``e0300501``, ``S12``) are dropped: sources disagree on them.
    An abbreviated last page (``1308-15``) is expanded with the first page's leading digits.
    Mangled values some databases export (``Suppl-29``, ``t-8``) give an unknown first page:
    they must not make two records look different. An electronic locator (``e12724``) and a
    PDF range starting at 1 (``1-6``) are different numbering of the same article, so ``1`` as
    a first page is treated as unknown too.
    """
    if not isinstance(value, str):
        if isinstance(value, (int, float)) and value == value:
            return str(int(value)), ""
        return "", ""
    value = re.sub(r"^\s*pp?\.\s*", "", value)
    # "742-8; discussion 748-9", "233-238+230-235": the first range is the article's.
    value = re.split(r"[;,+]", value, maxsplit=1)[0]
    m = _RANGE.match(value)
    if m:
        first, last = m.group(2).lstrip("0") or "0", m.group(4).lstrip("0") or "0"
        if len(last) < len(first):
            last = first[: len(first) - len(last)] + last
        if last == first:
            last = ""
        if first == "1":
            return "", last
        return first, last
    m = _SINGLE.match(value)
    if m:
        first = m.group(2).lstrip("0") or "0"
        if m.group(1) or first == "1":  # e12724, a1754, c1804: electronic locators
            return "", ""
        return first, ""
    return "", ""
