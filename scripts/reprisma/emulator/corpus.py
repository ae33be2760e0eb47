"""The records the emulators serve: real PubMed and ClinicalTrials.gov data, indexed for search.

Three kinds of input, all real data:

* PubMed efetch XML files (``<PubmedArticleSet>``). Each ``<PubmedArticle>`` element is kept
  **byte for byte as it appears in the file** (the exact text between ``<PubmedArticle>`` and
  ``</PubmedArticle>``), so efetch serves back what NCBI sent, including numeric character
  references and whitespace. That is the deterministic serialisation.
* PsyNamic CSV exports (real PubMed records without their XML). Each row becomes a minimal
  ``<PubmedArticle>`` holding only what the row holds (PMID, ArticleTitle, AbstractText,
  AuthorList, KeywordList, ArticleIdList with pubmed id and DOI, and the year) and an XML
  comment saying it was converted. PsyNamic's ``year`` column is **not** the publication
  year: their exporter (``data/get_pubmed_data.py`` in dcr-unibe-ch/PsyNamic-Webapp, both
  stored versions) fills it from ``History/PubMedPubDate[@PubStatus="pubmed"]/Year``, so it goes
  back there (``<History><PubMedPubDate PubStatus="pubmed"><Year>``) and is searchable as
  ``[crdt]`` (and ``[edat]``, which falls back to it), never as ``[dp]``. Nothing the row lacks
  is invented: no journal or PubDate, language, publication type, MeSH, month/day,
  PublicationStatus, PMID version, ``ValidYN`` or ``CitedMedium`` attribute (so the element is
  not DTD-complete, deliberately). PsyNamic flattened structured abstracts into one text
  ("LABEL: text ...") and that text is kept as one AbstractText.
* ClinicalTrials.gov API v2 JSON: single-study files (``{"protocolSection": ...}``) and search
  pages (``{"studies": [...]}``). The study objects are kept as parsed (key order preserved).
* ClinicalTrials.gov classic XML (``<clinical_study>``, the registry's former bulk download
  ``AllPublicXML``): each record is converted field by field to the v2 study structure by
  :mod:`reprisma.emulator.ctgov_classic` (only what the record holds). The day the registry
  processed the data (``required_header/download_date``) is kept in ``Corpus.ctgov_processed``:
  :meth:`Corpus.ctgov_data_timestamp` is what ``/api/v2/version`` should say for them.

Records are unioned by identifier: the first occurrence wins, in the order the paths are given
(directories are expanded in sorted order), so the corpus is deterministic.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence
from xml.sax.saxutils import escape

__all__ = [
    "CorpusError",
    "PubmedRecord",
    "CtgovStudy",
    "Corpus",
    "load_corpus",
    "tokens",
    "PSYNAMIC_COMMENT",
]

PSYNAMIC_COMMENT = "<!-- converted by reprisma.emulator from PsyNamic CSV row -->"
PSYNAMIC_COLUMNS = ("keywords", "pubmed_id", "pubmed_url", "doi", "year", "title", "abstract", "authors", "text")

_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}


class CorpusError(ValueError):
    """A corpus input file is malformed (the message names the file and position)."""


def tokens(text: str) -> list[str]:
    """Lower-case word tokens (letters and digits; punctuation separates words)."""
    return _TOKEN_RE.findall(text.casefold())


@dataclass(frozen=True)
class PubmedRecord:
    """One PubMed record: the XML served by efetch plus the fields esearch indexes."""

    pmid: str
    xml: str
    source: str
    origin: str  # "pubmed-xml" or "psynamic-csv"
    title: str = ""
    abstract: str = ""
    mesh: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()  # "lastname initials" / collective names, as PubMed [au] sees them
    journals: tuple[str, ...] = ()  # Title, ISOAbbreviation, MedlineTA, ISSNs
    pub_dates: tuple[dt.date, ...] = ()  # [dp]/[pdat]: PubDate and electronic ArticleDate
    entrez_date: dt.date | None = None  # [edat]
    create_date: dt.date | None = None  # [crdt]
    modified_date: dt.date | None = None  # [mdat]: MedlineCitation/DateRevised (none: never modified)
    pub_date_sort: tuple[int, int, int] = (0, 0, 0)

    @property
    def pmid_int(self) -> int:
        return int(self.pmid)


@dataclass(frozen=True)
class CtgovStudy:
    """One ClinicalTrials.gov study object (API v2 JSON) and its search index."""

    nct_id: str
    study: dict
    source: str
    text: dict = field(default_factory=dict)  # search area -> text (for token matching)
    overall_status: str | None = None
    phases: tuple[str, ...] = ()
    study_type: str | None = None
    dates: dict = field(default_factory=dict)  # piece name -> date string as in the record


@dataclass
class Corpus:
    """PubMed records (by PMID) and CT.gov studies (by NCT id), in load order."""

    pubmed: dict[str, PubmedRecord] = field(default_factory=dict)
    ctgov: dict[str, CtgovStudy] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # files in a directory that were not corpus files
    ctgov_processed: list[dt.date] = field(default_factory=list)  # classic XML download dates

    def ctgov_data_timestamp(self) -> str | None:
        """``yyyy-MM-ddT00:00:00`` of the newest classic-XML processing date, None without classic XML."""
        return f"{max(self.ctgov_processed).isoformat()}T00:00:00" if self.ctgov_processed else None

    def add_pubmed(self, rec: PubmedRecord) -> bool:
        if rec.pmid in self.pubmed:
            return False
        self.pubmed[rec.pmid] = rec
        return True

    def add_ctgov(self, st: CtgovStudy) -> bool:
        if st.nct_id in self.ctgov:
            return False
        self.ctgov[st.nct_id] = st
        return True


# --------------------------------------------------------------------------- PubMed XML

def _text(el: ET.Element | None) -> str:
    if el is None:
        return ""
    return " ".join("".join(el.itertext()).split())


def _date_from(el: ET.Element | None) -> dt.date | None:
    """A PubMed date element (Year/Month/Day, Season or MedlineDate) as its first day."""
    if el is None:
        return None
    year = el.findtext("Year")
    month_txt = (el.findtext("Month") or "").strip()
    day_txt = (el.findtext("Day") or "").strip()
    if not year:
        md = el.findtext("MedlineDate") or ""
        m = re.match(r"\s*(\d{4})(?:\s+([A-Za-z]{3}))?", md)
        if not m:
            return None
        year = m.group(1)
        month_txt = m.group(2) or ""
    month = 1
    if month_txt:
        if month_txt.isdigit():
            month = int(month_txt)
        else:
            month = _MONTHS.get(month_txt[:3].lower(), 1)
    elif el.findtext("Season"):
        month = _SEASONS.get(el.findtext("Season").strip().lower(), 1)
    day = int(day_txt) if day_txt.isdigit() else 1
    try:
        return dt.date(int(year), month, day)
    except ValueError:
        return dt.date(int(year), 1, 1)


def _article_spans(text: str, path: Path) -> list[tuple[int, int]]:
    """Start/end offsets of every <PubmedArticle>...</PubmedArticle> in the raw file text."""
    spans = []
    for m in re.finditer(r"<PubmedArticle[\s>]", text):
        end = text.find("</PubmedArticle>", m.start())
        if end < 0:
            line = text.count("\n", 0, m.start()) + 1
            raise CorpusError(f"{path}: line {line}: <PubmedArticle> without </PubmedArticle>")
        spans.append((m.start(), end + len("</PubmedArticle>")))
    return spans


def _record_from_element(el: ET.Element, xml: str, source: str, origin: str) -> PubmedRecord:
    mc = el.find("MedlineCitation")
    pmid = (mc.findtext("PMID") if mc is not None else "") or ""
    pmid = pmid.strip()
    art = mc.find("Article") if mc is not None else None
    title = _text(art.find("ArticleTitle")) if art is not None else ""
    abstract = ""
    if art is not None:
        abstract = " ".join(_text(a) for a in art.findall("Abstract/AbstractText"))
    other_abs = " ".join(_text(a) for a in mc.findall("OtherAbstract/AbstractText")) if mc is not None else ""
    if other_abs:
        abstract = (abstract + " " + other_abs).strip()
    mesh = tuple(_text(d) for d in mc.findall("MeshHeadingList/MeshHeading/DescriptorName")) if mc is not None else ()
    kws = tuple(_text(k) for k in mc.findall("KeywordList/Keyword")) if mc is not None else ()
    langs = tuple(_text(x) for x in art.findall("Language")) if art is not None else ()
    pts = tuple(_text(x) for x in art.findall("PublicationTypeList/PublicationType")) if art is not None else ()
    authors = []
    if art is not None:
        for a in art.findall("AuthorList/Author"):
            cn = a.findtext("CollectiveName")
            if cn:
                authors.append(" ".join(cn.split()))
                continue
            last = (a.findtext("LastName") or "").strip()
            ini = (a.findtext("Initials") or "").strip()
            if last:
                authors.append(f"{last} {ini}".strip())
    journals = []
    if art is not None:
        j = art.find("Journal")
        if j is not None:
            for tag in ("Title", "ISOAbbreviation"):
                v = j.findtext(tag)
                if v:
                    journals.append(" ".join(v.split()))
            for issn in j.findall("ISSN"):
                if issn.text:
                    journals.append(issn.text.strip())
    if mc is not None:
        ta = mc.findtext("MedlineJournalInfo/MedlineTA")
        if ta:
            journals.append(" ".join(ta.split()))
    pub_dates = []
    pd_el = art.find("Journal/JournalIssue/PubDate") if art is not None else None
    pd = _date_from(pd_el)
    if pd:
        pub_dates.append(pd)
    if art is not None:
        for ad in art.findall("ArticleDate"):
            d = _date_from(ad)
            if d and d not in pub_dates:
                pub_dates.append(d)
    sort_key = (pd.year, pd.month, pd.day) if pd else (0, 0, 0)
    edat = crdt = None
    for ppd in el.findall("PubmedData/History/PubMedPubDate"):
        status = ppd.get("PubStatus")
        if status == "entrez":
            edat = _date_from(ppd)
        elif status == "pubmed":
            crdt = _date_from(ppd)
    # [edat] is the "entrez" history date, [crdt] the "pubmed" one; each falls back to the other.
    edat, crdt = edat or crdt, crdt or edat
    revised = el.find("MedlineCitation/DateRevised")
    mdat = _date_from(revised) if revised is not None else None
    return PubmedRecord(
        pmid=pmid, xml=xml, source=source, origin=origin, title=title, abstract=abstract,
        mesh=mesh, keywords=kws, languages=langs, publication_types=pts, authors=tuple(authors),
        journals=tuple(journals), pub_dates=tuple(pub_dates), entrez_date=edat, create_date=crdt,
        modified_date=mdat, pub_date_sort=sort_key,
    )


def read_pubmed_xml(path: Path) -> list[PubmedRecord]:
    """Records of one efetch XML file (a PubmedArticleSet), in file order."""
    raw = path.read_bytes()
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        line, col = exc.position
        raise CorpusError(f"{path}: line {line}, column {col}: not well-formed XML: {exc}") from None
    if root.tag != "PubmedArticleSet":
        raise CorpusError(f"{path}: line 1: root element is <{root.tag}>, expected <PubmedArticleSet>")
    text = raw.decode("utf-8")
    elements = root.findall("PubmedArticle")
    spans = _article_spans(text, path)
    if len(spans) != len(elements):
        raise CorpusError(f"{path}: found {len(spans)} <PubmedArticle> tags in the text but "
                          f"{len(elements)} parsed elements")
    records = []
    for (start, end), el in zip(spans, elements):
        rec = _record_from_element(el, text[start:end], str(path), "pubmed-xml")
        if not rec.pmid.isdigit():
            line = text.count("\n", 0, start) + 1
            raise CorpusError(f"{path}: line {line}: PubmedArticle without a numeric PMID")
        records.append(rec)
    return records


# --------------------------------------------------------------------------- PsyNamic CSV

def _psynamic_authors(authors: str) -> list[str]:
    """Author elements for a PsyNamic authors string ("AW. Levin, R. Lancelotta, Study Group")."""
    out = []
    for name in [a.strip() for a in authors.split(", ") if a.strip()]:
        m = re.fullmatch(r"([^\s.]+)\. (.+)", name)
        if m:
            out.append(f"<Author><LastName>{escape(m.group(2))}</LastName>"
                       f"<Initials>{escape(m.group(1))}</Initials></Author>")
        else:
            out.append(f"<Author><CollectiveName>{escape(name)}</CollectiveName></Author>")
    return out


def psynamic_row_xml(row: dict, where: str) -> str:
    """The minimal PubmedArticle element for one PsyNamic CSV row (only what the row holds)."""
    pmid = row["pubmed_id"].strip()
    parts = [f"<PubmedArticle>{PSYNAMIC_COMMENT}<MedlineCitation><PMID>{pmid}</PMID><Article>"]
    year = row.get("year", "").strip()
    if year and not re.fullmatch(r"\d{4}", year):
        raise CorpusError(f"{where}: year {year!r} is not a four-digit year")
    title = row.get("title", "").strip()
    if title:
        parts.append(f"<ArticleTitle>{escape(title)}</ArticleTitle>")
    abstract = row.get("abstract", "").strip()
    if abstract:
        parts.append(f"<Abstract><AbstractText>{escape(abstract)}</AbstractText></Abstract>")
    authors = _psynamic_authors(row.get("authors", ""))
    if authors:
        parts.append("<AuthorList>" + "".join(authors) + "</AuthorList>")
    parts.append("</Article>")
    kw_raw = row.get("keywords", "").strip()
    keywords: list[str] = []
    if kw_raw:
        try:
            value = ast.literal_eval(kw_raw)
        except (ValueError, SyntaxError):
            raise CorpusError(f"{where}: keywords {kw_raw[:60]!r} is not a Python list literal") from None
        if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
            raise CorpusError(f"{where}: keywords is not a list of strings")
        keywords = [k.strip() for k in value if k.strip()]
    if keywords:
        parts.append("<KeywordList>" + "".join(f"<Keyword>{escape(k)}</Keyword>" for k in keywords)
                     + "</KeywordList>")
    parts.append("</MedlineCitation><PubmedData>")
    if year:  # PsyNamic's year is the PubMedPubDate[@PubStatus="pubmed"] year (see the module docstring)
        parts.append(f'<History><PubMedPubDate PubStatus="pubmed"><Year>{year}</Year></PubMedPubDate></History>')
    parts.append("<ArticleIdList>")
    parts.append(f'<ArticleId IdType="pubmed">{pmid}</ArticleId>')
    doi = row.get("doi", "").strip()
    if doi:
        parts.append(f'<ArticleId IdType="doi">{escape(doi)}</ArticleId>')
    parts.append("</ArticleIdList></PubmedData></PubmedArticle>")
    return "".join(parts)


def read_psynamic_csv(path: Path) -> list[PubmedRecord]:
    """Records of one PsyNamic CSV export, in file order."""
    records = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("pubmed_id", "title", "abstract", "authors", "year", "doi", "keywords")
                   if c not in (reader.fieldnames or [])]
        if missing:
            raise CorpusError(f"{path}: line 1: missing PsyNamic column(s) {', '.join(missing)}")
        for row in reader:
            where = f"{path}: line {reader.line_num}"
            pmid = (row.get("pubmed_id") or "").strip()
            if not pmid.isdigit():
                raise CorpusError(f"{where}: pubmed_id {pmid!r} is not a PMID")
            xml = psynamic_row_xml(row, where)
            el = ET.fromstring(xml)
            records.append(_record_from_element(el, xml, str(path), "psynamic-csv"))
    return records


# --------------------------------------------------------------------------- CT.gov JSON

def _get(obj, *path):
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


def _join(values) -> str:
    return " ".join(v for v in values if isinstance(v, str))


def index_study(study: dict, source: str) -> CtgovStudy:
    ps = study.get("protocolSection") or {}
    ident = ps.get("identificationModule") or {}
    nct = ident.get("nctId")
    if not isinstance(nct, str) or not re.fullmatch(r"NCT\d{8}", nct):
        raise CorpusError(f"{source}: study without a valid protocolSection.identificationModule.nctId")
    status = ps.get("statusModule") or {}
    design = ps.get("designModule") or {}
    conds = ps.get("conditionsModule") or {}
    arms = ps.get("armsInterventionsModule") or {}
    spons = ps.get("sponsorCollaboratorsModule") or {}
    desc = ps.get("descriptionModule") or {}
    interventions = arms.get("interventions") or []
    intr_text = _join([i.get("name") for i in interventions if isinstance(i, dict)]
                      + [n for i in interventions if isinstance(i, dict) for n in (i.get("otherNames") or [])]
                      + [i.get("description") for i in interventions if isinstance(i, dict)])
    arm_groups = arms.get("armGroups") or []
    arm_text = _join([n for a in arm_groups if isinstance(a, dict) for n in (a.get("interventionNames") or [])])
    derived = study.get("derivedSection") or {}
    cond_mesh = _join([m.get("term") for m in (_get(derived, "conditionBrowseModule", "meshes") or [])
                       if isinstance(m, dict)])
    intr_mesh = _join([m.get("term") for m in (_get(derived, "interventionBrowseModule", "meshes") or [])
                       if isinstance(m, dict)])
    titles = _join([ident.get("briefTitle"), ident.get("officialTitle"), ident.get("acronym")])
    cond_text = _join(list(conds.get("conditions") or []) + list(conds.get("keywords") or [])) + " " + cond_mesh
    sponsor_text = _join([_get(spons, "leadSponsor", "name")]
                         + [c.get("name") for c in (spons.get("collaborators") or []) if isinstance(c, dict)])
    outcomes = ps.get("outcomesModule") or {}
    outc_text = _join([o.get("measure") for k in ("primaryOutcomes", "secondaryOutcomes", "otherOutcomes")
                       for o in (outcomes.get(k) or []) if isinstance(o, dict)])
    locs = _get(ps, "contactsLocationsModule", "locations") or []
    locn_text = _join([loc.get(k) for loc in locs if isinstance(loc, dict)
                       for k in ("facility", "city", "state", "country")])
    ids_text = _join([nct, _get(ident, "orgStudyInfo", "id")]
                     + [s.get("id") for s in (ident.get("secondaryIdInfos") or []) if isinstance(s, dict)]
                     + list(ident.get("nctIdAliases") or []))
    summary = _join([desc.get("briefSummary"), desc.get("detailedDescription")])
    text = {
        "cond": cond_text,
        "intr": intr_text + " " + arm_text + " " + intr_mesh,
        "titles": titles,
        "spons": sponsor_text,
        "lead": _join([_get(spons, "leadSponsor", "name")]),
        "outc": outc_text,
        "locn": locn_text,
        "id": ids_text,
    }
    text["term"] = " ".join([titles, summary, cond_text, text["intr"], sponsor_text, outc_text, ids_text,
                             _join(design.get("phases") or []), str(status.get("overallStatus") or "")])
    dates = {}
    for piece, key in (("StartDate", "startDateStruct"), ("CompletionDate", "completionDateStruct"),
                       ("PrimaryCompletionDate", "primaryCompletionDateStruct"),
                       ("StudyFirstPostDate", "studyFirstPostDateStruct"),
                       ("LastUpdatePostDate", "lastUpdatePostDateStruct"),
                       ("ResultsFirstPostDate", "resultsFirstPostDateStruct")):
        v = _get(status, key, "date")
        if isinstance(v, str):
            dates[piece] = v
    for piece, key in (("StudyFirstSubmitDate", "studyFirstSubmitDate"),
                       ("LastUpdateSubmitDate", "lastUpdateSubmitDate")):
        if isinstance(status.get(key), str):
            dates[piece] = status[key]
    return CtgovStudy(
        nct_id=nct, study=study, source=source, text=text,
        overall_status=status.get("overallStatus"), phases=tuple(design.get("phases") or ()),
        study_type=design.get("studyType"), dates=dates,
    )


def read_ctgov_json(path: Path) -> list[CtgovStudy]:
    """Studies of one CT.gov v2 JSON file (single study or search page), in file order."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("studies"), list):
        studies = data["studies"]
    elif isinstance(data, dict) and "protocolSection" in data:
        studies = [data]
    else:
        raise CorpusError(f"{path}: neither a study object (protocolSection) nor a search page (studies)")
    out = []
    for i, st in enumerate(studies):
        if not isinstance(st, dict):
            raise CorpusError(f"{path}: studies[{i}] is not an object")
        out.append(index_study(st, f"{path}" if len(studies) == 1 else f"{path}#studies[{i}]"))
    return out


