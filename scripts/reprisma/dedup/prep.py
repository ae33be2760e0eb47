"""Step 1: bring both input shapes to one normalised frame.

Input shapes:
(a) the bib-dedupe benchmark table: ``ID, title, year, author, pages, volume, number, ENTRYTYPE,
    journal`` and optionally ``doi, abstract, booktitle, issue, ...`` (BibTeX authors);
(b) the pipeline's record schema (``workflow/schemas/record.schema.json``): ``record_id, pmid,
    doi, nct_ids, title, abstract, authors, journal, journal_abbrev, volume, issue, pages, year,
    publication_types, source, ...``.

``prep`` returns a frame indexed 0..n-1 holding the original id (``record_id``), the original
display fields and the normalised comparison fields (``n_*``), sorted by ``record_id`` so that
everything downstream is independent of input order.

:func:`read_fields` takes the display fields from either shape; then each step of
:data:`PREP_STEPS` (one named normalised field or group of fields, mostly one ``prep_<field>``
module each) adds its ``n_*`` columns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from reprisma.errors import ReprismaError
from .prep_author import author_string, parse_bibtex_authors, parse_record_authors
from .prep_doi import normalise_doi
from .prep_kind import is_conference_venue, record_kind, weak_conference
from .prep_journal import normalise_journal
from .prep_pages import normalise_pages
from .prep_title import (contrast_tokens, is_generic_title, normalise_title, title_core, title_kind,
                         title_language)
from .prep_year import normalise_year

_NCT = re.compile(r"\bNCT\d{8}\b", re.IGNORECASE)
_SUPPLEMENT = re.compile(r"(?i)\bsuppl|^\s*s\d")
# A title found at this many different places (volume + first page) is a recurring, generic title.
RECURRING_PLACES = 3


class InputError(ReprismaError, ValueError):
    """The records table cannot be deduplicated (missing column, duplicate id, ...)."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return "; ".join(str(v) for v in value)
    return str(value).strip()


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, float) and value != value:
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        return [v for v in value if v is not None and str(v).strip()]
    text = str(value).strip()
    if not text:
        return []
    if text.startswith("["):
        import json

        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return [v for v in parsed if v is not None and str(v).strip()]
        except ValueError:
            pass
    return [v.strip() for v in re.split(r";|\|", text) if v.strip()]


def input_shape(df: pd.DataFrame) -> str:
    """``"record"`` (pipeline schema), ``"benchmark"`` (bib-dedupe table) or an error."""
    if "record_id" in df.columns:
        return "record"
    if "ID" in df.columns:
        return "benchmark"
    raise InputError("records table has neither a 'record_id' nor an 'ID' column")


def _col(df: pd.DataFrame, *names: str) -> pd.Series:
    for name in names:
        if name in df.columns:
            return df[name]
    return pd.Series([None] * len(df), index=df.index, dtype=object)


@dataclass
class Fields:
    """What :func:`read_fields` took from the input: the display columns (``out``) and the
    per-record lists the steps need."""

    out: pd.DataFrame
    authors: list
    pmid: np.ndarray
    pmcid: np.ndarray
    pubtypes: list
    nct_lists: list
    entrytype: list


def read_fields(df: pd.DataFrame) -> Fields:
    """The display fields of a records table (either shape), ids checked."""
    shape = input_shape(df)
    idcol = "record_id" if shape == "record" else "ID"
    ids = df[idcol].map(_text)
    if (ids == "").any():
        pos = int(np.flatnonzero((ids == "").to_numpy())[0])
        raise InputError(f"row {pos + 1}: empty {idcol}")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(f"duplicate {idcol} {dup.iloc[0]!r} (row {int(dup.index[0]) + 1})")

    out = pd.DataFrame({"record_id": ids.to_numpy()})
    out["title"] = _col(df, "title").map(_text).to_numpy()
    pmid = _col(df, "pmid").map(_text).to_numpy()
    pmcid = _col(df, "pmcid").map(_text).str.upper().to_numpy()
    if shape == "record":
        authors = [parse_record_authors(_as_list(v)) for v in _col(df, "authors")]
        source = _col(df, "source").map(_text).to_numpy()
        pubtypes = [_as_list(v) for v in _col(df, "publication_types")]
        nct_lists = [_as_list(v) for v in _col(df, "nct_ids")]
        entrytype = [""] * len(df)
        journal = _col(df, "journal").map(_text)
        journal = journal.where(journal != "", _col(df, "journal_abbrev").map(_text)).to_numpy()
        issue = _col(df, "issue").map(_text).to_numpy()
    else:
        author_col = _col(df, "author").map(_text)
        amap = {v: parse_bibtex_authors(v) for v in pd.unique(author_col)}
        authors = [amap[v] for v in author_col]
        source = np.array([""] * len(df), dtype=object)
        pubtypes = [[]] * len(df)
        nct_lists = [[]] * len(df)
        entrytype = list(_col(df, "ENTRYTYPE").map(_text))
        journal = _col(df, "journal").map(_text)
        journal = journal.where(journal != "", _col(df, "booktitle").map(_text)).to_numpy()
        issue = _col(df, "issue", "number").map(_text).to_numpy()
    out["source"] = source
    out["journal"] = journal
    year_raw = _col(df, "year").map(_text)
    if shape == "record":  # fall back on the publication date when the year is unknown
        year_raw = year_raw.where(year_raw != "", _col(df, "pub_date").map(_text).str[:4])
    out["year_raw"] = year_raw.to_numpy()
    out["volume"] = _col(df, "volume").map(_text).to_numpy()
    out["issue"] = issue
    out["pages"] = _col(df, "pages").map(_text).to_numpy()
    out["doi"] = _col(df, "doi").map(_text).to_numpy()
    out["abstract"] = _col(df, "abstract").map(_text).to_numpy()
    return Fields(out, authors, pmid, pmcid, pubtypes, nct_lists, entrytype)


