"""What kind of item a record is: ``erratum``, ``retraction``, ``comment``, ``reply``,
``conference``, ``registration`` or ``""`` (an ordinary article).

The title's wording decides first (:func:`reprisma.dedup.prep_title.title_kind`), then the
publication types, the BibTeX entry type and a conference-like venue name. A conference kind
guessed only from the venue name (``Journal.Conference: 44th Annual Meeting``) is *weak*: weaker
evidence than a title, a publication type or an entry type.
"""
from __future__ import annotations

import re

CONFERENCE_ENTRYTYPES = {"inproceedings", "conference", "proceedings"}
CONFERENCE_VENUE = re.compile(r"\b(?:abstracts?|meeting|congress|conference|symposium|annual scientific)\b",
                              re.IGNORECASE)
_PUBTYPE_KIND = [
    ("retraction of publication", "retraction"),
    ("published erratum", "erratum"),
    ("erratum", "erratum"),
    ("comment", "comment"),
    ("congress", "conference"),
    ("meeting abstract", "conference"),
    ("conference abstract", "conference"),
    ("conference paper", "conference"),
]


def is_conference_venue(venue: str) -> bool:
    return bool(venue and CONFERENCE_VENUE.search(venue))


def record_kind(title_kind: str, pubtypes: list, entrytype: str, conference_venue: bool) -> str:
    """The kind of one record from its title's kind, publication types, entry type and venue."""
    if title_kind:
        return title_kind
    for pt in pubtypes:
        low = str(pt).lower()
        for needle, kind in _PUBTYPE_KIND:
            if needle == low or (needle != "comment" and needle in low):
                return kind
    if entrytype.lower() in CONFERENCE_ENTRYTYPES:
        return "conference"
    if conference_venue:
        return "conference"
    return ""


def weak_conference(kind: str, title_kind: str, pubtypes: list, entrytype: str) -> bool:
    """The conference kind rests on the venue name alone."""
    return kind == "conference" and not title_kind and not pubtypes and entrytype.lower() not in CONFERENCE_ENTRYTYPES
