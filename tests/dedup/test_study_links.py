"""Studies from records: registrations linked to their reports by NCT ids, results references and
the reviewers' study-links table. Records are parsed by the project's own parsers from genuine
data: PsyNamic's PubMed rows (tests/data/psynamic, via the emulator's conversion to efetch XML)
and the 2020 ClinicalTrials.gov classic-XML records (tests/fixtures/ctgov-2020, via the emulator's
v2 conversion)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from reprisma.dedup import deduplicate, link_studies
from reprisma.dedup.study_links import StudyLinkError, load_study_links
from reprisma.emulator import load_corpus
from reprisma.emulator.ctgov_classic import read_classic_xml
from reprisma.records.ctgov import study_record
from reprisma.records.pubmed import article_record

TESTS = Path(__file__).resolve().parents[1]
PSY = TESTS / "data" / "psynamic" / "pubmed_results_20250306_subset.csv"
CLASSIC = TESTS / "fixtures" / "ctgov-2020"
HEADER = "action\trecord_id_a\trecord_id_b\treason\treviewer\n"


@pytest.fixture(scope="module")
def records():
    corpus = load_corpus(psynamic_csv=[PSY])
    out = [article_record(ET.fromstring(r.xml), raw_file="raw/psynamic.xml", search_ids=["s"])
           for r in corpus.pubmed.values()]
    for path in sorted(CLASSIC.glob("NCT*.xml")):
        study, _day = read_classic_xml(path)
        out.append(study_record(study, raw_file=f"raw/{path.stem}.json", search_ids=["ct"]))
    return out


@pytest.fixture(scope="module")
def clusters(records):
    return deduplicate(pd.DataFrame(records)).clusters


def _plain(records):
    """The first two PubMed records that name no trial."""
    a, b = [r["record_id"] for r in records if r["source"] == "pubmed" and not r["nct_ids"]][:2]
    return a, b


def _rows(table, rid):
    return [tuple(r) for r in table[table["record_id"] == rid][["study_id", "role", "linked_by"]].itertuples(index=False)]


def test_levin_2024_names_its_registration_in_the_abstract_only(records, clusters):
    levin = next(r for r in records if r["record_id"] == "pubmed:38483940")
    assert levin["nct_ids"] == ["NCT03181529"]  # PsyNamic's row has no DataBank list: the abstract names it
    table = link_studies(records, clusters)
    assert _rows(table, "pubmed:38483940") == [("NCT03181529", "report", "nct_id")]
    assert _rows(table, "ctgov:NCT03181529") == [("NCT03181529", "registration", "registration")]
    # one study, two records: the registration and its report
    assert sorted(table[table["study_id"] == "NCT03181529"]["record_id"]) == ["ctgov:NCT03181529", "pubmed:38483940"]


def test_results_references_link_a_registration_to_the_pubmed_records_it_lists(records, clusters):
    """NCT00090064 lists PMIDs 20643699 and 23172889 as results references. Their PubMed records are
    not in the project's data, so the report is a record carrying only that PMID (no metadata)."""
    cited = {"record_id": "pubmed:20643699", "source": "pubmed", "search_ids": ["s"], "raw_file": "raw/x.xml",
             "pmid": "20643699", "nct_ids": [], "title": "", "authors": [], "publication_types": []}
    background = dict(cited, record_id="pubmed:16826400", pmid="16826400")  # NCT00802282: a <reference>, no type
    recs = records + [cited, background]
    table = link_studies(recs, deduplicate(pd.DataFrame(recs)).clusters)
    assert _rows(table, "pubmed:20643699") == [("NCT00090064", "report", "results_reference")]
    assert _rows(table, "pubmed:16826400") == [("pubmed:16826400", "report", "none")]


def _links(tmp_path, body: str) -> Path:
    path = tmp_path / "study_links.tsv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_unlink_and_link_rows(records, clusters, tmp_path):
    a, b = _plain(records)
    path = _links(tmp_path, "# reviewers' decisions\n"
                            "unlink\tctgov:NCT03181529\tpubmed:38483940\ttest of the unlink rule\tana\n"
                            f"link\t{a}\t{b}\ttest of the link rule between records naming no trial\tana\n"
                            f"link\t{a}\tctgov:NCT00302744\ttest of the link rule to a registration\tben\n")
    table = link_studies(records, clusters, load_study_links(path))
    assert _rows(table, "pubmed:38483940") == [("pubmed:38483940", "report", "none")]
    assert _rows(table, "ctgov:NCT03181529") == [("NCT03181529", "registration", "registration")]
    # a and b join the registration's study through the two link rows
    assert _rows(table, a) == [("NCT00302744", "report", "study_link")]
    assert _rows(table, b) == [("NCT00302744", "report", "study_link")]
    assert _rows(table, "ctgov:NCT00302744") == [("NCT00302744", "registration", "registration")]


def test_link_of_records_naming_no_trial_makes_one_study(records, clusters, tmp_path):
    a, b = sorted(_plain(records))
    path = _links(tmp_path, f"link\t{b}\t{a}\ttwo reports of one cohort\tana\n")
    table = link_studies(records, clusters, load_study_links(path))
    assert _rows(table, a) == [(a, "report", "study_link")] and _rows(table, b) == [(a, "report", "study_link")]


@pytest.mark.parametrize("body, message", [
    ("merge\tpubmed:38483940\tctgov:NCT03181529\tr\tana\n", r"study_links\.tsv:2: action: 'merge' is not one of"),
    ("link\tpubmed:38483940\tctgov:NCT03181529\t\tana\n", r"study_links\.tsv:2: reason: '' should be non-empty"),
    ("link\tpubmed:38483940\tctgov:NCT03181529\treason\n", r"study_links\.tsv:2: expected 5 tab-separated columns"),
    ("# c\nlink\tpubmed:1\tctgov:NCT03181529\tr\tana\n", r"study_links\.tsv:3: record_id_a 'pubmed:1' is not a record"),
    ("link\tpubmed:38483940\tctgov:NCT03181529\tr\tana\nunlink\tctgov:NCT03181529\tpubmed:38483940\tr\tben\n",
     r"study_links\.tsv:3: ctgov:NCT03181529 / pubmed:38483940 is both linked and unlinked \(see line 2\)"),
])
def test_bad_rows_stop_with_file_and_line(records, clusters, tmp_path, body, message):
    with pytest.raises(StudyLinkError, match=message):
        link_studies(records, clusters, load_study_links(_links(tmp_path, body)))


def test_missing_file_means_no_links(tmp_path):
    assert load_study_links(tmp_path / "absent.tsv") is None
    assert load_study_links(None) is None


def test_study_ids_count_reports_of_one_trial_once(records, clusters, tmp_path):
    from reprisma.dedup.study_links import study_ids

    rows = clusters.to_dict("records")
    assert len(study_ids(records, rows, ["pubmed:38483940", "ctgov:NCT03181529"])) == 1
    path = _links(tmp_path, "unlink\tctgov:NCT03181529\tpubmed:38483940\ttest\tana\n")
    assert len(study_ids(records, rows, ["pubmed:38483940", "ctgov:NCT03181529"], path)) == 2
    bad = _links(tmp_path, "link\tpubmed:1\tctgov:NCT03181529\tr\tana\n")
    with pytest.raises(StudyLinkError, match="not a record of this capture"):
        study_ids(records, rows, [], bad)  # checked even before anything is included
