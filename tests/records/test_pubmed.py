"""PubMed efetch XML -> records, against the genuine fixtures in tests/fixtures/pubmed."""

from __future__ import annotations

import csv
import gzip
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import yaml

from reprisma.records import RawResponseError, validate_record
from reprisma.records.pubmed import iter_pubmed_records
from reprisma.snapshot import gzip_bytes

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "pubmed"
DATA = Path(__file__).resolve().parent / "data"
XML_FILES = sorted(FIX.glob("biopython/pubmed*.xml")) + [FIX / "biopython" / "title_with_html_tags.xml"] \
    + sorted(FIX.glob("metapub/*.xml"))
CASSETTES = sorted(FIX.glob("biocommons_eutils_cassettes/*.yaml"))


def parse(path: Path, search_ids=("s1",)) -> list[dict]:
    return list(iter_pubmed_records(path, raw_file=f"raw/{path.name}", search_ids=list(search_ids)))


def one(name: str) -> dict:
    (rec,) = parse(FIX / name)
    return rec


def efetch_bodies():
    """(cassette name, requested PMIDs, response body) of every efetch db=pubmed exchange."""
    out = []
    for path in CASSETTES:
        for it in yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]:
            params = parse_qs(it["request"].get("body") or "")
            if it["request"]["uri"].endswith("efetch.fcgi") and params.get("db") == ["pubmed"]:
                out.append((path.name, params["id"][0].split(","), it["response"]["body"]["string"]))
    return out


# ------------------------------------------------------------------ every fixture, generic checks

@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: p.name)
def test_every_fixture_parses_to_valid_records_one_per_article(path):
    text = path.read_text(encoding="utf-8")
    # the article PMIDs as the file states them (first PMID after each MedlineCitation)
    expected = re.findall(r"<MedlineCitation[^>]*>\s*<PMID[^>]*>(\d+)</PMID>", text)
    assert len(expected) == text.count("<PubmedArticle>")
    records = parse(path)
    assert [r["pmid"] for r in records] == expected
    for rec in records:
        validate_record(rec)
        assert rec["record_id"] == f"pubmed:{rec['pmid']}"
        assert rec["source"] == "pubmed"
        assert rec["raw_file"] == f"raw/{path.name}"
        assert rec["search_ids"] == ["s1"]
        assert rec["title"]
        for key in ("overall_status", "study_type", "start_date", "completion_date",
                    "first_posted_date", "enrollment"):
            assert rec[key] is None
        assert rec["phases"] == rec["conditions"] == rec["interventions"] == []
        if rec["pub_date"]:
            assert rec["year"] == int(rec["pub_date"][:4])


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: p.name)
def test_doi_is_the_articles_own_normalised(path):
    text = path.read_text(encoding="utf-8")
    for rec in parse(path):
        # the PubmedData ArticleIdList of this article (after its PMID), not a reference's
        start = text.index(f">{rec['pmid']}</PMID>")
        pdata = text[text.index("<PubmedData>", start):text.index("</ArticleIdList>", text.index("<PubmedData>", start))]
        m = re.search(r'<ArticleId IdType="doi">([^<]+)</ArticleId>', pdata)
        if m:
            assert rec["doi"] == m.group(1).strip().lower()
        assert rec["doi"] is None or (rec["doi"] == rec["doi"].lower() and not rec["doi"].startswith("http"))


def test_empty_article_set_yields_nothing():
    assert parse(FIX / "metapub" / "pmid_37909814.xml") == []


# ------------------------------------------------------------------ concrete values from the files

def test_german_editorial_language_title_no_abstract():
    rec = one("metapub/pmid_38048813.xml")
    assert rec["languages"] == ["ger"]
    # the bracketed (translated) ArticleTitle, not the VernacularTitle
    assert rec["title"] == "[A Broader Scope - Bio-Psycho-Social Medicine In Global Focus]."
    assert rec["abstract"] is None
    assert rec["doi"] == "10.1055/a-2189-0166"  # from ArticleIdList (also the ELocationID)
    assert rec["publication_types"] == ["Editorial"]
    assert rec["journal"] == "Psychotherapie, Psychosomatik, medizinische Psychologie"
    assert rec["journal_abbrev"] == "Psychother Psychosom Med Psychol"
    assert (rec["volume"], rec["issue"], rec["pages"]) == ("73", "12", "487-488")
    assert rec["pub_date"] == "2023-12" and rec["year"] == 2023  # PubDate 2023 Dec
    assert rec["authors"][:2] == ["Zipfel S", "Stengel A"]
    assert rec["mesh_terms"] == ["Humans", "Social Medicine"]


def test_collective_name_author():
    rec = one("metapub/pmid_34843274.xml")
    assert rec["authors"] == ["Guideline Development Panel for the Treatment of Depressive Disorders"]
    assert rec["doi"] == "10.1037/amp0000904"
    assert "Depression" in rec["mesh_terms"]


