"""Automated eligibility on records parsed from genuine PubMed and CT.gov responses."""

from reprisma.protocol import load_protocol
import copy
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from reprisma.records.ctgov import iter_ctgov_records
from reprisma.records.pubmed import iter_pubmed_records
from reprisma.screen.eligibility import (REMOVED, EligibilityError, apply_eligibility, apply_removals, assess,
                                        date_span, load_removed, outside)

FIX = Path(__file__).resolve().parents[1] / "fixtures"
RULES = {"languages": ["eng"], "exclude_publication_types": ["Published Erratum", "Comment"],
         "trial_overall_status": ["COMPLETED"]}


def pubmed(name):
    return list(iter_pubmed_records(FIX / "pubmed" / "metapub" / name, raw_file=name, search_ids=["s"]))[0]


def test_german_article_is_excluded_by_language():
    rec = pubmed("pmid_38048813.xml")
    assert rec["languages"] == ["ger"]
    assert assess(rec, RULES, (None, None)) == ("language", "language ger")


def test_bilingual_article_with_english_is_kept():
    rec = pubmed("pmid_36987902.xml")
    assert "eng" in rec["languages"]
    assert assess(rec, RULES, (None, None)) is None


def test_publication_date_outside_window():
    rec = pubmed("pmid_38011560.xml")
    year = int(rec["pub_date"][:4])
    assert assess(rec, RULES, (None, f"{year - 1}-12-31"))[0] == "publication_date"
    assert assess(rec, RULES, (f"{year + 1}-01-01", None))[0] == "publication_date"
    assert assess(rec, RULES, (f"{year}-01-01", f"{year}-12-31")) is None


def test_unknown_values_never_exclude():
    rec = copy.deepcopy(pubmed("pmid_38011560.xml"))
    rec["languages"], rec["pub_date"] = [], None
    assert assess(rec, RULES, ("2030-01-01", "2031-12-31")) is None


def test_excluded_publication_type():
    rec = copy.deepcopy(pubmed("pmid_38011560.xml"))
    rec["publication_types"] = rec["publication_types"] + ["Comment"]
    assert assess(rec, RULES, (None, None)) == ("publication_type", "publication type Comment")


def test_trial_status_rule_on_real_studies():
    page = FIX / "clinicaltrials" / "biomcp" / "search_phelan_limit5_20260811.json"
    trials = list(iter_ctgov_records(page, raw_file="p", search_ids=["s"]))
    rows = apply_eligibility(trials, RULES, (None, None))
    statuses = {t["record_id"]: t["overall_status"] for t in trials}
    for row in rows:
        assert row["eligible"] == (statuses[row["record_id"]] == "COMPLETED")
        if not row["eligible"]:
            assert row["rule"] == "trial_status"


@given(st.integers(1900, 2100), st.integers(1, 12))
def test_partial_dates_span_their_whole_period(year, month):
    first, last = date_span(f"{year}-{month:02d}")
    assert first.day == 1 and first.month == last.month == month and (last.day >= 28)
    # a month that touches the window is never outside it
    assert not outside(f"{year}-{month:02d}", (None, last.isoformat()))
    assert not outside(f"{year}-{month:02d}", (last.isoformat(), None))
    assert outside(f"{year}", (f"{year + 1}-01-01", None))


# ------------------------------------------------------------------ which date, study type

def _entrez_date_in_xml(path):
    """The entrez History date, read straight from the XML (independently of the parser)."""
    import xml.etree.ElementTree as ET

    el = next(d for d in ET.parse(path).iter("PubMedPubDate") if d.get("PubStatus") == "entrez")
    return "{:04d}-{:02d}-{:02d}".format(*(int(el.findtext(k)) for k in ("Year", "Month", "Day")))


def test_entry_date_is_the_entrez_history_date():
    path = FIX / "pubmed" / "metapub" / "pmid_34843274.xml"
    rec = pubmed("pmid_34843274.xml")
    assert rec["entry_date"] == _entrez_date_in_xml(path) == "2021-11-29"
    assert rec["pub_date"] == "2022-09"  # JournalIssue/PubDate: a different date