# --------------------------------------------------------------------------- loading

def _expand(paths: Iterable, suffixes: tuple[str, ...]) -> list[tuple[Path, bool]]:
    """(path, explicit) pairs: directories expand to their matching files in sorted order."""
    out = []
    for p in paths or ():
        p = Path(p)
        if p.is_dir():
            out.extend((f, False) for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in suffixes)
        elif p.is_file():
            out.append((p, True))
        else:
            raise CorpusError(f"{p}: no such file or directory")
    return out


def load_corpus(pubmed_xml: Sequence = (), psynamic_csv: Sequence = (), ctgov_json: Sequence = (),
                ctgov_classic_xml: Sequence = ()) -> Corpus:
    """Load and union the given files (first occurrence of a PMID / NCT id wins; v2 JSON before
    classic XML).

    Directories are searched recursively (sorted); a file found in a directory that is not of the
    expected kind (e.g. an esearch result next to efetch files) is listed in ``corpus.skipped``
    rather than failing, while a file named explicitly must be valid.
    """
    corpus = Corpus()
    for path, explicit in _expand(pubmed_xml, (".xml",)):
        try:
            recs = read_pubmed_xml(path)
        except CorpusError:
            if explicit:
                raise
            corpus.skipped.append(str(path))
            continue
        for r in recs:
            corpus.add_pubmed(r)
    for path, _explicit in _expand(psynamic_csv, (".csv",)):
        for r in read_psynamic_csv(path):
            corpus.add_pubmed(r)
    for path, explicit in _expand(ctgov_json, (".json",)):
        try:
            studies = read_ctgov_json(path)
        except CorpusError:
            if explicit:
                raise
            corpus.skipped.append(str(path))
            continue
        for s in studies:
            corpus.add_ctgov(s)
    if ctgov_classic_xml:
        from .ctgov_classic import read_classic_xml

        for path, _explicit in _expand(ctgov_classic_xml, (".xml",)):
            study, processed = read_classic_xml(path)
            if corpus.add_ctgov(index_study(study, str(path))) and processed:
                corpus.ctgov_processed.append(processed)
    return corpus
