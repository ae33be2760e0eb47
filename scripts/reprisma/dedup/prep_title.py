"""Normalise titles and classify what kind of item a title announces.

* ``normalise_title``: HTML/MathML tags PubMed leaves in, database notes (``[Review] [45 refs]``,
  ``[Erratum appears in ...]``, ``(Provisional abstract)``), HTML entities, unicode
  (accents folded), brackets of translated titles (``[A study of ...]``) and
  language tags (``[Article in German]``, ``[Chinese]``), punctuation, case and
  trailing periods are removed, so formatting alone never separates two records.
* ``title_kind``: ``erratum``, ``retraction``, ``comment``, ``reply`` or ``""``
  (an ordinary item) from the wording of the title. A title ending in the citation of the item
  it corrects is a correction notice: Web of Science writes ``Title (vol 360, pg 542, 2009)``,
  Embase ``Title (New England Journal of Medicine (2009) 360 (542-544))``; the citation is
  removed from the comparison form.
* ``contrast_tokens``: the words and numbers that make two otherwise identical
  titles different works — ``in vivo``/``in vitro``, ``men``/``women``,
  ``part I``/``part II``, ``phase 2``/``phase 3``, any number.
"""
from __future__ import annotations

import html
import re
import unicodedata

_TAG = re.compile(r"<[^>]{0,200}>")
_LANG_TAG = re.compile(
    r"\[\s*(?:article\s+in\s+|in\s+)?(?:english|chinese|german|french|spanish|italian|japanese|russian|"
    r"portuguese|polish|dutch|czech|hungarian|danish|swedish|norwegian|finnish|turkish|korean|hebrew|"
    r"greek|croatian|serbian|slovak|slovenian|romanian|bulgarian|ukrainian|persian|arabic|lithuanian|"
    r"estonian|latvian|icelandic|afrikaans|catalan)(?:\s*,\s*\w+)*\s*(?:abstract)?\s*\]",
    re.IGNORECASE,
)
_NOTES = re.compile(
    r"\[\s*(?:review|\d+\s*refs?\.?|erratum appears|comment (?:in|on)|retraction (?:in|of)|retracted|update (?:in|of)|"
    r"see comments?|summary for patients|corrected and republished|republished|expression of concern)[^\]]*(?:\]|$)|"
    r"\((?:provisional|structured) abstract\)|\.\s*\[[^\]]*$",
    re.IGNORECASE,
)
# The corrected item's citation at the end of a correction notice's title (see the module doc).
_CORRECTED_CITATION = re.compile(
    r"\(\s*vol\.?\s*\d+\s*,\s*(?:pg|p|pp)\.?\s*[A-Za-z]?\d+\s*,\s*(?:19|20)\d\d\s*\)\W*$|"
    r"\(\s*[A-Za-z][^()]{2,200}\(\s*(?:19|20)\d\d\s*\)\s*\d+\s*(?:\(\s*\w+\s*\)\s*)?"
    r"\(\s*[A-Za-z]?\d+(?:\s*-+\s*[A-Za-z]?\d+)?\s*\)\s*\)\W*$",
    re.IGNORECASE,
)
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_SPACES = re.compile(r"\s+")

_ERRATUM = re.compile(
    r"^(?:erratum|errata|corrigendum|corrigenda|correction|corrections|publisher'?s? (?:erratum|correction)|"
    r"author correction)\b|\b(?:erratum|corrigendum)\s+(?:to|for|in|on)\b|^\W*\[?\s*erratum",
    re.IGNORECASE,
)
_RETRACTION = re.compile(
    r"^(?:notice of retraction|retraction(?: note| notice| statement)?|withdrawn|withdrawal notice|"
    r"expression of concern|notice of concern)\b",
    re.IGNORECASE,
)
_COMMENT = re.compile(
    r"^(?:comments?|commentary|editorial comment|invited commentary|re)\s*(?:on|to|:)|"
    r"\bcomments? on\b\s*[\"'\u201c]",
    re.IGNORECASE,
)
_REPLY = re.compile(
    r"^(?:in\s+)?reply\b|^(?:authors?'?s?\s+)?(?:reply|response)\s+(?:to|from)\b|"
    r"(?:[.:;]|\s[-\u2013\u2014])\s*(?:the\s+)?(?:authors?'?\s+)?reply\W*$|^response\s*:|^authors?'?\s+(?:reply|response)\b",
    re.IGNORECASE,
)

_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8",
          "ix": "9", "x": "10", "a": "a", "b": "b"}
_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
                 "eight": "8", "nine": "9", "ten": "10", "first": "1", "second": "2", "third": "3"}
_SERIAL_WORDS = {"part", "phase", "stage", "type", "grade", "study", "trial", "class", "section", "volume",
                 "chapter", "series", "report", "paper", "level"}
