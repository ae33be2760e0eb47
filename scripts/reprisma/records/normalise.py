"""Small field normalisers shared by the parsers: DOI, NCT numbers, partial ISO dates, whitespace."""

from __future__ import annotations

import datetime as dt
import re

NCT_RE = re.compile(r"^NCT[0-9]{8}$")
# In free text: "NCT01234567", also written "NCT 01234567" or "NCT-01234567" (same number).
NCT_IN_TEXT_RE = re.compile(r"(?<![A-Za-z0-9])NCT[ -]?([0-9]{8})(?![0-9])")
ISO_PARTIAL_RE = re.compile(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")

_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/",
                 "doi.org/", "dx.doi.org/", "doi:")
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


def squash(text: str | None) -> str:
    """Runs of whitespace (spaces, tabs, newlines from indented XML) as one space, ends stripped.

    Only whitespace that is there is touched: no space is ever added between characters.
    """
    return " ".join(text.split()) if text else ""


def normalise_doi(value: str | None) -> str | None:
    """A DOI as stored in records: stripped, lower case, without URL or ``doi:`` prefixes.

    Idempotent: ``normalise_doi(normalise_doi(x)) == normalise_doi(x)``. Empty -> None.
    """
    if value is None:
        return None
    doi = value.strip().lower()
    changed = True
    while changed:
        changed = False
        for prefix in _DOI_PREFIXES:
            if doi.startswith(prefix):
                doi = doi[len(prefix):].strip()
                changed = True
    return doi or None


def nct_ids_in_text(text: str | None) -> list[str]:
    """NCT numbers mentioned in free text, as ``NCT`` + 8 digits (document order, may repeat)."""
    return ["NCT" + m.group(1) for m in NCT_IN_TEXT_RE.finditer(text or "")]


def month_number(value: str | None) -> int | None:
    """'Mar', 'March', '03', '3' -> 3; anything else (seasons, '') -> None."""
    if not value:
        return None
    v = value.strip()
    if v.isdigit():
        n = int(v)
        return n if 1 <= n <= 12 else None
    return _MONTHS.get(v[:3].lower())


def iso_partial(year: str | int | None, month: str | None = None, day: str | None = None) -> str | None:
    """'YYYY', 'YYYY-MM' or 'YYYY-MM-DD' from the parts that are present and valid.

    A month that is not a month (a season) keeps the year only; a day that does not exist in
    that month keeps year and month. A missing or non-four-digit year gives None.
    """
    y = str(year).strip() if year is not None else ""
    if not re.fullmatch(r"[0-9]{4}", y):
        return None
    m = month_number(month)
    if m is None:
        return y
    d = day.strip() if day else ""
    if d.isdigit():
        try:
            return dt.date(int(y), m, int(d)).isoformat()
        except ValueError:
            pass
    return f"{y}-{m:02d}"


def medline_date(text: str | None) -> str | None:
    """A PubMed MedlineDate ('1998 Dec-1999 Jan', '2000 Spring', '1998-1999') as the start it names.

    The first year, and the month right after it when there is one: '1998 Dec-1999 Jan' -> '1998-12'.
    """
    if not text:
        return None
    m = re.match(r"\s*([0-9]{4})(?:\s+([A-Za-z]+)(?:\s+([0-9]{1,2}))?)?", text)
    if not m:
        return None
    return iso_partial(m.group(1), m.group(2), m.group(3))


def iso_or_none(value: str | None) -> str | None:
    """A date string kept only if it already is an ISO partial date (CT.gov v2 gives these)."""
    v = (value or "").strip()
    return v if ISO_PARTIAL_RE.match(v) else None
