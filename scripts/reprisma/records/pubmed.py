"""PubMed efetch XML (``<PubmedArticleSet>``) -> records, streaming.

Parser: the standard library's expat (``xml.parsers.expat``) driving ``ElementTree.TreeBuilder``,
fed in 64 KiB chunks. Each ``<PubmedArticle>`` is built as a small element tree, turned into a
record and dropped, so memory stays flat however large the file. Chosen over ``iterparse`` because
expat reports the line and column of *every* event, not only of syntax errors: a file that is
well-formed but is not efetch output (Biopython's ``pubmed3.html``, an ``<eFetchResult><ERROR>``)
and an article without a PMID are reported at their exact position too. Chosen over
``Bio.Entrez.parse`` because that validates against DTDs it may try to download (replay must never
open a socket), returns its own string subclasses, and reports errors without line and column.

Field rules (one line each, details in the functions):

* title: ``ArticleTitle`` with inline markup (``<i>``, ``<sub>``, ``<sup>``, ``<b>``, ``<u>``,
  MathML) flattened to its text, characters kept exactly as they are (no space is added around a
  tag: ``at the<i>TERT</i>gene`` stays ``at theTERTgene``); only runs of whitespace become one
  space. ``VernacularTitle`` is never used; bracketed translated titles stay as given.
* abstract: the ``Abstract/AbstractText`` parts in order, each ``"LABEL: text"`` when it has a
  ``Label``, joined with **a single space** (one line in every TSV/CSV/RIS export, and the same
  shape PsyNamic gives its flattened abstracts). ``CopyrightInformation`` and ``OtherAbstract``
  (translations) are not part of it.
* pub_date: ``JournalIssue/PubDate`` (Year/Month/Day or MedlineDate), else the first
  ``ArticleDate``; never a History date (PsyNamic rows converted by the emulator keep their
  "year" only as a History date, so their year and pub_date are None: it is not a publication year).
* entry_date: ``PubmedData/History/PubMedPubDate[@PubStatus="entrez"]`` (PubMed's entry date,
  searched as ``[edat]``), no other History date standing in for it (so PsyNamic rows, which keep
  only the "pubmed" date, have none).
* ``<PubmedBookArticle>`` (NCBI Bookshelf chapters) is parsed minimally, not skipped: esearch
  counts it, so skipping it would break "records received = records parsed".
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Iterator
from xml.parsers import expat

from reprisma.records.errors import RawResponseError
from reprisma.records.normalise import (NCT_RE, iso_partial, medline_date, normalise_doi,
                                        nct_ids_in_text, squash)
from reprisma.records.rawio import display_name, open_raw
from reprisma.records.schema import new_record

CHUNK = 1 << 16
ROOT = "PubmedArticleSet"
ARTICLE_TAGS = ("PubmedArticle", "PubmedBookArticle")


def iter_pubmed_records(stream_or_path, *, raw_file: str, search_ids: list[str]) -> Iterator[dict]:
    """Records of one efetch response, in file order.

    ``stream_or_path``: a path, or a binary (or text) stream; gzip is detected by content.
    ``raw_file``: the snapshot-relative path stored in every record. ``search_ids``: the searches
    that fetched this file. Raises ``RawResponseError`` (path, line, column, what) on anything
    that is not well-formed efetch PubMed XML.
    """
    name = display_name(stream_or_path, raw_file)
    reader = _ArticleReader(name, raw_file, list(search_ids))
    with open_raw(stream_or_path) as f:
        while True:
            try:
                chunk = f.read(CHUNK)
            except (OSError, EOFError) as exc:  # truncated or corrupt gzip
                raise reader.error(f"cannot read the compressed data: {exc}") from None
            reader.feed(chunk, final=not chunk)
            yield from reader.take()
            if not chunk:
                break


class _ArticleReader:
    """Expat -> TreeBuilder, one article at a time."""

    def __init__(self, name: str, raw_file: str, search_ids: list[str]):
        self.name, self.raw_file, self.search_ids = name, raw_file, search_ids
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._data
        # With an external DTD that is not read, expat silently skips undeclared entities: refuse.
        self.parser.SkippedEntityHandler = self._skipped_entity
        self.builder = ET.TreeBuilder()
        self.depth = 0
        self.root = None
        self.article_pos = (0, 0)
        self.ready: list[dict] = []

    # -- positions and errors
    def position(self) -> tuple[int, int]:
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    def error(self, reason: str, pos: tuple[int, int] | None = None) -> RawResponseError:
        line, col = pos or self.position()
        return RawResponseError(self.name, line, col, reason)

    # -- feeding
    def feed(self, data, final: bool) -> None:
        try:
            self.parser.Parse(data, final)
        except expat.ExpatError as exc:
            what = expat.ErrorString(exc.code)
            raise RawResponseError(self.name, exc.lineno, exc.offset + 1,
                                   f"not well-formed XML ({what})") from None
        if final and self.root is None:  # pragma: no cover - expat already says "no element found"
            raise self.error(f"no <{ROOT}> element")

    def take(self) -> list[dict]:
        out, self.ready = self.ready, []
        return out

    # -- expat handlers
    def _start(self, tag, attrs):
        if self.depth == 0:
            if tag != ROOT:
                raise self.error(f"root element is <{tag}>, expected <{ROOT}>: not a PubMed efetch XML "
                                 "response (an HTML page, an error document or another E-utility's output)")
        elif self.depth == 1:
            if tag not in ARTICLE_TAGS:
                raise self.error(f"unexpected <{tag}> in <{ROOT}> (expected <PubmedArticle> or <PubmedBookArticle>)")
            self.article_pos = self.position()
        self.depth += 1
        el = self.builder.start(tag, attrs)
        if self.root is None:
            self.root = el

    def _end(self, tag):
        el = self.builder.end(tag)
        self.depth -= 1
        if self.depth == 1:
            if tag == "PubmedArticle":
                record = article_record(el, self.raw_file, self.search_ids)
            else:
                record = book_article_record(el, self.raw_file, self.search_ids)
            if record is None:
                raise self.error(f"<{tag}> without a numeric PMID", self.article_pos)
            self.ready.append(record)
            del self.root[:]  # drop the finished article

    def _data(self, text):
        self.builder.data(text)

    def _skipped_entity(self, name, is_parameter_entity):
        raise self.error(f"undefined entity &{name};")


# --------------------------------------------------------------------------- element -> record

def text_of(el: ET.Element | None) -> str:
    """All text inside ``el`` (inline markup flattened, characters kept), whitespace runs squashed."""
    return squash("".join(el.itertext())) if el is not None else ""


def _texts(parent: ET.Element | None, path: str) -> list[str]:
    """Non-empty texts of ``parent.findall(path)``, in order, without repeats."""
    if parent is None:
        return []
    out: list[str] = []
    for el in parent.findall(path):
        t = text_of(el)
        if t and t not in out:
            out.append(t)
    return out


def _opt(el: ET.Element | None, path: str) -> str | None:
    return (text_of(el.find(path)) or None) if el is not None else None


def _pmid(el: ET.Element | None) -> str | None:
    pmid = _opt(el, "PMID")
    return pmid if pmid and pmid.isdigit() else None


def _abstract(abstract: ET.Element | None) -> str | None:
    if abstract is None:
        return None
    parts = []
    for part in abstract.findall("AbstractText"):
        text = text_of(part)
        if not text:
            continue
        label = squash(part.get("Label"))
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts) or None


def _authors(author_list: ET.Element | None) -> list[str]:
    out = []
    for a in author_list.findall("Author") if author_list is not None else []:
        collective = _opt(a, "CollectiveName")
        if collective:
            out.append(collective)
            continue
        last = _opt(a, "LastName")
        if last:
            initials = _opt(a, "Initials")
            out.append(f"{last} {initials}" if initials else last)
    return out


def _date(el: ET.Element | None) -> str | None:
    """A PubDate / ArticleDate / Book PubDate element as an ISO partial date."""
    if el is None:
        return None
    md = el.find("MedlineDate")
    if md is not None:
        return medline_date(text_of(md))
    return iso_partial(_opt(el, "Year"), _opt(el, "Month"), _opt(el, "Day"))


def _entry_date(pubmed_data: ET.Element | None) -> str | None:
    """The ``History/PubMedPubDate[@PubStatus="entrez"]`` date (PubMed's entry date) as ISO."""
    if pubmed_data is None:
        return None
    return next((_date(d) for d in pubmed_data.findall("History/PubMedPubDate")
                 if d.get("PubStatus") == "entrez"), None)


def _article_ids(pubmed_data: ET.Element | None) -> dict[str, str]:
    """``IdType -> value`` of the article's own ArticleIdList (not those of its references)."""
    ids: dict[str, str] = {}
    if pubmed_data is not None:
        for aid in pubmed_data.findall("ArticleIdList/ArticleId"):
            value = text_of(aid)
            if value:
                ids.setdefault(aid.get("IdType", ""), value)
    return ids


def _nct_ids(*, accessions: list[str], texts: list[str | None]) -> list[str]:
    found = {a.strip().upper() for a in accessions}
    for text in texts:
        found.update(nct_ids_in_text(text))
    return sorted(n for n in found if NCT_RE.match(n))


def _base(pmid: str, raw_file: str, search_ids: list[str]) -> dict:
    return new_record(record_id=f"pubmed:{pmid}", source="pubmed", search_ids=sorted(set(search_ids)),
                      raw_file=raw_file, pmid=pmid)


def article_record(el: ET.Element, raw_file: str, search_ids: list[str]) -> dict | None:
    """One ``<PubmedArticle>`` element as a record (None when it has no numeric PMID)."""
    mc = el.find("MedlineCitation")
    pmid = _pmid(mc)
    if pmid is None:
        return None
    art = mc.find("Article")
    journal = art.find("Journal") if art is not None else None
    issue = journal.find("JournalIssue") if journal is not None else None
    pdata = el.find("PubmedData")
    ids = _article_ids(pdata)

    doi = ids.get("doi")
    if not doi and art is not None:
        doi = next((text_of(e) for e in art.findall("ELocationID")
                    if e.get("EIdType") == "doi" and text_of(e)), None)

    pub_date = _date(issue.find("PubDate")) if issue is not None else None
    if pub_date is None and art is not None:
        pub_date = next((d for d in (_date(a) for a in art.findall("ArticleDate")) if d), None)

    pages = _opt(art, "Pagination/MedlinePgn")
    if pages is None and art is not None:
        start, end = _opt(art, "Pagination/StartPage"), _opt(art, "Pagination/EndPage")
        pages = f"{start}-{end}" if start and end else start

    abstract = _abstract(art.find("Abstract") if art is not None else None)
    accessions = []
    if art is not None:
        for bank in art.findall("DataBankList/DataBank"):
            if squash(bank.findtext("DataBankName")).lower() == "clinicaltrials.gov":
                accessions.extend(_texts(bank, "AccessionNumberList/AccessionNumber"))

    rec = _base(pmid, raw_file, search_ids)
    rec.update(
        pmcid=ids.get("pmc"),
        doi=normalise_doi(doi),
        nct_ids=_nct_ids(accessions=accessions, texts=[abstract]),
        title=_opt(art, "ArticleTitle") or "",
        abstract=abstract,
        authors=_authors(art.find("AuthorList") if art is not None else None),
        journal=_opt(journal, "Title"),
        journal_abbrev=_opt(journal, "ISOAbbreviation") or _opt(mc, "MedlineJournalInfo/MedlineTA"),
        volume=_opt(issue, "Volume"),
        issue=_opt(issue, "Issue"),
        pages=pages,
        year=int(pub_date[:4]) if pub_date else None,
        pub_date=pub_date,
        entry_date=_entry_date(pdata),
        languages=_texts(art, "Language"),
        publication_types=_texts(art, "PublicationTypeList/PublicationType"),
        mesh_terms=_texts(mc, "MeshHeadingList/MeshHeading/DescriptorName"),
        keywords=_texts(mc, "KeywordList/Keyword"),
    )
    return rec


def book_article_record(el: ET.Element, raw_file: str, search_ids: list[str]) -> dict | None:
    """A ``<PubmedBookArticle>`` (Bookshelf chapter or book), minimally: ids, title, abstract,
    authors, book title as journal, date, language, publication types, keywords."""
    doc = el.find("BookDocument")
    pmid = _pmid(doc)
    if pmid is None:
        return None
    book = doc.find("Book")
    book_data = el.find("PubmedBookData")
    ids = _article_ids(book_data)
    for aid in doc.findall("ArticleIdList/ArticleId"):
        if text_of(aid):
            ids.setdefault(aid.get("IdType", ""), text_of(aid))
    pub_date = _date(book.find("PubDate")) if book is not None else None
    abstract = _abstract(doc.find("Abstract"))
    author_list = next((al for al in doc.findall("AuthorList") if al.get("Type", "authors") == "authors"), None)
    rec = _base(pmid, raw_file, search_ids)
    rec.update(
        pmcid=ids.get("pmc"),
        doi=normalise_doi(ids.get("doi")),
        nct_ids=_nct_ids(accessions=[], texts=[abstract]),
        title=_opt(doc, "ArticleTitle") or _opt(book, "BookTitle") or "",
        abstract=abstract,
        authors=_authors(author_list),
        journal=_opt(book, "BookTitle") if doc.find("ArticleTitle") is not None else None,
        year=int(pub_date[:4]) if pub_date else None,
        pub_date=pub_date,
        entry_date=_entry_date(book_data),
        languages=_texts(doc, "Language"),
        publication_types=_texts(doc, "PublicationType"),
        keywords=_texts(doc, "KeywordList/Keyword"),
    )
    return rec