# Pairs of words that name different populations or settings.
_CONTRAST_WORDS = {
    "vivo": "vivo", "vitro": "vitro", "vivos": "vivo", "silico": "silico",
    "men": "men", "women": "women", "man": "men", "woman": "women",
    "male": "male", "males": "male", "female": "female", "females": "female",
    "boys": "boys", "girls": "girls",
    "children": "children", "child": "children", "adults": "adults", "adult": "adults",
    "pediatric": "children", "paediatric": "children", "adolescent": "adolescents", "adolescents": "adolescents",
    "sensitive": "sensitive", "resistant": "resistant", "refractory": "resistant",
    "mice": "mice", "mouse": "mice", "rats": "rats", "rat": "rats",
    "humans": "human", "human": "human",
    "preliminary": "preliminary", "final": "final", "interim": "interim",
    "protocol": "protocol",
    "retrospective": "retrospective", "prospective": "prospective",
    "randomized": "randomized", "randomised": "randomized", "nonrandomized": "nonrandomized",
    "nonrandomised": "nonrandomized",
    "acute": "acute", "chronic": "chronic",
    "primary": "primary", "secondary": "secondary",
    "benign": "benign", "malignant": "malignant",
    "positive": "positive", "negative": "negative",
    "increase": "increase", "increased": "increase", "decrease": "decrease", "decreased": "decrease",
    "high": "high", "low": "low",
}


