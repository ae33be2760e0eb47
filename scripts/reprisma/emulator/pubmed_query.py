"""A small PubMed query evaluator for the E-utilities emulator.

What it does, following PubMed's documented search syntax:

* Boolean operators ``AND``, ``OR``, ``NOT`` (upper case only, as PubMed requires) evaluated
  **left to right** unless parenthesised (``a OR b AND c`` is ``(a OR b) AND c``); adjacent
  terms without an operator are ANDed.
* Parentheses, quoted phrases, trailing wildcard ``*`` (``psychedelic*``), history references
  ``#1`` (a query key of the same WebEnv).
* Field tags (case-insensitive, long or short form): ``[tiab]``, ``[ti]``, ``[ab]``, ``[mh]``/
  ``[mesh]``, ``[la]``/``[lang]``, ``[pt]``, ``[au]``, ``[ta]``, ``[ot]``, ``[tw]``,
  ``[all fields]``/``[all]``; untagged terms search all fields. Unquoted words directly before
  a tag form one phrase (``hart rk[au]``, ``major depression[tiab]``), as in PubMed.
* Dates: ``"2020/01/01"[dp] : "2025/08/13"[dp]``, ``2020:2024[pdat]``, ``2019[dp]``, with
  ``[dp]``/``[pdat]`` (publication date: PubDate or electronic ArticleDate), ``[edat]`` (entrez
  date), ``[crdt]`` (create date) and ``[mdat]`` (modification date: ``MedlineCitation/DateRevised``;
  a record without one was never modified and matches no ``[mdat]`` range, which is how an
  incremental capture asks what changed). A partial date means its whole period; a record whose
  PubDate has only a year or month is indexed at the first day of it (as PubMed does).
* Matching is case-insensitive and on whole words (letters/digits; punctuation separates words);
  a phrase matches consecutive words. ``[mh]``, ``[pt]``, ``[ta]`` and ``[la]`` match whole
  values (``[la]`` accepts the code ``eng`` or the name ``english``); ``[au]`` matches
  "lastname initials" with PubMed's initial truncation (``levin a`` finds ``Levin AW``).
* A ``QueryTranslation`` in PubMed's style: ``psychedelic*[All Fields]``,
  ``"english"[Language]``, ``2020/01/01:2025/08/13[Date - Publication]``, ``#1``.
* PubMed's handling of unknown words: an unquoted, untagged term that matches no record is
  reported in ``ErrorList/PhraseNotFound`` and **dropped from the query** (PubMed does this
  silently; see the real esearch JSON fixture ``esearch_json_phrase_not_found_errorlist.json``).
  With ``not_found="keep"`` it is reported but kept (and matches nothing). An unknown field tag
  is reported in ``FieldNotFound`` and the term searches all fields. A quoted phrase that
  matches nothing is reported in ``WarningList/QuotedPhraseNotFound``.

What it does **not** do (differences from PubMed, by design):

* No Automatic Term Mapping: PubMed expands ``cancer`` to
  ``"neoplasms"[MeSH Terms] OR "cancer"[All Fields] OR ...`` and fills ``TranslationSet``; the
  emulator searches the words as typed, so ``TranslationSet`` is always empty and counts are
  those of the literal words.
* No MeSH explosion (``[mh]`` matches the descriptor itself, not narrower terms), no stemming,
  no spelling correction, no stopword list, no proximity search (``"a b"[tiab:~3]``).
* ``[All Fields]`` covers title, abstract, MeSH descriptors, keywords, authors, journal names
  and publication types, not every field PubMed indexes (affiliations, grants, ...).
* ``[ab]`` is accepted for convenience; PubMed itself has no abstract-only field.
* PubMed limits wildcard expansion to 600 variants and needs at least four characters before
  ``*``; the emulator has no such limits.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .corpus import PubmedRecord, tokens

__all__ = ["QuerySyntaxError", "HistoryError", "PubmedIndex", "SearchResult", "parse", "search",
           "date_range", "FIELD_LABELS"]


class QuerySyntaxError(ValueError):
    """The query cannot be parsed (unbalanced parentheses, dangling operator, ...)."""


class HistoryError(LookupError):
    """A ``#N`` reference to a query key the WebEnv does not hold."""

    def __init__(self, key: int):
        super().__init__(f"Unable to obtain query #{key}")
        self.key = key