def test_records_without_an_entrez_date_have_none():
    """PsyNamic rows as the emulator serves them keep only the "pubmed" History date: no entry date
    is made up from it, and the entry-date rule leaves them to the screeners."""
    import csv
    import io

    from reprisma.emulator.corpus import psynamic_row_xml

    data = Path(__file__).resolve().parents[1] / "records" / "data" / "psynamic_rows.csv"
    with open(data, newline="", encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    xml = "<PubmedArticleSet>" + psynamic_row_xml(row, "row") + "</PubmedArticleSet>"
    rec = next(iter_pubmed_records(io.BytesIO(xml.encode()), raw_file="p", search_ids=["s"]))
    assert "PubStatus=\"pubmed\"" in xml and rec["entry_date"] is None
    assert assess(rec, {"publication_date_field": "entry_date"}, ("2030-01-01", None)) is None


def test_publication_date_field_chooses_which_date_is_bounded():
    rec = pubmed("pmid_34843274.xml")  # published 2022-09, entered PubMed 2021-11-29
    window = ("2022-01-01", "2025-12-31")
    assert assess(rec, {}, window) is None
    assert assess(rec, {"publication_date_field": "pub_date"}, window) is None
    assert assess(rec, {"publication_date_field": "entry_date"}, window) == (
        "publication_date", "entered PubMed 2021-11-29 (entry_date outside 2022-01-01 to 2025-12-31)")
    assert assess(rec, {}, (None, "2021-12-31")) == (
        "publication_date", "published 2022-09 (pub_date outside .. to 2021-12-31)")


def ctgov_study(folder, name, nct=None):
    recs = list(iter_ctgov_records(FIX / "clinicaltrials" / folder / name, raw_file=name, search_ids=["s"]))
    return next(r for r in recs if nct is None or r["record_id"] == f"ctgov:{nct}")


def test_registry_date_field_chooses_which_date_is_bounded():
    study = ctgov_study("cyanheads", "studies_2025-06-17T11-16-37-179Z.json", "NCT03934567")
    assert (study["first_posted_date"], study["start_date"], study["completion_date"]) == \
        ("2019-05-02", "2020-04-22", "2025-10-30")
    window = (None, "2019-12-31")
    assert assess(study, {}, window) is None  # first posted inside the window (the default)
    assert assess(study, {"registry_date_field": "start_date"}, window) == (
        "publication_date", "started 2020-04-22 (start_date outside .. to 2019-12-31)")
    assert assess(study, {"registry_date_field": "completion_date"}, window) == (
        "publication_date", "completed 2025-10-30 (completion_date outside .. to 2019-12-31)")
    assert assess(study, {"registry_date_field": "first_posted_date"}, ("2020-01-01", None)) == (
        "publication_date", "first posted 2019-05-02 (first_posted_date outside 2020-01-01 to ..)")


def test_study_type_rule_on_real_studies():
    rules = {"trial_study_types": ["INTERVENTIONAL"]}
    observational = ctgov_study("biomcp", "get_nct06604689_20260811.json")
    interventional = ctgov_study("biomcp", "get_nct06382129_20260811.json")
    assert observational["study_type"] == "OBSERVATIONAL" and interventional["study_type"] == "INTERVENTIONAL"
    assert assess(observational, rules, (None, None)) == ("study_type", "study type OBSERVATIONAL")
    assert assess(interventional, rules, (None, None)) is None
    unknown = {**observational, "study_type": None}
    assert assess(unknown, rules, (None, None)) is None  # a record lacking the value is never excluded
    assert assess(observational, {}, (None, None)) is None  # no setting: no study-type rule


@pytest.mark.parametrize("key,value,message", [
    ("trial_study_types", ["RANDOMISED"], "eligibility.trial_study_types[0]: expected one of INTERVENTIONAL, "
                                          "OBSERVATIONAL, EXPANDED_ACCESS, got 'RANDOMISED'"),
    ("publication_date_field", "edat", "eligibility.publication_date_field: expected one of pub_date, entry_date, "
                                       "got 'edat'"),
    ("registry_date_field", "pub_date", "eligibility.registry_date_field: expected one of first_posted_date, "
                                        "start_date, completion_date, got 'pub_date'"),
    ("trial_overall_status", ["Completed"], "eligibility.trial_overall_status[0]: expected one of "
                                            "ACTIVE_NOT_RECRUITING, COMPLETED, ENROLLING_BY_INVITATION, "
                                            "NOT_YET_RECRUITING, RECRUITING, SUSPENDED, TERMINATED, WITHDRAWN, "
                                            "AVAILABLE, NO_LONGER_AVAILABLE, TEMPORARILY_NOT_AVAILABLE, "
                                            "APPROVED_FOR_MARKETING, WITHHELD, UNKNOWN, got 'Completed'"),
])
def test_protocol_rejects_unknown_eligibility_values(key, value, message):
    import yaml

    from reprisma.protocol import ProtocolError, validate_config

    cfg = load_protocol(Path(__file__).resolve().parents[2] / "config" / "config.yaml").config
    cfg["eligibility"][key] = value
    with pytest.raises(ProtocolError) as e:
        validate_config(cfg)
    assert str(e.value) == f"config/config.yaml: {message}"


def test_example_protocol_keeps_the_default_dates():
    from reprisma.protocol import load_protocol

    cfg = load_protocol(Path(__file__).resolve().parents[2] / "config" / "config.yaml").config
    assert cfg["eligibility"]["publication_date_field"] == "pub_date"
    assert cfg["eligibility"]["registry_date_field"] == "first_posted_date"
    assert cfg["removed_before_screening"] == "config/removed_before_screening.tsv"


# ------------------------------------------------------------------ removed before screening for other reasons

REMOVED_HEADER = "record_id\treason\treviewer\tdate\n"


@pytest.fixture
def cluster_of():
    """Real record ids (the metapub fixtures); pubmed:36987902 stands as merged into pubmed:38011560."""
    ids = sorted(r["record_id"] for p in (FIX / "pubmed" / "metapub").glob("pmid_*.xml")
                 for r in iter_pubmed_records(p, raw_file=p.name, search_ids=["s"]))
    out = {rid: rid for rid in ids}
    out["pubmed:36987902"] = "pubmed:38011560"
    return out


def write_removed(tmp_path, body, header=REMOVED_HEADER):
    path = tmp_path / "removed_before_screening.tsv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_removed_file_is_read_with_comments_and_merged_ids(tmp_path, cluster_of):
    path = write_removed(tmp_path, "# retracted after the search\n"
                                   "pubmed:38914053\tretracted after the search\tana\t2026-11-20\n"
                                   "\n"
                                   "pubmed:36987902\tpublisher notice: duplicate publication\tben\t2026-11-21\n")
    removed = load_removed(path, cluster_of)
    assert removed == {
        "pubmed:38914053": {"reason": "retracted after the search", "reviewer": "ana", "date": "2026-11-20", "line": 3},
        "pubmed:38011560": {"reason": "publisher notice: duplicate publication", "reviewer": "ben",
                            "date": "2026-11-21", "line": 5},
    }


def test_missing_removed_file_means_none(tmp_path, cluster_of):
    assert load_removed(tmp_path / "nothing.tsv", cluster_of) == {}


@pytest.mark.parametrize("body,message", [
    ("pubmed:1\tnot in scope\tana\t2026-11-20\n",
     "removed_before_screening.tsv:2: unknown record id 'pubmed:1' (not a record of this capture)"),
    ("pubmed:38914053\tretracted\tana\t2026-11-20\npubmed:38914053\tretracted\tben\t2026-11-21\n",
     "removed_before_screening.tsv:3: record 'pubmed:38914053' is listed twice (first at line 2)"),
    ("pubmed:38011560\tretracted\tana\t2026-11-20\npubmed:36987902\tretracted\tben\t2026-11-21\n",
     "removed_before_screening.tsv:3: record 'pubmed:36987902' (deduplication merged it into 'pubmed:38011560') "
     "is listed twice (first at line 2)"),
    ("pubmed:38914053\tretracted\tana\t2026-13-01\n",
     "removed_before_screening.tsv:2: date '2026-13-01' is not a YYYY-MM-DD date"),
    ("pubmed:38914053\tretracted\tana\t20261120\n",
     "removed_before_screening.tsv:2: date '20261120' is not a YYYY-MM-DD date"),
    ("pubmed:38914053\t \tana\t2026-11-20\n", "removed_before_screening.tsv:2: reason is missing"),
    ("pubmed:38914053\tretracted\t\t2026-11-20\n", "removed_before_screening.tsv:2: reviewer is missing"),
    ("pubmed:38914053\tretracted\tana\n",
     "removed_before_screening.tsv:2: expected 4 tab-separated columns, got 3"),
])
def test_bad_removed_rows_name_file_and_line(tmp_path, cluster_of, body, message):
    path = write_removed(tmp_path, body)
    with pytest.raises(EligibilityError) as e:
        load_removed(path, cluster_of)
    assert f"{tmp_path}/{message}" in str(e.value).splitlines()


def test_every_problem_is_reported_at_once(tmp_path, cluster_of):
    path = write_removed(tmp_path, "pubmed:1\t\tana\t2026-11-20\n")
    with pytest.raises(EligibilityError) as e:
        load_removed(path, cluster_of)
    assert str(e.value).splitlines() == [
        f"2 problems in {path}:",
        f"{path}:2: unknown record id 'pubmed:1' (not a record of this capture)",
        f"{path}:2: reason is missing",
    ]


@pytest.mark.parametrize("header,got", [
    ("", "an empty file"),
    ("record_id\treason\tdate\n", "['record_id', 'reason', 'date']"),
])
def test_removed_file_needs_its_header(tmp_path, cluster_of, header, got):
    path = write_removed(tmp_path, "", header=header)
    with pytest.raises(EligibilityError) as e:
        load_removed(path, cluster_of)
    assert str(e.value) == f"{path}:1: header must be record_id<TAB>reason<TAB>reviewer<TAB>date, got {got}"


def test_comment_lines_before_the_header(tmp_path, cluster_of):
    """'#' comment and blank lines may open the file, as in the decision files; line numbers count them."""
    comments = "# records reviewers removed before screening\n\n# one row per record\n"
    path = write_removed(tmp_path, "pubmed:38914053\tretracted after the search\tana\t2026-11-20\n",
                         header=comments + REMOVED_HEADER)
    assert load_removed(path, cluster_of) == {
        "pubmed:38914053": {"reason": "retracted after the search", "reviewer": "ana", "date": "2026-11-20", "line": 5}}
    path = write_removed(tmp_path, "pubmed:1\tnot in scope\tana\t2026-11-20\n", header=comments + REMOVED_HEADER)
    with pytest.raises(EligibilityError) as e:
        load_removed(path, cluster_of)
    assert f"{path}:5: unknown record id 'pubmed:1' (not a record of this capture)" in str(e.value).splitlines()
    path = write_removed(tmp_path, "", header=comments + "record_id\treason\tdate\n")
    with pytest.raises(EligibilityError) as e:
        load_removed(path, cluster_of)
    assert str(e.value) == (f"{path}:4: header must be record_id<TAB>reason<TAB>reviewer<TAB>date, "
                            "got ['record_id', 'reason', 'date']")
    path = write_removed(tmp_path, "", header=comments)
    with pytest.raises(EligibilityError, match="got an empty file"):
        load_removed(path, cluster_of)


def test_readme_example_row_is_accepted(tmp_path):
    """The README's example of config/removed_before_screening.tsv names a record of the shipped
    example (one listed in its reports/to_screen.csv) and loads as is."""
    import csv
    import re

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```\n( *record_id\treason\treviewer\tdate\n.*?)```", readme, re.S).group(1)
    path = tmp_path / "removed_before_screening.tsv"
    path.write_text("".join(line.strip(" ") + "\n" for line in block.splitlines()), encoding="utf-8")
    with open(root / "reports" / "to_screen.csv", newline="", encoding="utf-8") as f:
        example = {r["record_id"]: r["record_id"] for r in csv.DictReader(f)}
    removed = load_removed(path, example)
    assert removed and set(removed) <= set(example)


def test_removed_file_with_bom_or_not_utf8(tmp_path, cluster_of):
    path = tmp_path / "removed_before_screening.tsv"
    path.write_bytes((REMOVED_HEADER + "pubmed:38914053\tretracted\tana\t2026-11-20\n").encode("utf-8-sig"))
    assert list(load_removed(path, cluster_of)) == ["pubmed:38914053"]
    path.write_bytes((REMOVED_HEADER + "pubmed:38914053\tretir\xe9\tana\t2026-11-20\n").encode("latin-1"))
    with pytest.raises(EligibilityError, match=r"removed_before_screening.tsv:2: not UTF-8 text: byte 0xe9"):
        load_removed(path, cluster_of)


def test_removals_apply_after_automation():
    rows = [{"record_id": "pubmed:38048813", "eligible": False, "rule": "language", "detail": "language ger"},
            {"record_id": "pubmed:38914053", "eligible": True, "rule": "", "detail": ""}]
    removed = {rid: {"reason": "retracted", "reviewer": "ana", "date": "2026-11-20", "line": 2}
               for rid in ("pubmed:38048813", "pubmed:38914053")}
    assert apply_removals(rows, removed) == [
        rows[0],  # automation excluded it first: counted there, once
        {"record_id": "pubmed:38914053", "eligible": False, "rule": REMOVED, "detail": "retracted"}]


def test_removed_file_may_not_sit_among_the_decision_files():
    import yaml

    from reprisma.screen.eligibility import removed_before_screening_file
    from reprisma.protocol import ProtocolError, validate_config

    cfg = load_protocol(Path(__file__).resolve().parents[2] / "config" / "config.yaml").config
    cfg["removed_before_screening"] = "config/screening/removed.tsv"
    with pytest.raises(ProtocolError) as e:
        removed_before_screening_file(validate_config(cfg))
    assert str(e.value) == ("config/config.yaml: removed_before_screening: config/screening/removed.tsv is in "
                            "screening.decisions_dir (config/screening), whose every .tsv file is read as screening "
                            "decisions; put it elsewhere")


def test_removal_reaches_a_representative_that_is_not_the_cluster_id(tmp_path):
    """Dedup names a cluster after its smallest record id, but the representative (the record
    screened) may be another member: a removal naming either must remove the representative."""
    from reprisma.screen.eligibility import eligibility_rows
    from reprisma.protocol import load_protocol

    removed = tmp_path / "removed.tsv"
    protocol = load_protocol(Path(__file__).resolve().parents[2] / "config" / "config.yaml",
                             {"removed_before_screening": str(removed)})
    sid = protocol.searches[0].id
    records = [{"record_id": rid, "source": "pubmed", "search_ids": [sid]} for rid in ("import:a", "pubmed:1")]
    clusters = [{"record_id": "import:a", "cluster_id": "import:a", "representative": False},
                {"record_id": "pubmed:1", "cluster_id": "import:a", "representative": True}]
    for named in ("pubmed:1", "import:a"):
        removed.write_text(REMOVED_HEADER + f"{named}\tretracted\tana\t2026-11-20\n")
        rows = eligibility_rows(records, clusters, protocol)
        assert rows == [{"record_id": "pubmed:1", "eligible": False, "rule": "removed_other_reasons",
                         "detail": "retracted"}], named


def test_removed_file_keeps_quotes_and_splits_at_tabs_only(tmp_path, cluster_of):
    path = write_removed(tmp_path, 'pubmed:38914053\t"Retracted" by the publisher\tana\t2026-11-20\n')
    assert load_removed(path, cluster_of)["pubmed:38914053"]["reason"] == '"Retracted" by the publisher'


def test_removed_file_that_is_a_folder(tmp_path, cluster_of):
    (tmp_path / "removed.tsv").mkdir()
    with pytest.raises(EligibilityError, match=r"removed.tsv: is a folder, not a file"):
        load_removed(tmp_path / "removed.tsv", cluster_of)