def fold(text: str) -> str:
    """Unicode-fold: NFKD, drop combining marks, lower case."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def clean_markup(value: object) -> str:
    """Drop tags and entities, keep the visible text."""
    if not isinstance(value, str):
        return ""
    text = _TAG.sub(" ", value)
    return html.unescape(text)


def normalise_title(value: object) -> str:
    """Return the comparison form of a title (``""`` when absent)."""
    text = clean_markup(value)
    if not text.strip():
        return ""
    text = _NOTES.sub(" ", text)
    text = _CORRECTED_CITATION.sub(" ", text)
    text = _LANG_TAG.sub(" ", text)
    text = fold(text).replace("&", " and ")
    text = _NON_WORD.sub(" ", text).replace("_", " ")
    text = _LETTER_DIGIT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def title_kind(value: object) -> str:
    """Classify the item a title announces (``""`` for an ordinary article)."""
    text = clean_markup(value).strip().lstrip("[(\"' ")
    if not text:
        return ""
    if _RETRACTION.search(text):
        return "retraction"
    if _ERRATUM.search(text) or _CORRECTED_CITATION.search(text):
        return "erratum"
    if _REPLY.search(text):
        return "reply"
    if _COMMENT.search(text):
        return "comment"
    return ""


def contrast_tokens(normalised: str) -> str:
    """Return the sorted, space-separated discriminating tokens of a normalised title."""
    if not normalised:
        return ""
    words = normalised.split()
    found: set[str] = set()
    for i, w in enumerate(words):
        if w.isdigit():
            found.add("#" + (w.lstrip("0") or "0"))
            continue
        if w in _CONTRAST_WORDS:
            found.add(_CONTRAST_WORDS[w])
            continue
        if i > 0 and words[i - 1] in _SERIAL_WORDS:
            if w in _ROMAN:
                found.add("#" + _ROMAN[w])
            elif w in _NUMBER_WORDS:
                found.add("#" + _NUMBER_WORDS[w])
        elif w in ("ii", "iii", "iv", "vi", "vii", "viii"):
            found.add("#" + _ROMAN[w])
        elif w in _NUMBER_WORDS and i + 1 < len(words) and words[i + 1] in _SERIAL_WORDS:
            found.add("#" + _NUMBER_WORDS[w])
    return " ".join(sorted(found))


_OPPOSITES = [
    ("vivo", "vitro"), ("vivo", "silico"), ("vitro", "silico"), ("men", "women"), ("male", "female"),
    ("boys", "girls"), ("children", "adults"), ("adolescents", "adults"), ("adolescents", "children"),
    ("sensitive", "resistant"), ("mice", "rats"), ("mice", "human"), ("rats", "human"),
    ("preliminary", "final"), ("interim", "final"), ("protocol", "final"),
    ("retrospective", "prospective"), ("randomized", "nonrandomized"), ("acute", "chronic"),
    ("primary", "secondary"), ("benign", "malignant"), ("positive", "negative"),
    ("increase", "decrease"), ("high", "low"),
]


def contrast_conflict(a: str, b: str) -> str:
    """Why two titles' contrast tokens (from :func:`contrast_tokens`) say different works, or ``""``.

    Numbers (``part 2``, ``phase III``, ``12 months``) must agree exactly; a word must not
    face its opposite (``in vivo`` vs ``in vitro``, ``men`` vs ``women``) unless both titles have both.
    """
    if a == b:
        return ""
    sa, sb = set(a.split()), set(b.split())
    na = {t for t in sa if t.startswith("#")}
    nb = {t for t in sb if t.startswith("#")}
    if na != nb:
        return "numbers " + (",".join(sorted(na)) or "-") + " vs " + (",".join(sorted(nb)) or "-")
    for x, y in _OPPOSITES:
        ax, ay, bx, by = x in sa, y in sa, x in sb, y in sb
        if (ax and not ay and by and not bx) or (ay and not ax and bx and not by):
            return f"{x}/{y}"
    return ""


# --- the title without the notice's own words, generic titles, the title's language -------------

_KIND_WORDS = re.compile(
    r"^(?:(?:notice of )?retraction(?: note| notice| statement)?|withdrawn|erratum(?: to| for| in| on)?|errata|"
    r"corrigendum(?: to| for| in| on)?|corrigenda|corrections?(?: to| for| in| on)?|publisher s (?:erratum|correction)|"
    r"author correction|expression of concern|in reply|reply(?: to| from)?|response(?: to| from)?|"
    r"authors? (?:reply|response)|comments?(?: on| to)?|commentary(?: on)?|editorial comment|re)\s+"
)
_KIND_TAIL = re.compile(r"\s+(?:the\s+)?(?:authors?\s+)?reply$|\s+multiple letters(?:\s+\d+)?$")


def title_core(normalised: str) -> str:
    """A normalised title without the words that announce a notice (``erratum``, ``reply to``,
    ``comment on``, a trailing ``reply``, Embase's ``(multiple letters) [1]``): what a correction
    notice, a reply or a comment shares with the article it is about."""
    text = _KIND_WORDS.sub("", normalised, count=1)
    return _KIND_TAIL.sub("", text).strip()


# Standing columns and editorial matter: the same title in many issues of one journal.
_GENERIC = re.compile(
    r"^(?:(?:guest |the )?editorials?|editor s (?:comments?|note|notes|introduction|letter)|from the editors?|"
    r"(?:a )?(?:letter|message|note|notes) from the (?:editors?|editor in chief|president)|editors? notes?|"
    r"in this issue|this issue|introduction|preface|foreword|prologue|epilogue|book reviews?|reviews?|news|"
    r"news and views|announcements?|correspondence|letters?(?: to the editor)?|acknowledge?ments?|"
    r"(?:reviewers?|referees?)(?: list| acknowledge?ment)?|thank you to (?:our )?reviewers|index|author index|"
    r"subject index|(?:table of )?contents|masthead|issue information|editorial board|call for papers|"
    r"errata|erratum|corrigendum|abstracts?|commentary|comments?|highlights|current awareness|"
    r"in memoriam|obituary|what s new|research highlights|in brief)(?: \d+)*$"
)


def is_generic_title(normalised: str) -> bool:
    """A known standing-column or editorial title (``Editor's comments``, ``Editorial``, ``In this
    issue``): it names a column, not a work."""
    return bool(normalised) and bool(_GENERIC.match(normalised))


# A title's language, from its function words (enough to tell an English title from its German,
# French, Spanish, Portuguese, Italian or Dutch original; "" when no function word decides).
_FUNCTION_WORDS = {
    "en": {"the", "of", "and", "in", "with", "for", "on", "from", "by", "an", "to", "after", "versus", "between"},
    "de": {"der", "die", "das", "und", "mit", "bei", "beim", "von", "zur", "zum", "des", "den", "dem", "ein", "eine",
           "einer", "nach", "fur", "uber", "im", "vom", "oder", "als"},
    "fr": {"le", "la", "les", "des", "du", "et", "dans", "avec", "pour", "une", "sur", "chez", "au", "aux", "par"},
    "es": {"el", "los", "las", "del", "y", "con", "en", "para", "una", "por", "tras", "sobre", "entre"},
    "pt": {"o", "os", "as", "do", "da", "dos", "das", "e", "com", "em", "para", "uma", "no", "na", "nos", "pelo"},
    "it": {"il", "lo", "gli", "della", "delle", "dei", "di", "e", "con", "nel", "nella", "per", "una", "dopo"},
    "nl": {"het", "een", "van", "en", "met", "bij", "voor", "na", "op", "door", "naar"},
}


def title_language(normalised: str) -> str:
    """The language whose function words the title uses most, with a clear lead (one word against none,
    or at least twice the runner-up's), else ``""``."""
    words = normalised.split()
    if len(words) < 3:
        return ""
    counts = sorted(((sum(w in fw for w in words), lang) for lang, fw in _FUNCTION_WORDS.items()), reverse=True)
    (best, lang), (second, _) = counts[0], counts[1]
    return lang if best >= 1 and best >= 2 * second + 1 else ""