def test_collective_name_after_personal_authors():
    rec = one("biopython/pubmed7.xml")
    assert rec["pmid"] == "29963580"
    assert rec["authors"][0] == "Guo F"
    assert rec["authors"][-1] == "Canadian Respiratory Research Network"
    assert rec["pmcid"] == "PMC6022861"


def test_numeric_character_reference_in_title():
    rec = one("metapub/pmid_37552767.xml")
    assert rec["title"].startswith("TGF-β uncouples glycolysis")
    assert rec["pmcid"] == "PMC11145950"


def test_inline_markup_without_surrounding_whitespace_is_not_glued_or_spaced():
    # the file has "at the<i>TERT</i>gene": the characters stay as they are
    glued = one("biopython/title_with_html_tags.xml")
    assert "genetic variants at theTERTgene region" in glued["title"]
    spaced = one("biopython/pubmed4.xml")  # the same record, with spaces around <i>
    assert spaced["title"] == ("Leucocyte telomere length, genetic variants at the TERT gene region "
                               "and risk of pancreatic cancer.")
    assert glued["pmid"] == spaced["pmid"] == "27797938"
    sub = one("metapub/pmid_38914053.xml")
    assert sub["title"].startswith("Doped SnO2thin films fabricated")


def test_entities_interleaved_with_markup():
    rec = one("biopython/pubmed6.xml")
    assert rec["title"] == ('A "Blood Relationship" Between the Overlooked Minimum Lactate Equivalent and '
                            "Maximal Lactate Steady State in Trained Runners. Back to the Old Days?")


def test_structured_abstract_joined_with_labels():
    path = FIX / "metapub" / "pmid_36987902.xml"
    rec = one("metapub/pmid_36987902.xml")
    labels = re.findall(r'<AbstractText Label="([^"]+)"', path.read_text(encoding="utf-8"))
    assert labels and rec["abstract"].startswith(f"{labels[0]}: ")
    positions = [rec["abstract"].index(f"{label}: ") for label in labels]
    assert positions == sorted(positions)  # in document order
    assert "\n" not in rec["abstract"] and "  " not in rec["abstract"]
    assert rec["languages"] == ["eng", "nor"]


def test_markup_inside_abstract_is_flattened():
    rec = one("biopython/pubmed4.xml")
    assert "<i>" not in rec["abstract"] and "<sub>" not in rec["abstract"]
    assert rec["abstract"].startswith("OBJECTIVE: Telomere shortening")


def test_minimal_record_and_dates():
    rec = one("metapub/pmid_11873782.xml")
    assert rec["title"] == "Introduction." and rec["abstract"] is None
    first, second = parse(FIX / "biopython" / "pubmed1.xml")
    assert (first["pmid"], first["pub_date"], first["doi"]) == ("12091962", "1990", None)
    assert (second["pmid"], second["pub_date"]) == ("9997", "1976-09-28")
    assert second["doi"] == "10.1016/0005-2795(76)90109-4"


def test_keywords_and_mesh():
    rec = one("metapub/pmid_38011560.xml")
    assert rec["keywords"] == ["antidepressant", "depression", "ketamine", "neuroplasticity", "stress"]
    assert rec["mesh_terms"] == ["Ketamine", "Depression", "Antidepressive Agents"]
    assert rec["publication_types"] == ["Review", "Journal Article"]


@pytest.mark.parametrize("name,pmids,body", efetch_bodies(), ids=lambda v: v if isinstance(v, str) else "")
def test_biocommons_cassette_bodies(name, pmids, body):
    records = list(iter_pubmed_records(io.BytesIO(body.encode("utf-8")), raw_file=name, search_ids=["s"]))
    assert [r["pmid"] for r in records] == pmids
    for rec in records:
        validate_record(rec)
    if pmids == ["23121403"]:
        assert records[0]["authors"][-1] == "ASPIRE Investigators"
        assert records[0]["doi"] == "10.1056/nejmoa1210384"  # NEJMoa1210384, lower-cased
    if pmids == ["29915538"]:
        assert records[0]["pmcid"] == "PMC5994433"


def test_cassette_bodies_found():
    assert len(efetch_bodies()) == 6


# ------------------------------------------------------------------ records the emulator made from PsyNamic rows

