"""The match rules as data: vetoes and named rules over the features of :mod:`.features`.

One table each, read by :func:`reprisma.dedup.match.match` (the decisions), by the explanations
table (``fields_compared``), by clustering (rule strength = table order) and by the README's rule
list (:func:`rules_markdown`; a test checks the README holds it verbatim).

Precision first: a false merge deletes a study. So

1. an **identifier** rule matches (in the order of :data:`IDENTIFIER_RULES`, the first wins, and it
   overrides everything below);
2. otherwise the **vetoes** (:data:`VETOES`, the first that holds is the reason recorded) keep a
   pair apart and, when the titles are close (``title_sim`` >= :data:`MAYBE_TITLE`), the DOI is
   shared, a notice's title without its own words matches (``core_sim`` >= :data:`NOTICE_CORE`) or
   a reason veto (:data:`REASON_VETOES`) holds with ``title_sim`` >= :data:`CLOSE_TITLE`, become ``cannot`` links
   so union-find never chains across them (and the maybe list shows them);
3. otherwise the first **fuzzy** rule (:data:`FUZZY_RULES`) that holds matches;
4. a pair left over is ``maybe`` (listed for a human) when its titles are close and no kind or
   contrast veto holds, or when it shares a DOI.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

import numpy as np

Arrays = dict[str, np.ndarray]
Condition = Callable[[Arrays], np.ndarray]

MAYBE_TITLE = 85.0
# Titles this close are compared in detail (the pre-filter's and the detailed comparisons' bound).
CLOSE_TITLE = 80.0
# A notice (erratum, reply, comment) whose title without its own words is this close to another
# record's title is about that record: kept apart, listed for a reviewer.
NOTICE_CORE = 90.0


@dataclass(frozen=True)
class Veto:
    """A reason two records are never merged by a fuzzy rule."""

    name: str
    doc: str
    when: Condition
    reason: Union[str, Callable[[Arrays], np.ndarray]]  # the ``veto`` text (per pair when callable)


@dataclass(frozen=True)
class Rule:
    """A reason two records are one: ``when`` over the features, ``fields`` for the explanations."""

    name: str
    fields: str
    doc: str
    when: Condition
    clears_veto: bool = False  # the rule decides over a veto it has checked itself (recorded veto = "")


def _contrast_reason(f: Arrays) -> np.ndarray:
    out = np.full(len(f["contrast"]), "", dtype=object)
    m = f["contrast_ne"]
    out[m] = ["contrast " + c for c in f["contrast"][m]]
    return out


VETOES: list[Veto] = [
    Veto("kind", "different kind of item: erratum, retraction notice, comment, reply, conference abstract"
         " or registration vs article (a conference label guessed from the venue name alone is excused"
         " when journal, year, volume, first page, title (>= 95) and authors (>= 85) agree, or when the"
         " other record is that meeting abstract in print: a supplement or a single page, same journal"
         " and year, title >= 97, authors >= 90)",
         lambda f: f["kind_ne"], lambda f: f["kind_text"]),
    Veto("contrast", "the titles contrast: numbers, part/phase, in vivo/in vitro, men/women, ...",
         lambda f: f["contrast_ne"], _contrast_reason),
    Veto("doi", "different DOIs", lambda f: f["doi_ne"], "different doi"),
    Veto("years", "years more than one apart", lambda f: f["year_known"] & (f["year_gap"] > 1), "years differ"),
    Veto("first page", "different first pages (a one-digit typo with the same last page is no difference;"
         " unparsable pages agree when written the same; a record whose volume, issue and page are shifted"
         " one column has no page)", lambda f: f["page_ne"], "different first page"),
    Veto("volume", "different volumes", lambda f: f["vol_ne"], "different volume"),
    Veto("empty title", "an empty title", lambda f: f["empty_title"], "empty title"),
    Veto("generic title", "a generic title (a standing column such as `Editor's comments`, `Editorial`, `In this"
         " issue`, or a title the corpus holds at three or more places) whose volume, first page and issue do"
         " not all agree", lambda f: f["generic"] & ~f["locators_agree"], "generic title: volume/issue/pages differ"),
]
# Vetoes a reviewer should see: the pair looks like one record but a rule refused it for what the
# records say they are (a notice and its article, two phases, a column in two issues).
REASON_VETOES = ("kind", "contrast", "generic title")

IDENTIFIER_RULES: list[Rule] = [
    Rule("pmid", "pmid", "same PMID", lambda f: f["pmid_eq"]),
    Rule("pmcid", "pmcid", "same PMCID", lambda f: f["pmcid_eq"]),
    Rule("nct_registration", "nct", "the same NCT registration (two registry records)", lambda f: f["reg_eq"]),
    Rule("doi", "doi,title,kind", "same DOI, same kind of item, no contrast in the titles and title_sim >= 60,"
         " or one title a truncation of the other (prefix_sim >= 95: a subtitle dropped), or one title empty;"
         " a shared DOI otherwise is a `maybe`",
         lambda f: (f["doi_eq"] & ~f["kind_ne"] & ~f["contrast_ne"]
                    & ((f["title_sim"] >= 60) | (f["prefix_sim"] >= 95) | f["empty_title"]))),
    Rule("doi+authors+year", "doi,authors,year,pages,volume,kind (titles in two languages)",
         "same DOI and kind, the titles in different languages (or one marked as a translation), author_sim >="
         " 85, years at most 1 apart, no different volume or first page: the title is not compared",
         lambda f: (f["doi_eq"] & ~f["kind_ne"] & f["other_language"] & (f["author_sim"] >= 85) & f["year_close"]
                    & ~f["vol_ne"] & ~f["page_ne"])),
]


def _clean(f: Arrays) -> np.ndarray:
    """No veto, and a short title (< 4 words) has the same first page and volume or journal."""
    return ~f["vetoed"] & f["short_ok"]


FUZZY_RULES: list[Rule] = [
    Rule("title+authors", "title,authors,year,pages,volume,journal,kind",
         "title_sim >= 95, author_sim >= 85, years at most 1 apart, at least two of {same year, same first"
         " page, same volume, same journal}, one of them the page or the journal",
         lambda f: ((f["title_sim"] >= 95) & (f["author_sim"] >= 85) & f["year_close"] & (f["support"] >= 2)
                    & (f["page_eq"] | f["journal_ok"]) & _clean(f))),
    Rule("title+pages+volume", "title,pages,volume,year,authors,kind",
         "title_sim >= 90, same first page and volume, years at most 1 apart, author_sim >= 70 or authors"
         " missing on one side",
         lambda f: ((f["title_sim"] >= 90) & f["page_eq"] & f["vol_eq"] & f["year_close"]
                    & ((f["author_sim"] >= 70) | f["authors_missing"]) & _clean(f))),
    Rule("authors+pages", "authors,title,year,pages,volume,journal,kind",
         "title_sim >= 85, author_sim >= 95, same year and first page, and same volume or journal",
         lambda f: ((f["title_sim"] >= 85) & (f["author_sim"] >= 95) & f["same_year"] & f["page_eq"]
                    & (f["vol_eq"] | f["journal_ok"]) & _clean(f))),
    Rule("title+journal+pages+volume", "title,journal,year,pages,volume,kind",
         "title_sim >= 97, same year, first page, volume and journal (authors may be garbled:"
         " `Group, ASCUS-LSIL Triage Study` vs `Solomon, D`)",
         lambda f: (f["title_sim"] >= 97) & f["same_issue_page"] & _clean(f)),
    Rule("title-prefix+journal+pages+volume", "title prefix,journal,year,pages,volume,authors,kind",
         "one title is a truncation of the other or sits inside it (the shorter, >= 30 characters and 4"
         " words, aligns with part of the longer at partial_ratio >= 95), same year, first page, volume and"
         " journal, author_sim >= 85, same kind, no different DOI, no contrast in the shared part (a"
         " contrast in the cut-off part is no veto)",
         lambda f: ((f["prefix_sim"] >= 95) & f["same_issue_page"] & (f["author_sim"] >= 85) & ~f["kind_ne"]
                    & ~f["doi_ne"] & (f["prefix_contrast"] == "") & f["only_contrast_veto"] & ~f["empty_title"]),
         clears_veto=True),
    Rule("authors+journal+pages+volume", "authors,journal,year,pages,volume,kind,translated title",
         "author_sim >= 95, same year, first page, volume and journal, the titles in different languages or"
         " one marked as a translation (`[...]`), no veto: an original-language title vs its English"
         " translation (without that, abstracts printed on one supplement page by one group would merge)",
         lambda f: (f["same_issue_page"] & (f["author_sim"] >= 95) & f["other_language"] & ~f["vetoed"]
                    & ~f["empty_title"])),
    Rule("journal+page-range+volume", "journal,year,pages (first and last),volume,authors,kind,translated title",
         "the titles in different languages or one marked as a translation, same year, volume, journal and page"
         " range (first and last page, more than one page, not a supplement), author_sim >= 85 or authors"
         " missing on one side, no veto: a translated title is never compared, the locators decide",
         lambda f: (f["same_issue_page"] & f["same_page_range"] & f["other_language"]
                    & ((f["author_sim"] >= 85) | f["authors_missing"]) & ~f["vetoed"] & ~f["empty_title"])),
    Rule("title-prefix+pages+volume+authors", "title prefix,year,pages,volume,authors,kind",
         "one title a truncation of the other (a subtitle dropped; prefix_sim >= 95 as above), same year, first"
         " page and volume, author_sim >= 90 with authors on both sides, same kind, no different DOI, no"
         " contrast in the shared part: the journal may be written in another language or form",
         lambda f: ((f["prefix_sim"] >= 95) & f["same_year"] & f["page_eq"] & f["vol_eq"] & (f["author_sim"] >= 90)
                    & ~f["kind_ne"] & ~f["doi_ne"] & (f["prefix_contrast"] == "") & f["only_contrast_veto"]
                    & ~f["empty_title"]),
         clears_veto=True),
    Rule("title+authors+year", "title,authors,year,kind (no pages or volume on either)",
         "title_sim >= 97, author_sim >= 90 (or no authors on either), same year, at least four title words,"
         " and neither record has pages or volume (nothing that could contradict: conference papers, reports)",
         lambda f: ((f["title_sim"] >= 97) & ((f["author_sim"] >= 90) | f["no_authors"]) & f["same_year"]
                    & f["bare"] & ~f["vetoed"] & ~f["short_title"])),
]

RULES: list[Rule] = IDENTIFIER_RULES + FUZZY_RULES
RULE_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}
OVERRIDE = Rule("override", "human decision", "a merge forced in `config/dedup_overrides.tsv`",
                lambda f: np.zeros(0, dtype=bool))
# Clustering applies unions strongest first: overrides, identifiers, then the fuzzy rules in order.
RULE_ORDER: list[str] = [OVERRIDE.name] + [r.name for r in RULES]
FIELDS_COMPARED: dict[str, str] = {OVERRIDE.name: OVERRIDE.fields} | {r.name: r.fields for r in RULES}


def decide(f: Arrays, disabled: frozenset[str] = frozenset()) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(decision, rule, veto, veto_name) per pair: ``match``/``cannot``/``maybe``/``""``, the rule's
    name, the veto recorded and the name of that veto. Rules named in ``disabled`` are skipped (the
    benchmark's leave-one-dataset-out runs). Adds ``vetoed`` and ``only_contrast_veto`` to ``f``."""
    unknown = set(disabled) - set(RULE_BY_NAME)
    if unknown:
        raise ValueError(f"unknown rule(s): {', '.join(sorted(unknown))}")
    n = len(f["title_sim"])
    veto = np.full(n, "", dtype=object)
    veto_name = np.full(n, "", dtype=object)
    for v in VETOES:
        m = v.when(f) & (veto == "")
        veto[m] = v.reason(f)[m] if callable(v.reason) else v.reason
        veto_name[m] = v.name
    f["vetoed"] = veto != ""
    f["only_contrast_veto"] = ~f["vetoed"] | (f["contrast_ne"] & ~f["kind_ne"])

    rule = np.full(n, "", dtype=object)
    for r in IDENTIFIER_RULES:
        if r.name in disabled:
            continue
        m = r.when(f) & (rule == "")
        rule[m] = r.name
    by_identifier = rule != ""
    for r in FUZZY_RULES:
        if r.name in disabled:
            continue
        m = r.when(f) & (rule == "")
        rule[m] = r.name
        if r.clears_veto:
            veto[m] = ""
    veto[by_identifier] = ""
    matched = rule != ""
    veto_name[veto == ""] = ""
    decision = np.where(matched, "match", "").astype(object)
    # A reason veto (notice vs article, contrast, generic title) on a pair whose titles are close
    # (title_sim >= CLOSE_TITLE) is a cannot-link too: the maybe list shows every such refusal.
    reason = np.isin(veto_name, REASON_VETOES) & (f["title_sim"] >= CLOSE_TITLE)
    cannot = ~matched & (veto != "") & ((f["title_sim"] >= MAYBE_TITLE) | f["doi_eq"] | reason
                                        | (f["kind_ne"] & (f["core_sim"] >= NOTICE_CORE)))
    decision[cannot] = "cannot"
    maybe = (decision == "") & (((f["title_sim"] >= MAYBE_TITLE) & ~f["kind_ne"] & ~f["contrast_ne"]) | f["doi_eq"])
    decision[maybe] = "maybe"
    return decision, rule, veto, veto_name


def rules_markdown() -> str:
    """The rule list for the README (generated from the tables; a test keeps them equal)."""
    lines = ["Identifiers (the first that holds matches, over any veto):", ""]
    lines += [f"- `{r.name}`: {r.doc}." for r in IDENTIFIER_RULES]
    lines += ["", "Vetoes (never merged by a fuzzy rule; the first that holds is the reason recorded):", ""]
    lines += [f"- {v.name}: {v.doc}." for v in VETOES]
    lines += ["", "Fuzzy rules (no veto; the first that holds matches):", ""]
    lines += [f"- `{r.name}`: {r.doc}." for r in FUZZY_RULES]
    lines += ["", f"Left over: `maybe` when title_sim >= {MAYBE_TITLE:g} and no kind or contrast veto, or the"
              " DOI is shared. The maybe list also shows every pair a veto of "
              + ", ".join(REASON_VETOES) + " refused (a notice whose title without its own words matches at"
              f" core_sim >= {NOTICE_CORE:g}, or any such pair with title_sim >= {CLOSE_TITLE:g}), and vetoed pairs with"
              " title_sim >= 95.", ""]
    return "\n".join(lines)