FIELD_ALIASES = {
    "all": "all", "all fields": "all", "allfields": "all",
    "tiab": "tiab", "title/abstract": "tiab",
    "ti": "ti", "title": "ti",
    "ab": "ab", "abstract": "ab",
    "mh": "mh", "mesh": "mh", "mesh terms": "mh", "mesh term": "mh",
    "la": "la", "lang": "la", "language": "la",
    "pt": "pt", "publication type": "pt",
    "au": "au", "author": "au", "auth": "au",
    "ta": "ta", "journal": "ta", "jour": "ta",
    "ot": "ot", "other term": "ot",
    "tw": "tw", "text word": "tw", "text words": "tw",
    "dp": "dp", "pdat": "dp", "publication date": "dp", "date - publication": "dp",
    "edat": "edat", "entrez date": "edat", "date - entry": "edat", "entry date": "edat",
    "crdt": "crdt", "create date": "crdt", "date - create": "crdt",
    "mdat": "mdat", "modification date": "mdat", "date - modification": "mdat",
}
FIELD_LABELS = {
    "all": "All Fields", "tiab": "Title/Abstract", "ti": "Title", "ab": "Abstract", "mh": "MeSH Terms",
    "la": "Language", "pt": "Publication Type", "au": "Author", "ta": "Journal", "ot": "Other Term",
    "tw": "Text Word", "dp": "Date - Publication", "edat": "Date - Entry", "crdt": "Date - Create",
    "mdat": "Date - Modification",
}
DATE_FIELDS = {"dp", "edat", "crdt", "mdat"}
LOWERCASED = {"la", "pt", "mh", "ta"}
LANGUAGE_NAMES = {
    "eng": "english", "ger": "german", "fre": "french", "spa": "spanish", "ita": "italian",
    "jpn": "japanese", "chi": "chinese", "rus": "russian", "por": "portuguese", "nor": "norwegian",
    "dut": "dutch", "pol": "polish", "swe": "swedish", "dan": "danish", "kor": "korean",
    "tur": "turkish", "heb": "hebrew", "hun": "hungarian", "cze": "czech", "fin": "finnish",
    "gre": "greek", "per": "persian", "ara": "arabic", "ukr": "ukrainian", "und": "undetermined",
}


# --------------------------------------------------------------------------- dates

_DATE_RE = re.compile(r"^(\d{4})(?:[/-](\d{1,2})(?:[/-](\d{1,2}))?)?$")


