"""Corpus loading: real efetch XML kept byte for byte, PsyNamic rows converted without invention,
CT.gov studies indexed; unions by identifier; clear errors."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET

import pytest

from reprisma.emulator.corpus import PSYNAMIC_COMMENT, CorpusError, load_corpus, read_pubmed_xml

from .conftest import CTGOV, PSYNAMIC_A, PSYNAMIC_B, PUBMED


def _csv_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_efetch_articles_are_kept_byte_for_byte():
    path = PUBMED / "biopython" / "pubmed1.xml"
    text = path.read_text(encoding="utf-8")
    records = read_pubmed_xml(path)
    root = ET.fromstring(path.read_bytes())
    assert [r.pmid for r in records] == [a.findtext("MedlineCitation/PMID") for a in root.findall("PubmedArticle")]
    # the file is header + "<PubmedArticleSet>\n" + articles + "</PubmedArticleSet>": the slices rebuild it
    body = text[text.index("<PubmedArticleSet>\n") + len("<PubmedArticleSet>\n"): text.rindex("</PubmedArticleSet>")]
    assert "".join(r.xml for r in records) == body


def test_indexed_fields_come_from_the_xml():
    rec = read_pubmed_xml(PUBMED / "metapub" / "pmid_38011560.xml")[0]
    root = ET.parse(PUBMED / "metapub" / "pmid_38011560.xml").getroot()
    art = root.find("PubmedArticle/MedlineCitation/Article")
    assert rec.title == " ".join("".join(art.find("ArticleTitle").itertext()).split())
    assert list(rec.mesh) == [" ".join(d.text.split()) for d in root.iter("DescriptorName")]
    assert list(rec.languages) == [x.text for x in art.findall("Language")]
    entrez = root.find("PubmedArticle/PubmedData/History/PubMedPubDate[@PubStatus='entrez']")
    assert rec.entrez_date.isoformat() == f"{entrez.findtext('Year')}-{int(entrez.findtext('Month')):02d}-" \
                                          f"{int(entrez.findtext('Day')):02d}"
    assert rec.origin == "pubmed-xml"


def test_psynamic_rows_become_minimal_pubmed_articles(corpus):
    row = next(r for r in _csv_rows(PSYNAMIC_A) if r["pubmed_id"] == "38483940")
    rec = corpus.pubmed["38483940"]
    assert rec.origin == "psynamic-csv"
    assert PSYNAMIC_COMMENT in rec.xml
    el = ET.fromstring(rec.xml)
    assert el.findtext("MedlineCitation/PMID") == "38483940"
    assert el.findtext("MedlineCitation/Article/ArticleTitle") == row["title"]
    assert el.findtext("MedlineCitation/Article/Abstract/AbstractText") == row["abstract"]
    # PsyNamic's exporter took "year" from History/PubMedPubDate[@PubStatus="pubmed"]/Year: it goes back there
    assert el.findtext("PubmedData/History/PubMedPubDate[@PubStatus='pubmed']/Year") == row["year"]
    assert rec.create_date.year == int(row["year"]) and rec.entrez_date == rec.create_date
    assert rec.pub_dates == ()  # no publication date is known, so [dp] never matches it
    assert el.find("PubmedData/ArticleIdList/ArticleId[@IdType='doi']").text == row["doi"]
    authors = el.findall("MedlineCitation/Article/AuthorList/Author")
    assert [f"{a.findtext('Initials')}. {a.findtext('LastName')}" for a in authors] == row["authors"].split(", ")
    # nothing the row does not hold: no journal title, language, publication type, MeSH, dates
    for absent in ("<Journal>", "<PubDate>", "<Title>", "<Language>", "<PublicationTypeList>", "<MeshHeadingList>",
                   "<Month>", "<PublicationStatus>", "<MedlineJournalInfo>", "ValidYN", "CitedMedium", "Version="):
        assert absent not in rec.xml


def test_psynamic_keywords_and_collective_authors():
    rows = _csv_rows(PSYNAMIC_A)
    corpus = load_corpus(psynamic_csv=[PSYNAMIC_A])
    with_kw = next(r for r in rows if r["keywords"] not in ("", "[]"))
    el = ET.fromstring(corpus.pubmed[with_kw["pubmed_id"]].xml)
    import ast
    assert [k.text for k in el.findall("MedlineCitation/KeywordList/Keyword")] == \
        [k.strip() for k in ast.literal_eval(with_kw["keywords"]) if k.strip()]
    for r in rows:
        names = r["authors"].split(", ")
        collective = [n for n in names if not re.fullmatch(r"[^\s.]+\. .+", n)]
        el = ET.fromstring(corpus.pubmed[r["pubmed_id"]].xml)
        assert [c.text for c in el.iter("CollectiveName")] == collective


def test_union_by_pmid_first_occurrence_wins():
    a, b = _csv_rows(PSYNAMIC_A), _csv_rows(PSYNAMIC_B)
    shared = {r["pubmed_id"] for r in a} & {r["pubmed_id"] for r in b}
    assert shared  # the subsets overlap (see tests/data/psynamic/README.md)
    ab = load_corpus(psynamic_csv=[PSYNAMIC_A, PSYNAMIC_B])
    ba = load_corpus(psynamic_csv=[PSYNAMIC_B, PSYNAMIC_A])
    assert len(ab.pubmed) == len({r["pubmed_id"] for r in a + b})
    for pmid in shared:
        assert ab.pubmed[pmid].source == str(PSYNAMIC_A)
        assert ba.pubmed[pmid].source == str(PSYNAMIC_B)
    # XML before CSV: the efetch version of a record wins over a converted row
    both = load_corpus(pubmed_xml=[PUBMED], psynamic_csv=[PSYNAMIC_A])
    assert all(r.origin == "pubmed-xml" for r in both.pubmed.values() if r.source.endswith(".xml"))


def test_loading_is_deterministic():
    one = load_corpus(pubmed_xml=[PUBMED], psynamic_csv=[PSYNAMIC_A], ctgov_json=[CTGOV])
    two = load_corpus(pubmed_xml=[PUBMED], psynamic_csv=[PSYNAMIC_A], ctgov_json=[CTGOV])
    assert list(one.pubmed) == list(two.pubmed)
    assert [r.xml for r in one.pubmed.values()] == [r.xml for r in two.pubmed.values()]
    assert list(one.ctgov) == list(two.ctgov)


def test_directory_skips_non_efetch_files_but_named_files_must_be_valid():
    corpus = load_corpus(pubmed_xml=[PUBMED / "biopython"])
    assert any(s.endswith("esearch1.xml") for s in corpus.skipped)
    with pytest.raises(CorpusError, match=r"esearch1\.xml: line 1: root element is <eSearchResult>"):
        load_corpus(pubmed_xml=[PUBMED / "biopython" / "esearch1.xml"])


def test_bad_inputs_name_file_and_position(tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<PubmedArticleSet>\n<PubmedArticle>\n</PubmedArticleSet>\n")
    with pytest.raises(CorpusError, match=r"broken\.xml: line 3, column \d+"):
        load_corpus(pubmed_xml=[broken])
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("keywords,pubmed_id,pubmed_url,doi,year,title,abstract,authors,text\n"
                        "[],12x,,,2020,T,A,B. C,t\n")
    with pytest.raises(CorpusError, match=r"bad\.csv: line 2: pubmed_id '12x'"):
        load_corpus(psynamic_csv=[csv_path])
    missing = tmp_path / "cols.csv"
    missing.write_text("pubmed_id,title\n1,x\n")
    with pytest.raises(CorpusError, match=r"cols\.csv: line 1: missing PsyNamic column"):
        load_corpus(psynamic_csv=[missing])
    js = tmp_path / "bad.json"
    js.write_text('{"studies": [}')
    with pytest.raises(CorpusError, match=r"bad\.json: line 1, column 14"):
        load_corpus(ctgov_json=[js])
    with pytest.raises(CorpusError, match="no such file"):
        load_corpus(pubmed_xml=[tmp_path / "nope.xml"])


def test_ctgov_studies_are_unioned_and_indexed(corpus):
    expected = {}
    for path in sorted(CTGOV.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for st in data.get("studies", [data] if "protocolSection" in data else []):
            expected.setdefault(st["protocolSection"]["identificationModule"]["nctId"], st)
    assert set(corpus.ctgov) == set(expected)
    for nct, st in expected.items():
        assert corpus.ctgov[nct].study == st
        assert corpus.ctgov[nct].overall_status == st["protocolSection"]["statusModule"]["overallStatus"]