def _title(out: pd.DataFrame, fields: Fields) -> None:
    title = out["title"].to_numpy()
    ntitle_map = {t: normalise_title(t) for t in pd.unique(title)}
    out["n_title"] = [ntitle_map[t] for t in title]
    contrast_map = {t: contrast_tokens(t) for t in pd.unique(out["n_title"])}
    out["n_contrast"] = [contrast_map[t] for t in out["n_title"]]
    out["n_title_words"] = np.array([t.count(" ") + 1 if t else 0 for t in out["n_title"]], dtype=np.int32)
    # MEDLINE marks a translated title with square brackets: "[A study of ...]".
    stripped = pd.Series(title, dtype=object).str.strip().str.rstrip(".")
    out["n_translated"] = (stripped.str.startswith("[") & stripped.str.endswith("]")).to_numpy()
    uniq = pd.unique(out["n_title"])
    core_map = {t: title_core(t) for t in uniq}
    out["n_title_core"] = [core_map[t] for t in out["n_title"]]
    lang_map = {t: title_language(t) for t in uniq}
    out["n_lang"] = [lang_map[t] for t in out["n_title"]]


def _generic(out: pd.DataFrame, fields: Fields) -> None:
    """A generic title: a known column or editorial pattern, or a title the corpus holds at
    RECURRING_PLACES or more different places (different volumes, or different volume + first page
    pairs), as a standing column recurs across issues. Issues are not counted: some exports fill the
    issue field with a running number."""
    known = {t: is_generic_title(t) for t in pd.unique(out["n_title"])}
    titled = out[(out["n_title"] != "") & (out["n_volume"] != "")]
    volumes = titled.drop_duplicates(["n_title", "n_volume"]).groupby("n_title").size()
    placed = titled[titled["n_page_first"] != ""]
    places = placed.drop_duplicates(["n_title", "n_volume", "n_page_first"]).groupby("n_title").size()
    recurring = set(volumes[volumes >= RECURRING_PLACES].index) | set(places[places >= RECURRING_PLACES].index)
    out["n_generic"] = [known[t] or t in recurring for t in out["n_title"]]


def _authors(out: pd.DataFrame, fields: Fields) -> None:
    out["n_authors"] = [author_string(a) for a in fields.authors]
    out["n_first_author"] = [a[0][0] if a else "" for a in fields.authors]
    out["n_author_count"] = np.array([len(a) for a in fields.authors], dtype=np.int32)


def _journal(out: pd.DataFrame, fields: Fields) -> None:
    jmap = {j: normalise_journal(j) for j in pd.unique(out["journal"])}
    out["n_journal"] = [jmap[j] for j in out["journal"]]


def _kind(out: pd.DataFrame, fields: Fields) -> None:
    title = out["title"].to_numpy()
    kind_map = {t: title_kind(t) for t in pd.unique(title)}
    conf_venue = {j: is_conference_venue(j) for j in pd.unique(out["journal"])}
    out["n_kind"] = [record_kind(kind_map[t], pt, et, conf_venue[j])
                     for t, pt, et, j in zip(title, fields.pubtypes, fields.entrytype, out["journal"])]
    # A trial registration is never the same record as an article (studies vs reports):
    # registrations get their own kind, so only the NCT rule can join two of them.
    registration = (out["source"] == "ctgov").to_numpy() | out["record_id"].str.startswith("ctgov:").to_numpy()
    if registration.any():
        out.loc[registration, "n_kind"] = "registration"
    out["n_kind_weak"] = [weak_conference(k, kind_map[t], pt, et)
                          for k, t, pt, et in zip(out["n_kind"], title, fields.pubtypes, fields.entrytype)]


