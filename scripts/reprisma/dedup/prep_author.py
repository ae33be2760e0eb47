"""Normalise author lists from either input shape to ``surname`` tokens.

Accepted forms:
* BibTeX (benchmark): ``"Zuber, J and Le Quintrec, M"``, ``"Zheng, Qing-Feng and Wang, J. J."``;
* record schema: a list of ``"Surname Initials"`` (``["Le Quintrec M", "Zuber J"]``) or a
  collective name (``"COVID-19 Study Group"``).

Surnames are folded (accents, case), particles kept but glued (``le quintrec`` -> ``lequintrec``)
so ``Pêgo-Fernandes`` and ``Pego Fernandes`` agree. Collective authors become one token made of
their initial letters prefixed with ``@`` so they never match a person.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .prep_title import clean_markup, fold

_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_NON_ALPHA = re.compile(r"[^a-z]")
_INITIALS = re.compile(r"^[A-Z][A-Z\-\.]{0,4}$")
_COLLECTIVE = re.compile(r"\b(?:group|consortium|investigators|committee|collaborat\w*|society|association|"
                         r"network|team|working|trialists|study)\b", re.IGNORECASE)
_ETAL = re.compile(r"\bet\.?\s*al\.?$", re.IGNORECASE)


@lru_cache(maxsize=200_000)
def _surname_key(surname: str) -> str:
    return _NON_ALPHA.sub("", fold(surname))


def _collective_key(name: str) -> str:
    words = re.findall(r"[a-z0-9]+", fold(name))
    return "@" + "".join(w[0] for w in words)


def parse_bibtex_authors(value: object) -> list[tuple[str, str]]:
    """``"Last, First and Last, F."`` -> ``[(surname_key, initials), ...]``."""
    text = clean_markup(value).strip()
    if not text:
        return []
    out: list[tuple[str, str]] = []
    for part in _AND.split(text):
        part = _ETAL.sub("", part.strip().strip("{}")).strip(" ,;")
        if not part or part.lower() in ("others", "et al"):
            continue
        if "," in part:
            last, _, given = part.partition(",")
            out.append(_person(last, given))
        else:
            out.append(_one_string_name(part))
    return [a for a in out if a[0]]


def parse_record_authors(values: object) -> list[tuple[str, str]]:
    """A list of ``"Surname Initials"`` (record schema) -> ``[(surname_key, initials), ...]``."""
    if values is None or isinstance(values, float):
        return []
    if isinstance(values, str):
        values = [v for v in re.split(r";|\|", values) if v.strip()]
    out = []
    for name in values:
        name = clean_markup(name).strip()
        if not name:
            continue
        if "," in name:
            last, _, given = name.partition(",")
            out.append(_person(last, given))
        else:
            out.append(_one_string_name(name))
    return [a for a in out if a[0]]


def _person(last: str, given: str) -> tuple[str, str]:
    given = given.strip()
    if _INITIALS.match(given.replace(" ", "")) and "." not in given and given.isupper():
        initials = given.replace("-", "").replace(" ", "")
    else:
        initials = "".join(p[0] for p in re.split(r"[\s\-\.]+", given) if p)
    return _surname_key(last), fold(initials)[:3]


def _one_string_name(name: str) -> tuple[str, str]:
    if _COLLECTIVE.search(name):
        return _collective_key(name), ""
    tokens = name.split()
    if len(tokens) >= 2 and _INITIALS.match(tokens[-1]):
        return _surname_key(" ".join(tokens[:-1])), fold(tokens[-1].replace(".", "").replace("-", ""))[:3]
    if len(tokens) >= 2:
        # "First Last" without a comma: the last word is the surname.
        return _surname_key(tokens[-1]), fold("".join(t[0] for t in tokens[:-1]))[:3]
    return _surname_key(name), ""


def author_string(authors: list[tuple[str, str]], limit: int = 12) -> str:
    """Space-separated surname keys of the first ``limit`` authors (comparison form)."""
    return " ".join(a[0] for a in authors[:limit])
