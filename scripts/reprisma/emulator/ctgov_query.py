"""The simplest part of ClinicalTrials.gov's Essie query syntax, for the CT.gov emulator.

Supported: words and ``"quoted phrases"`` (case-insensitive, whole words, a phrase matches
consecutive words); ``AND``, ``OR``, ``NOT`` (upper case; ``NOT`` is unary, ``a NOT b`` means
``a AND NOT b``; precedence NOT > AND > OR, as on CT.gov's "Constructing complex search queries"
page); adjacent terms are ANDed; parentheses; ``AREA[Piece]expr`` for the text areas
(ConditionSearch/Condition/Keyword, InterventionSearch/InterventionName, TitleSearch/BriefTitle/
OfficialTitle/Acronym, SponsorSearch/LeadSponsorName, OutcomeSearch, LocationSearch, IdSearch/
NCTId, BasicSearch), for the enum pieces OverallStatus, Phase and StudyType (exact values) and
for date pieces (StartDate, CompletionDate, PrimaryCompletionDate, StudyFirstPostDate,
LastUpdatePostDate, ResultsFirstPostDate, StudyFirstSubmitDate, LastUpdateSubmitDate) either as
``RANGE[lo,hi]`` (ISO dates ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, or ``MIN``/``MAX``) or as a date
prefix (``AREA[StartDate]2022``).

Not supported (Essie does these; the emulator does not): synonym expansion and stemming
(``query.cond=cancer`` on CT.gov also finds "neoplasm"), relevance ranking, ``SEARCH[...]``,
``EXPANSION[...]``, ``COVERAGE[...]``, ``TILT[...]``, ``MISSING``, numeric ranges on ages. A
partial study date (``2016-07``) is compared as its first day.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from .corpus import CtgovStudy, tokens

__all__ = ["EssieError", "parse", "matches", "AREAS"]


class EssieError(ValueError):
    """A query the emulator cannot parse."""


TEXT_AREAS = {
    "basicsearch": "term", "conditionsearch": "cond", "condition": "cond", "keyword": "cond",
    "interventionsearch": "intr", "interventionname": "intr", "intervention": "intr",
    "titlesearch": "titles", "brieftitle": "titles", "officialtitle": "titles", "acronym": "titles",
    "sponsorsearch": "spons", "leadsponsorname": "lead", "outcomesearch": "outc",
    "locationsearch": "locn", "idsearch": "id", "nctid": "id",
}
ENUM_AREAS = {"overallstatus": "overall_status", "phase": "phases", "studytype": "study_type"}
DATE_AREAS = {p.lower(): p for p in ("StartDate", "CompletionDate", "PrimaryCompletionDate", "StudyFirstPostDate",
                                     "LastUpdatePostDate", "ResultsFirstPostDate", "StudyFirstSubmitDate",
                                     "LastUpdateSubmitDate")}
AREAS = set(TEXT_AREAS) | set(ENUM_AREAS) | set(DATE_AREAS)


@dataclass
class Phrase:
    words: list[str]
    raw: str


@dataclass
class Area:
    name: str  # lower-case area name
    node: object


@dataclass
class Range:
    lo: tuple | None
    hi: tuple | None


@dataclass
class Op:
    op: str
    args: list


_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|"(?P<q>[^"]*)"|(?P<area>AREA\[[^\]]*\])|'
                    r'(?P<range>RANGE\[[^\]]*\])|(?P<func>[A-Z]+\[[^\]]*\])|(?P<w>[^\s()"]+))')


def _lex(q: str):
    out = []
    pos = 0
    q = q.strip()
    while pos < len(q):
        m = _TOKEN.match(q, pos)
        if not m or m.end() == pos:
            raise EssieError(f"cannot read the query at position {pos + 1}")
        pos = m.end()
        if m.group("lp"):
            out.append(("LP", "("))
        elif m.group("rp"):
            out.append(("RP", ")"))
        elif m.group("q") is not None:
            out.append(("PHRASE", m.group("q")))
        elif m.group("area"):
            out.append(("AREA", m.group("area")[5:-1].strip()))
        elif m.group("range"):
            out.append(("RANGE", m.group("range")[6:-1]))
        elif m.group("func"):
            raise EssieError(f"the emulator does not support {m.group('func').split('[')[0]}[...]")
        else:
            w = m.group("w")
            out.append(("OP", w) if w in ("AND", "OR", "NOT") else ("PHRASE", w))
        while pos < len(q) and q[pos].isspace():
            pos += 1
    return out


def _date_bound(text: str, upper: bool) -> tuple | None:
    t = text.strip()
    if t.upper() in ("MIN", "MAX"):
        return None
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", t)
    if not m:
        raise EssieError(f"invalid date {t!r} in RANGE[...]")
    y = int(m.group(1))
    mo = int(m.group(2)) if m.group(2) else (12 if upper else 1)
    if m.group(3):
        d = int(m.group(3))
    else:
        d = calendar.monthrange(y, mo)[1] if upper else 1
    return (y, mo, d)


class _Parser:
    def __init__(self, toks):
        self.toks = toks
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def parse_or(self):
        args = [self.parse_and()]
        while self.peek() == ("OP", "OR"):
            self.take()
            args.append(self.parse_and())
        return args[0] if len(args) == 1 else Op("OR", args)

    def parse_and(self):
        args = [self.parse_not()]
        while True:
            kind, val = self.peek()
            if kind is None or kind == "RP" or (kind, val) == ("OP", "OR"):
                break
            if (kind, val) == ("OP", "AND"):
                self.take()
            args.append(self.parse_not())
        return args[0] if len(args) == 1 else Op("AND", args)

    def parse_not(self):
        if self.peek() == ("OP", "NOT"):
            self.take()
            return Op("NOT", [self.parse_not()])
        return self.unit()

    def unit(self):
        kind, val = self.peek()
        if kind is None:
            raise EssieError("the query ends where a term was expected")
        self.take()
        if kind == "LP":
            node = self.parse_or()
            if self.peek()[0] != "RP":
                raise EssieError("unbalanced parentheses")
            self.take()
            return node
        if kind == "RP":
            raise EssieError("unbalanced parentheses")
        if kind == "OP":
            raise EssieError(f"operator {val} is missing a term")
        if kind == "AREA":
            name = val.lower()
            if name not in AREAS:
                raise EssieError(f"unknown search area {val!r}")
            return Area(name, self.unit())
        if kind == "RANGE":
            lo, _, hi = val.partition(",")
            if not _:
                raise EssieError("RANGE[...] needs two comma-separated bounds")
            return Range(_date_bound(lo, False), _date_bound(hi, True))
        return Phrase(tokens(val), val)


def parse(q: str):
    toks = _lex(q)
    if not toks:
        raise EssieError("empty query")
    p = _Parser(toks)
    node = p.parse_or()
    if p.i != len(toks):
        raise EssieError("unbalanced parentheses")
    return node


def _contains(seq: list[str], words: list[str]) -> bool:
    k = len(words)
    if k == 0:
        return True
    return any(seq[i:i + k] == words for i in range(len(seq) - k + 1))


def _date_tuple(s: str) -> tuple | None:
    m = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", s or "")
    if not m:
        return None
    return (int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))


def matches(node, study: CtgovStudy, area: str = "term", _cache: dict | None = None) -> bool:
    """Whether ``study`` matches the parsed query ``node`` searched in ``area``."""
    cache = _cache if _cache is not None else {}
    if isinstance(node, Op):
        if node.op == "AND":
            return all(matches(a, study, area, cache) for a in node.args)
        if node.op == "OR":
            return any(matches(a, study, area, cache) for a in node.args)
        return not matches(node.args[0], study, area, cache)
    if isinstance(node, Area):
        return matches(node.node, study, node.name, cache)
    if area in DATE_AREAS:
        value = _date_tuple(study.dates.get(DATE_AREAS[area], ""))
        if value is None:
            return False
        if isinstance(node, Range):
            return (node.lo is None or value >= node.lo) and (node.hi is None or value <= node.hi)
        if isinstance(node, Phrase):
            return study.dates.get(DATE_AREAS[area], "").startswith(node.raw.strip())
        return False
    if isinstance(node, Range):
        raise EssieError("RANGE[...] is only supported for date areas")
    if area in ENUM_AREAS:
        value = getattr(study, ENUM_AREAS[area])
        values = value if isinstance(value, tuple) else (value,)
        return any(v is not None and v.upper() == node.raw.strip().upper() for v in values)
    key = TEXT_AREAS.get(area, area)
    if key not in cache:
        cache[key] = tokens(study.text.get(key, ""))
    return _contains(cache[key], node.words) if node.words else False