def _year(out: pd.DataFrame, fields: Fields) -> None:
    out["n_year"] = np.array([normalise_year(v) for v in out["year_raw"]], dtype=np.int32)


def _volume_issue(out: pd.DataFrame, fields: Fields) -> None:
    out["n_volume"] = out["volume"].str.extract(r"(\d+)", expand=False).fillna("").str.lstrip("0").to_numpy()
    out["n_issue"] = out["issue"].str.extract(r"^\s*(\d+)\s*$", expand=False).fillna("").str.lstrip("0").to_numpy()
    # Journal supplements ("Suppl. 2", "s2", "S12-S15") print meeting abstracts.
    supplement = pd.Series(False, index=out.index)
    for col in ("volume", "issue", "pages"):
        supplement |= out[col].str.contains(_SUPPLEMENT, na=False)
    out["n_supplement"] = supplement.to_numpy()


def _pages(out: pd.DataFrame, fields: Fields) -> None:
    pages = [normalise_pages(p) for p in out["pages"]]
    out["n_page_first"] = [p[0] for p in pages]
    out["n_page_last"] = [p[1] for p in pages]
    # Pages no rule can parse ("87A", "S27", "01-Aug" from a spreadsheet): compared as written,
    # when they hold a number at all ("Abstract" locates nothing).
    out["n_page_raw"] = [raw.lower().replace(" ", "") if not p[0] and any(c.isdigit() for c in raw) else ""
                         for raw, p in zip(out["pages"], pages)]


def _identifiers(out: pd.DataFrame, fields: Fields) -> None:
    out["n_doi"] = [normalise_doi(d) for d in out["doi"]]
    out["n_pmid"] = [p if p.isdigit() else "" for p in fields.pmid]
    out["n_pmcid"] = fields.pmcid
    # Registrations: a ctgov record's own NCT id; reports: the NCT ids they mention.
    out["n_registration"] = [rid.split(":", 1)[1].upper() if rid.startswith("ctgov:") else ""
                             for rid in out["record_id"]]
    mentioned = []
    for lst, abstract in zip(fields.nct_lists, out["abstract"]):
        found = {str(v).upper() for v in lst}
        found.update(m.upper() for m in _NCT.findall(abstract or ""))
        mentioned.append(" ".join(sorted(found)))
    out["n_nct_mentioned"] = mentioned
    is_pubmed = (out["source"] == "pubmed") | out["record_id"].str.startswith("pubmed:") | (out["n_pmid"] != "")
    out["n_is_pubmed"] = is_pubmed.to_numpy()


def _completeness(out: pd.DataFrame, fields: Fields) -> None:
    filled = np.zeros(len(out), dtype=np.int32)
    for col in ("title", "journal", "volume", "pages", "doi", "abstract", "n_pmid", "issue", "year_raw"):
        filled += (out[col] != "").to_numpy()
    filled += (out["n_author_count"] > 0).to_numpy()
    out["n_completeness"] = filled


@dataclass(frozen=True)
class Step:
    columns: tuple[str, ...]
    doc: str
    fn: Callable[[pd.DataFrame, Fields], None]


PREP_STEPS: list[Step] = [
    Step(("n_title", "n_contrast", "n_title_words", "n_translated", "n_title_core", "n_lang"),
         "comparison form of the title (prep_title), its contrast tokens, word count, translation marker,"
         " the title without a notice's own words, the title's language", _title),
    Step(("n_authors", "n_first_author", "n_author_count"), "surname lists (prep_author)", _authors),
    Step(("n_journal",), "journal name, abbreviation-aware (prep_journal)", _journal),
    Step(("n_kind", "n_kind_weak"), "kind of item (prep_kind); registrations their own kind", _kind),
    Step(("n_year",), "year (prep_year)", _year),
    Step(("n_volume", "n_issue", "n_supplement"), "volume and issue numbers; a supplement issue", _volume_issue),
    Step(("n_page_first", "n_page_last", "n_page_raw"), "first/last page (prep_pages); unparsable pages as written",
         _pages),
    Step(("n_doi", "n_pmid", "n_pmcid", "n_registration", "n_nct_mentioned", "n_is_pubmed"),
         "identifiers (prep_doi): DOI, PMID, PMCID, own and mentioned NCT ids", _identifiers),
    Step(("n_generic",), "a generic title: a standing column, or one recurring at different places", _generic),
    Step(("n_completeness",), "how many fields are filled (merge picks the most complete record)", _completeness),
]


def prep(df: pd.DataFrame) -> pd.DataFrame:
    """Normalise a records table (either shape) for blocking and matching."""
    fields = read_fields(df)
    out = fields.out
    for step in PREP_STEPS:
        step.fn(out, fields)
    return out.sort_values("record_id", kind="stable").reset_index(drop=True)