def date_range(text: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day a PubMed date string (YYYY, YYYY/MM, YYYY/MM/DD) stands for."""
    m = _DATE_RE.match(text.strip())
    if not m:
        return None
    y = int(m.group(1))
    if m.group(2) is None:
        return dt.date(y, 1, 1), dt.date(y, 12, 31)
    mo = int(m.group(2))
    if not 1 <= mo <= 12:
        return None
    if m.group(3) is None:
        return dt.date(y, mo, 1), dt.date(y, mo, calendar.monthrange(y, mo)[1])
    try:
        d = dt.date(y, mo, int(m.group(3)))
    except ValueError:
        return None
    return d, d


# --------------------------------------------------------------------------- AST

@dataclass
class Term:
    text: str
    quoted: bool = False
    tag: str | None = None  # raw tag as typed
    fieldname: str = "all"  # canonical field
    unknown_tag: bool = False

    @property
    def wildcard(self) -> bool:
        return self.text.endswith("*")


@dataclass
class DateRange:
    fieldname: str
    lo_text: str
    hi_text: str | None  # None: a single date term
    lo: dt.date
    hi: dt.date


@dataclass
class Hist:
    key: int


@dataclass
class Group:
    inner: object


@dataclass
class BoolOp:
    op: str
    left: object
    right: object


# --------------------------------------------------------------------------- tokenizer

_TAG_RE = re.compile(r"\s*\[([^\]]*)\]")
_DATEISH = re.compile(r"^\d{4}(?:[/-]\d{1,2}){0,2}$")


@dataclass
class _Tok:
    kind: str  # LP RP OP WORD COLON HIST
    value: str = ""
    quoted: bool = False
    tag: str | None = None


def _tokenize(q: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
            continue
        if c == "(":
            out.append(_Tok("LP")); i += 1; continue
        if c == ")":
            out.append(_Tok("RP")); i += 1; continue
        if c == ":":
            out.append(_Tok("COLON")); i += 1; continue
        if c == "[":
            m = _TAG_RE.match(q, i)
            if not m:
                raise QuerySyntaxError(f"unbalanced '[' at position {i + 1}")
            raise QuerySyntaxError(f"field tag [{m.group(1)}] at position {i + 1} does not follow a term")
        if c == '"':
            j = q.find('"', i + 1)
            if j < 0:
                raise QuerySyntaxError(f"unbalanced quote at position {i + 1}")
            tok = _Tok("WORD", q[i + 1:j], quoted=True)
            i = j + 1
        else:
            j = i
            while j < n and not q[j].isspace() and q[j] not in '()"[':
                j += 1
            word = q[i:j]
            i = j
            if word in ("AND", "OR", "NOT"):
                out.append(_Tok("OP", word))
                continue
            if re.fullmatch(r"#\d+", word):
                out.append(_Tok("HIST", word[1:]))
                continue
            if ":" in word:
                left, _, right = word.partition(":")
                if _DATEISH.match(left) and _DATEISH.match(right):
                    out.append(_Tok("WORD", left))
                    out.append(_Tok("COLON"))
                    tok = _Tok("WORD", right)
                else:
                    tok = _Tok("WORD", word)
            else:
                tok = _Tok("WORD", word)
        m = _TAG_RE.match(q, i)
        if m:
            tok.tag = m.group(1).strip()
            i = m.end()
        out.append(tok)
    return out


def _merge_tagged_phrases(toks: list[_Tok]) -> list[_Tok]:
    """Unquoted untagged words directly before an unquoted tagged word form one phrase."""
    out: list[_Tok] = []
    run: list[_Tok] = []

    def flush():
        out.extend(run)
        run.clear()

    for t in toks:
        if t.kind == "WORD" and not t.quoted and t.tag is None:
            run.append(t)
            continue
        if t.kind == "WORD" and not t.quoted and t.tag is not None and run:
            words = [r.value for r in run] + [t.value]
            run.clear()
            out.append(_Tok("WORD", " ".join(words), quoted=False, tag=t.tag))
            continue
        flush()
        out.append(t)
    flush()
    return out


# --------------------------------------------------------------------------- parser

def _term_from(tok: _Tok, default_field: str = "all") -> Term:
    if tok.tag is None:
        return Term(tok.value, quoted=tok.quoted, fieldname=default_field)
    key = " ".join(tok.tag.lower().split())
    fieldname = FIELD_ALIASES.get(key)
    if fieldname is None:
        return Term(tok.value, quoted=tok.quoted, tag=tok.tag, fieldname="all", unknown_tag=True)
    return Term(tok.value, quoted=tok.quoted, tag=tok.tag, fieldname=fieldname)


class _Parser:
    def __init__(self, toks: list[_Tok], default_field: str = "all"):
        self.toks = toks
        self.i = 0
        self.default_field = default_field

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expr(self):
        node = self.unit()
        while True:
            t = self.peek()
            if t is None or t.kind == "RP":
                return node
            if t.kind == "OP":
                self.take()
                if self.peek() is None or self.peek().kind in ("RP", "OP"):
                    raise QuerySyntaxError(f"operator {t.value} is missing its right-hand term")
                node = BoolOp(t.value, node, self.unit())
            else:
                node = BoolOp("AND", node, self.unit())

    def unit(self):
        t = self.peek()
        if t is None:
            raise QuerySyntaxError("the query ends where a term was expected")
        if t.kind == "LP":
            self.take()
            if self.peek() is not None and self.peek().kind == "RP":
                raise QuerySyntaxError("empty parentheses")
            inner = self.expr()
            if self.peek() is None or self.peek().kind != "RP":
                raise QuerySyntaxError("unbalanced parentheses: missing ')'")
            self.take()
            return Group(inner)
        if t.kind == "RP":
            raise QuerySyntaxError("unbalanced parentheses: unexpected ')'")
        if t.kind == "OP":
            raise QuerySyntaxError(f"operator {t.value} is missing its left-hand term")
        if t.kind == "COLON":
            raise QuerySyntaxError("':' (date range) without a start date")
        if t.kind == "HIST":
            self.take()
            return Hist(int(t.value))
        self.take()
        nxt = self.peek()
        if nxt is not None and nxt.kind == "COLON":
            self.take()
            hi_tok = self.peek()
            if hi_tok is None or hi_tok.kind != "WORD":
                raise QuerySyntaxError("':' (date range) without an end date")
            self.take()
            return self._range(t, hi_tok)
        term = _term_from(t, self.default_field)
        if term.fieldname in DATE_FIELDS:
            rng = date_range(term.text)
            if rng is not None:
                return DateRange(term.fieldname, term.text, None, rng[0], rng[1])
        return term

    def _range(self, lo_tok: _Tok, hi_tok: _Tok) -> DateRange:
        tag = hi_tok.tag or lo_tok.tag
        fieldname = FIELD_ALIASES.get(" ".join((tag or "").lower().split()))
        if fieldname not in DATE_FIELDS:
            raise QuerySyntaxError(f"date range {lo_tok.value}:{hi_tok.value} needs a date field tag "
                                   "([dp], [pdat], [edat], [crdt] or [mdat])")
        lo, hi = date_range(lo_tok.value), date_range(hi_tok.value)
        if lo is None or hi is None:
            raise QuerySyntaxError(f"invalid date in range {lo_tok.value}:{hi_tok.value}")
        return DateRange(fieldname, lo_tok.value, hi_tok.value, lo[0], hi[1])


def parse(query: str, default_field: str = "all"):
    """The syntax tree of a PubMed query (raises QuerySyntaxError).

    ``default_field`` is the field of untagged terms (esearch's ``field`` parameter).
    """
    toks = _merge_tagged_phrases(_tokenize(query))
    if not toks:
        raise QuerySyntaxError("empty query")
    p = _Parser(toks, default_field)
    node = p.expr()
    if p.peek() is not None:
        raise QuerySyntaxError("unbalanced parentheses: unexpected ')'")
    return node


# --------------------------------------------------------------------------- index

def _find_phrase(seq: list[str], phrase: list[str], wildcard: bool) -> bool:
    k = len(phrase)
    if k == 0:
        return False
    last = phrase[-1]
    for i in range(len(seq) - k + 1):
        if seq[i:i + k - 1] != phrase[:-1]:
            continue
        w = seq[i + k - 1]
        if (w.startswith(last) if wildcard else w == last):
            return True
    return False


@dataclass
class _Doc:
    pmid: str
    ti: list[str]
    ab: list[str]
    kw: list[list[str]]
    mh_tokens: list[list[str]]
    mh: list[str]
    la: list[str]
    pt: list[str]
    au: list[str]
    ta: list[str]
    other: list[list[str]]  # author, journal, publication type token lists for [All Fields]
    dp: tuple[dt.date, ...]
    edat: dt.date | None
    crdt: dt.date | None
    mdat: dt.date | None = None


class PubmedIndex:
    """Per-record token lists for the fields the evaluator searches."""

    def __init__(self, records: Iterable[PubmedRecord], *, unknown_language_matches: bool = False):
        # Real PubMed records always carry a Language. Records converted from PsyNamic CSV do
        # not; with unknown_language_matches a [la] limit lets such records through (used only
        # for the example snapshot, and said in its manifest) instead of silently dropping them.
        self.unknown_language_matches = unknown_language_matches
        self.docs: list[_Doc] = []
        for r in records:
            self.docs.append(_Doc(
                pmid=r.pmid, ti=tokens(r.title), ab=tokens(r.abstract),
                kw=[tokens(k) for k in r.keywords], mh_tokens=[tokens(m) for m in r.mesh],
                mh=[m.casefold() for m in r.mesh], la=[x.casefold() for x in r.languages],
                pt=[x.casefold() for x in r.publication_types],
                au=[" ".join(a.casefold().replace(",", " ").split()) for a in r.authors],
                ta=[" ".join(j.casefold().split()) for j in r.journals],
                other=[tokens(a) for a in r.authors] + [tokens(j) for j in r.journals]
                + [tokens(p) for p in r.publication_types],
                dp=r.pub_dates, edat=r.entrez_date, crdt=r.create_date, mdat=r.modified_date,
            ))
        self.all_ids = frozenset(d.pmid for d in self.docs)

    # -- leaf matching
    def _text_match(self, d: _Doc, fieldname: str, phrase: list[str], wildcard: bool) -> bool:
        def any_in(lists):
            return any(_find_phrase(x, phrase, wildcard) for x in lists)
        if fieldname == "ti":
            return _find_phrase(d.ti, phrase, wildcard)
        if fieldname == "ab":
            return _find_phrase(d.ab, phrase, wildcard)
        if fieldname == "tiab":
            return _find_phrase(d.ti, phrase, wildcard) or _find_phrase(d.ab, phrase, wildcard) or any_in(d.kw)
        if fieldname == "ot":
            return any_in(d.kw)
        if fieldname == "tw":
            return (_find_phrase(d.ti, phrase, wildcard) or _find_phrase(d.ab, phrase, wildcard)
                    or any_in(d.kw) or any_in(d.mh_tokens))
        # all fields
        return (_find_phrase(d.ti, phrase, wildcard) or _find_phrase(d.ab, phrase, wildcard)
                or any_in(d.kw) or any_in(d.mh_tokens) or any_in(d.other))

    @staticmethod
    def _value_match(values: list[str], text: str, wildcard: bool) -> bool:
        t = " ".join(text.casefold().split())
        if wildcard:
            t = t[:-1]
            return bool(t) and any(v.startswith(t) for v in values)
        return t in values

    @staticmethod
    def _author_match(values: list[str], text: str, wildcard: bool) -> bool:
        t = " ".join(text.casefold().replace(",", " ").split())
        if wildcard:
            t = t[:-1].rstrip()
            return bool(t) and any(v.startswith(t) for v in values)
        for v in values:
            if v == t or v.startswith(t + " "):
                return True
            # initial truncation: "levin a" finds "levin aw"
            if " " in t and v.startswith(t) and " " not in v[len(t):]:
                return True
        return False

    def term_ids(self, term: Term) -> set[str]:
        f = term.fieldname
        wildcard = term.wildcard
        text = term.text
        out = set()
        if f in ("la",):
            t = text.casefold().strip()
            for d in self.docs:
                if any(code == t or LANGUAGE_NAMES.get(code) == t for code in d.la):
                    out.add(d.pmid)
                elif not d.la and self.unknown_language_matches:
                    out.add(d.pmid)
            return out
        if f in ("pt", "mh", "ta"):
            for d in self.docs:
                if self._value_match(getattr(d, f), text, wildcard):
                    out.add(d.pmid)
            return out
        if f == "au":
            for d in self.docs:
                if self._author_match(d.au, text, wildcard):
                    out.add(d.pmid)
            return out
        if f in DATE_FIELDS:  # a date field with text that is not a date
            return out
        phrase = tokens(text[:-1] if wildcard else text)
        if not phrase:
            return out
        for d in self.docs:
            if self._text_match(d, f, phrase, wildcard):
                out.add(d.pmid)
        return out

    def date_ids(self, node: DateRange) -> set[str]:
        out = set()
        for d in self.docs:
            if node.fieldname == "dp":
                dates = d.dp
            else:
                v = {"edat": d.edat, "crdt": d.crdt, "mdat": d.mdat}[node.fieldname]
                dates = (v,) if v else ()
            if any(node.lo <= x <= node.hi for x in dates):
                out.add(d.pmid)
        return out


# --------------------------------------------------------------------------- evaluation

@dataclass
class SearchResult:
    ids: set[str]
    translation: str
    phrases_not_found: list[str] = field(default_factory=list)
    quoted_phrases_not_found: list[str] = field(default_factory=list)
    fields_not_found: list[str] = field(default_factory=list)


def _leaves(node):
    if isinstance(node, BoolOp):
        yield from _leaves(node.left)
        yield from _leaves(node.right)
    elif isinstance(node, Group):
        yield from _leaves(node.inner)
    else:
        yield node


def _drop(node, dropped: set[int]):
    """The tree without the leaves whose id() is in ``dropped`` (None if nothing is left)."""
    if isinstance(node, BoolOp):
        left, right = _drop(node.left, dropped), _drop(node.right, dropped)
        if left is None:
            return right if node.op != "NOT" else None
        if right is None:
            return left
        return BoolOp(node.op, left, right)
    if isinstance(node, Group):
        inner = _drop(node.inner, dropped)
        if inner is None:
            return None
        return Group(inner) if isinstance(inner, BoolOp) else inner
    return None if id(node) in dropped else node


def _render_term(t: Term, found: bool = True) -> str:
    label = FIELD_LABELS[t.fieldname]
    text = " ".join(t.text.split())
    if t.fieldname in LOWERCASED:
        text = text.casefold()
    if not found or t.wildcard or t.fieldname == "au":
        return f"{text}[{label}]"
    return f'"{text}"[{label}]'


def render(node, not_found: set[int] = frozenset()) -> str:
    """PubMed-style QueryTranslation of a tree."""
    if isinstance(node, BoolOp):
        left = render(node.left, not_found)
        if isinstance(node.left, BoolOp) and node.left.op != node.op:
            left = f"({left})"
        right = render(node.right, not_found)
        if isinstance(node.right, BoolOp):
            right = f"({right})"
        return f"{left} {node.op} {right}"
    if isinstance(node, Group):
        inner = render(node.inner, not_found)
        return f"({inner})" if isinstance(node.inner, BoolOp) else inner
    if isinstance(node, Hist):
        return f"#{node.key}"
    if isinstance(node, DateRange):
        label = FIELD_LABELS[node.fieldname]
        if node.hi_text is None:
            return f'"{node.lo_text}"[{label}]'
        return f"{node.lo_text}:{node.hi_text}[{label}]"
    return _render_term(node, id(node) not in not_found)


def _evaluate(node, index: PubmedIndex, history: Callable[[int], list[str]] | None, cache: dict) -> set[str]:
    if isinstance(node, BoolOp):
        left = _evaluate(node.left, index, history, cache)
        right = _evaluate(node.right, index, history, cache)
        if node.op == "AND":
            return left & right
        if node.op == "OR":
            return left | right
        return left - right
    if isinstance(node, Group):
        return _evaluate(node.inner, index, history, cache)
    if isinstance(node, Hist):
        if history is None:
            raise HistoryError(node.key)
        return set(history(node.key))
    if id(node) in cache:
        return cache[id(node)]
    if isinstance(node, DateRange):
        return index.date_ids(node)
    return index.term_ids(node)


def search(query: str | object, index: PubmedIndex, history: Callable[[int], list[str]] | None = None,
           not_found: str = "drop", extra=None, default_field: str = "all") -> SearchResult:
    """Evaluate ``query`` (a string or a parsed tree) against ``index``.

    ``history(key)`` returns the id list of query key ``key`` (raise HistoryError if unknown).
    ``extra`` is an optional node ANDed to the query (the esearch datetype/mindate/maxdate limit).
    """
    if not_found not in ("drop", "keep"):
        raise ValueError("not_found must be 'drop' or 'keep'")
    tree = parse(query, default_field) if isinstance(query, str) else query
    cache: dict[int, set[str]] = {}
    phrases, quoted, fields = [], [], []
    missing: set[int] = set()
    for leaf in _leaves(tree):
        if not isinstance(leaf, Term):
            continue
        ids = index.term_ids(leaf)
        cache[id(leaf)] = ids
        if leaf.unknown_tag and leaf.tag not in fields:
            fields.append(leaf.tag)
        if ids:
            continue
        if leaf.quoted and leaf.tag is None:
            quoted.append(leaf.text)
        elif not leaf.quoted and leaf.tag is None and not leaf.wildcard:
            phrases.append(leaf.text)
            missing.add(id(leaf))
    if not_found == "drop" and missing:
        kept = _drop(tree, missing)
    else:
        kept = tree
    if kept is None:
        translation = f"({render(tree, missing)})"
        if extra is not None:
            translation = f"{translation} AND {render(extra)}"
        return SearchResult(set(), translation, phrases, quoted, fields)
    ids = _evaluate(kept, index, history, cache)
    translation = render(kept, missing if not_found == "keep" else frozenset())
    if extra is not None:
        ids &= index.date_ids(extra)
        if isinstance(kept, BoolOp):
            translation = f"({translation})"
        translation = f"{translation} AND {render(extra)}"
    return SearchResult(ids, translation, phrases, quoted, fields)