def psynamic_records():
    from reprisma.emulator.corpus import psynamic_row_xml

    with open(DATA / "psynamic_rows.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    xml = "<PubmedArticleSet>" + "".join(psynamic_row_xml(r, "row") for r in rows) + "</PubmedArticleSet>"
    return rows, list(iter_pubmed_records(io.BytesIO(xml.encode("utf-8")), raw_file="raw/p.xml", search_ids=["s"]))


def test_psynamic_converted_records_have_only_what_the_row_has():
    rows, records = psynamic_records()
    assert [r["pmid"] for r in records] == [row["pubmed_id"] for row in rows]
    for row, rec in zip(rows, records):
        validate_record(rec)
        assert rec["title"] == " ".join(row["title"].split())
        assert rec["doi"] == row["doi"].lower()
        # PsyNamic's year is a History (pubmed) date, not a publication date: not used
        assert rec["year"] is None and rec["pub_date"] is None
        for key in ("journal", "journal_abbrev", "volume", "issue", "pages", "pmcid"):
            assert rec[key] is None
        assert rec["languages"] == rec["publication_types"] == rec["mesh_terms"] == []
    levin = records[1]
    assert levin["pmid"] == "38483940"
    assert levin["authors"][0] == "Levin AW" and levin["doi"] == "10.1371/journal.pone.0300501"


def test_nct_numbers_found_in_abstract_text():
    rows, records = psynamic_records()
    for row, rec in zip(rows, records):
        assert rec["nct_ids"] == sorted(set(re.findall(r"NCT\d{8}", row["abstract"])))
    assert "NCT04718792" in records[0]["nct_ids"]


# ------------------------------------------------------------------ gzip and streams

def test_gzip_path_stream_and_plain_agree(tmp_path):
    src = FIX / "biopython" / "pubmed2.xml"
    gz = tmp_path / "page-0001.xml.gz"
    gz.write_bytes(gzip_bytes(src.read_bytes()))
    kw = dict(raw_file="raw/s1/page-0001.xml.gz", search_ids=["s1"])
    plain = list(iter_pubmed_records(src, **kw))
    assert len(plain) == 2
    assert list(iter_pubmed_records(gz, **kw)) == plain
    with gzip.open(gz, "rb") as f:  # as replay opens snapshot files
        assert list(iter_pubmed_records(f, **kw)) == plain
    assert list(iter_pubmed_records(io.BytesIO(gz.read_bytes()), **kw)) == plain
    assert "Taddei AR" in plain[0]["authors"]


def test_is_lazy():
    it = iter_pubmed_records(FIX / "biopython" / "pubmed2.xml", raw_file="x", search_ids=["s"])
    assert next(it)["pmid"] == "11748933"


# ------------------------------------------------------------------ errors: path, line, column, what

def test_html_page_is_rejected_with_position():
    path = FIX / "biopython" / "pubmed3.html"
    with pytest.raises(RawResponseError) as ei:
        parse(path)
    msg = str(ei.value)
    assert str(path) in msg and "raw/pubmed3.html" in msg
    assert "line 1, column 1" in msg and "<html>" in msg
    assert (ei.value.line, ei.value.column) == (1, 1)


@pytest.mark.parametrize("name", ["biopython/esearch1.xml", "biopython/epost2.xml"])
def test_other_eutility_output_is_rejected(name):
    with pytest.raises(RawResponseError, match="expected <PubmedArticleSet>"):
        parse(FIX / name)


def _expected_position(data: bytes) -> tuple[int, int]:
    """Where the standard library's own XML parser says the data stops being well-formed."""
    with pytest.raises(ET.ParseError) as ei:
        ET.fromstring(data)
    line, col = ei.value.position
    return line, col + 1  # our columns count from 1


def test_truncated_xml_names_path_and_position(tmp_path):
    src = (FIX / "metapub" / "pmid_38011560.xml").read_bytes()
    cut = src[: len(src) // 2]
    path = tmp_path / "cut.xml"
    path.write_bytes(cut)
    line, col = _expected_position(cut)
    with pytest.raises(RawResponseError) as ei:
        parse(path)
    msg = str(ei.value)
    assert str(path) in msg and f"line {line}, column {col}" in msg and "not well-formed" in msg
    assert line > 1


def test_truncated_gzip_is_an_error(tmp_path):
    data = gzip_bytes((FIX / "metapub" / "pmid_38011560.xml").read_bytes())
    path = tmp_path / "cut.xml.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RawResponseError) as ei:
        parse(path)
    assert str(path) in str(ei.value) and "line " in str(ei.value)


def test_malformed_markup_in_the_middle(tmp_path):
    src = (FIX / "biopython" / "pubmed2.xml").read_bytes()
    bad = src.replace(b"</ArticleTitle>", b"</ArticleTitl>", 1)
    path = tmp_path / "bad.xml"
    path.write_bytes(bad)
    line, col = _expected_position(bad)
    with pytest.raises(RawResponseError, match=rf"line {line}, column {col}: not well-formed XML \(mismatched tag\)"):
        parse(path)


def test_undeclared_entity_under_an_unread_dtd_is_an_error(tmp_path):
    # expat silently skips undeclared entities when an external DTD is named but not read
    src = (FIX / "metapub" / "pmid_11873782.xml").read_text(encoding="utf-8")
    bad = src.replace("<ArticleTitle>Introduction.", "<ArticleTitle>Introduction&nbsp;.", 1)
    assert bad != src
    path = tmp_path / "ent.xml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(RawResponseError, match=r"line \d+, column \d+: undefined entity &nbsp;"):
        parse(path)


def test_empty_input_is_an_error(tmp_path):
    path = tmp_path / "empty.xml"
    path.write_bytes(b"")
    with pytest.raises(RawResponseError, match="line 1, column 1: not well-formed XML"):
        parse(path)
