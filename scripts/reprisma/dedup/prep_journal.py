"""Normalise journal names and compare abbreviations with full titles.

``J Am Soc Nephrol`` and ``Journal of the American Society of Nephrology`` are compatible:
after dropping stop words each word of the shorter form is a prefix of the corresponding word
of the longer form, in order (the ISO 4 abbreviation rule). Parenthesised places, ``The``,
``&``/``and`` and punctuation never separate two names.
"""
from __future__ import annotations

import re

from rapidfuzz import fuzz

from .prep_title import clean_markup, fold

_PAREN = re.compile(r"\([^)]*\)")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_STOP = {"the", "of", "and", "for", "in", "on", "de", "la", "le", "der", "die", "das", "und", "et", "des",
         "du", "y", "a", "an"}


def normalise_journal(value: object) -> str:
    """Comparison form: folded, punctuation-free words, stop words and parentheses removed."""
    text = clean_markup(value)
    if not text.strip():
        return ""
    text = fold(_PAREN.sub(" ", text)).replace("&", " ")
    words = [w for w in _NON_WORD.split(text) if w and w not in _STOP]
    return " ".join(words)


def _prefix_match(short: list[str], long: list[str]) -> bool:
    j = 0
    for w in short:
        while j < len(long) and not long[j].startswith(w):
            j += 1
        if j == len(long):
            return False
        j += 1
    return True


def _concatenated_prefixes(s: str, words: list[str]) -> bool:
    """Can ``s`` be cut into prefixes of ``words`` taken in order (words may be skipped)?
    ``jthoraccardiovascsurg`` vs ``journal thoracic cardiovascular surgery``."""
    memo: dict[tuple[int, int], bool] = {}

    def can(i: int, j: int) -> bool:
        if i == len(s):
            return True
        if j == len(words):
            return False
        key = (i, j)
        if key in memo:
            return memo[key]
        w = words[j]
        ok = False
        k = 0
        while k < len(w) and i + k < len(s) and s[i + k] == w[k]:
            k += 1
            if can(i + k, j + 1):
                ok = True
                break
        if not ok:
            ok = can(i, j + 1)
        memo[key] = ok
        return ok

    return len(s) >= 2 and can(0, 0)


def journal_similarity(a: str, b: str) -> float:
    """0-100: 100 for equal or abbreviation-compatible names, else rapidfuzz's token ratio."""
    if not a or not b:
        return -1.0
    if a == b:
        return 100.0
    wa, wb = a.split(), b.split()
    if _prefix_match(wa, wb) or _prefix_match(wb, wa):
        return 100.0
    ca, cb = a.replace(" ", ""), b.replace(" ", "")
    if (len(wa) == 1 or len(ca) <= 40) and _concatenated_prefixes(ca, wb):
        return 100.0
    if (len(wb) == 1 or len(cb) <= 40) and _concatenated_prefixes(cb, wa):
        return 100.0
    # Long multi-name entries (``X = Y = Z`` for translated journals): any sub-name compatible.
    return float(max(fuzz.token_set_ratio(a, b), fuzz.ratio(a, b)))
