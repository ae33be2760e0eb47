"""ClinicalTrials.gov API v2 JSON -> records, against the genuine fixtures in tests/fixtures/clinicaltrials."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from reprisma.records import RawResponseError, validate_record
from reprisma.records.ctgov import iter_ctgov_records
from reprisma.snapshot import gzip_bytes

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "clinicaltrials"
JSON_FILES = sorted(FIX.glob("*/*.json"))


def parse(path: Path, search_ids=("ct",)) -> list[dict]:
    return list(iter_ctgov_records(path, raw_file=f"raw/{path.name}", search_ids=list(search_ids)))


def studies_of(path: Path) -> list[dict]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return doc["studies"] if "studies" in doc else [doc]


def by_id(path: Path) -> dict:
    return {r["record_id"]: r for r in parse(path)}


def test_all_fixture_files_are_covered():
    assert len(JSON_FILES) == 13


@pytest.mark.parametrize("path", JSON_FILES, ids=lambda p: p.name)
def test_every_fixture_parses_one_valid_record_per_study(path):
    studies = studies_of(path)
    records = parse(path)
    assert len(records) == len(studies)
    for study, rec in zip(studies, records):
        validate_record(rec)
        ps = study["protocolSection"]
        nct = ps["identificationModule"]["nctId"]
        assert rec["record_id"] == f"ctgov:{nct}" and nct in rec["nct_ids"]
        assert rec["source"] == "ctgov" and rec["search_ids"] == ["ct"]
        assert rec["title"] == " ".join(ps["identificationModule"]["briefTitle"].split())
        assert rec["overall_status"] == ps["statusModule"]["overallStatus"]
        assert rec["start_date"] == ps["statusModule"]["startDateStruct"]["date"]
        assert rec["year"] == int(rec["start_date"][:4])
        assert rec["enrollment"] == ps["designModule"]["enrollmentInfo"]["count"]
        assert rec["phases"] == ps["designModule"].get("phases", [])
        assert rec["conditions"] == ps["conditionsModule"]["conditions"]
        assert rec["interventions"] == [i["name"] for i in ps["armsInterventionsModule"]["interventions"]]
        summary = ps.get("descriptionModule", {}).get("briefSummary")
        assert rec["abstract"] == (" ".join(summary.split()) if summary else None)
        # nothing a registry entry does not have
        assert rec["doi"] is rec["pmid"] is rec["journal"] is None
        assert rec["authors"] == rec["languages"] == []


def test_single_study_terminated_phase1():
    (rec,) = parse(FIX / "biomcp" / "get_nct02576665_20260811.json")
    assert rec["record_id"] == "ctgov:NCT02576665"
    assert rec["overall_status"] == "TERMINATED"
    assert rec["phases"] == ["PHASE1"] and rec["study_type"] == "INTERVENTIONAL"
    assert rec["enrollment"] == 21
    assert (rec["start_date"], rec["completion_date"]) == ("2016-07", "2019-12-20")
    assert rec["first_posted_date"] is None  # not among the fields that request asked for
    assert rec["interventions"] == ["Toca 511", "Toca FC"]


def test_observational_study_has_no_phases():
    (rec,) = parse(FIX / "biomcp" / "get_nct06604689_20260811.json")
    assert rec["study_type"] == "OBSERVATIONAL" and rec["phases"] == []
    assert rec["overall_status"] == "RECRUITING"


def test_search_pages_of_one_chain_in_file_order():
    first = parse(FIX / "biomcp" / "search_phelan_limit5_20260811.json")
    second = parse(FIX / "biomcp" / "search_phelan_next_20260811.json")
    assert [r["record_id"] for r in first][:2] == ["ctgov:NCT02710084", "ctgov:NCT05105685"]
    assert len(first) == len(second) == 5
    assert not {r["record_id"] for r in first} & {r["record_id"] for r in second}


def test_full_study_with_results_and_non_nct_secondary_ids():
    (rec,) = parse(FIX / "mcode" / "NCT02513394.json")
    assert rec["title"] == "PALbociclib CoLlaborative Adjuvant Study"
    # its secondary ids (ABCSG 42, BIG 14-03, an EudraCT number) are not NCT numbers
    assert rec["nct_ids"] == ["NCT02513394"]
    assert rec["first_posted_date"] == "2015-07-31"
    assert rec["enrollment"] == 5796 and rec["phases"] == ["PHASE3"]
    assert rec["mesh_terms"] == ["Breast Neoplasms", "Palbociclib"]
    assert rec["keywords"] == ["HR+/HER2- breast cancer", "Palbociclib"]


def test_search_page_and_single_study_give_the_same_record():
    page = by_id(FIX / "cyanheads" / "studies_2025-06-17T11-16-37-179Z.json")
    (single,) = parse(FIX / "cyanheads" / "study_NCT00184067_2025-06-17T11-17-42-480Z.json")
    from_page = page["ctgov:NCT00184067"]
    assert {k: v for k, v in from_page.items() if k != "raw_file"} == \
        {k: v for k, v in single.items() if k != "raw_file"}
    assert single["first_posted_date"] == "2005-09-16" and single["overall_status"] == "TERMINATED"


def test_gzip_stream_and_text_inputs(tmp_path):
    src = FIX / "biomcp" / "search_keytruda_limit3_20260811.json"
    gz = tmp_path / "page-0001.json.gz"
    gz.write_bytes(gzip_bytes(src.read_bytes()))
    kw = dict(raw_file="raw/c/page-0001.json.gz", search_ids=["c"])
    plain = list(iter_ctgov_records(src, **kw))
    assert len(plain) == 3
    assert list(iter_ctgov_records(gz, **kw)) == plain
    with gzip.open(gz, "rb") as f:
        assert list(iter_ctgov_records(f, **kw)) == plain
    assert list(iter_ctgov_records(io.StringIO(src.read_text(encoding="utf-8")), **kw)) == plain


def test_truncated_json_names_path_line_and_column(tmp_path):
    text = (FIX / "cyanheads" / "studies_2025-06-17T11-16-37-179Z.json").read_text(encoding="utf-8")
    cut = text[: len(text) // 2]
    path = tmp_path / "cut.json"
    path.write_text(cut, encoding="utf-8")
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(cut)
    with pytest.raises(RawResponseError) as ei:
        parse(path)
    msg = str(ei.value)
    assert str(path) in msg and "raw/cut.json" in msg
    assert f"line {expected.value.lineno}, column {expected.value.colno}" in msg
    assert "not valid JSON" in msg


def test_truncated_gzip_json(tmp_path):
    data = gzip_bytes((FIX / "mcode" / "NCT02513394.json").read_bytes())
    path = tmp_path / "cut.json.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RawResponseError, match="compressed"):
        parse(path)


def test_json_that_is_not_a_study_or_page():
    # a genuine E-utilities error body: valid JSON, but no studies
    path = Path(__file__).resolve().parents[1] / "fixtures" / "pubmed" / "biomcp" / "esummary_rate_limit_exceeded.json"
    with pytest.raises(RawResponseError, match="line 1, column 1: neither a CT.gov v2 search page"):
        parse(path)


def test_not_utf8_names_position(tmp_path):
    src = (FIX / "biomcp" / "get_nct06604689_20260811.json").read_bytes()
    lines = src.split(b"\n")
    bad = b"\n".join(lines[:3] + [lines[3] + b"\xff"] + lines[4:])
    path = tmp_path / "latin.json"
    path.write_bytes(bad)
    col = len(lines[3].decode("utf-8")) + 1
    with pytest.raises(RawResponseError, match=rf"line 4, column {col}: not UTF-8"):
        parse(path)


# ------------------------------------------------------------------ streaming decoder

def _parse_text(text: str, chunk: int) -> list[dict]:
    from reprisma.records import jsonstream

    saved, jsonstream.CHUNK = jsonstream.CHUNK, chunk
    try:
        return list(iter_ctgov_records(io.BytesIO(text.encode("utf-8")), raw_file="raw/p.json", search_ids=["ct"]))
    finally:
        jsonstream.CHUNK = saved


@pytest.mark.parametrize("chunk", [1, 7, 4096])
@pytest.mark.parametrize("compact", [False, True])
def test_chunking_and_layout_do_not_change_records(chunk, compact):
    for path in (FIX / "biomcp" / "search_phelan_limit5_20260811.json", FIX / "biomcp" / "get_nct02576665_20260811.json",
                 FIX / "cyanheads" / "studies_2025-06-17T11-16-37-179Z.json"):
        text = path.read_text(encoding="utf-8")
        if compact:  # the API itself sends compact JSON, one line
            text = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
        assert _parse_text(text, chunk) == list(iter_ctgov_records(path, raw_file="raw/p.json", search_ids=["ct"]))


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PAGE = (FIX / "biomcp" / "search_phelan_limit5_20260811.json").read_text(encoding="utf-8")
COMPACT = json.dumps(json.loads(PAGE), separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=150, deadline=None)
@given(which=st.sampled_from(["pretty", "compact"]), frac=st.floats(0, 1, exclude_max=True),
       chunk=st.sampled_from([5, 64, 65536]))
def test_any_truncation_is_reported_where_json_would(which, frac, chunk):
    text = PAGE if which == "pretty" else COMPACT
    cut = text[: int(len(text) * frac)].rstrip("}\n ")  # never a complete document
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(cut)
    with pytest.raises(RawResponseError) as ei:
        _parse_text(cut, chunk)
    assert (ei.value.line, ei.value.column) == (expected.value.lineno, expected.value.colno), str(ei.value)


def test_extra_data_after_the_page():
    with pytest.raises(RawResponseError, match=r"line \d+, column \d+: not valid JSON \(Extra data\)"):
        _parse_text(COMPACT + " {}", 64)


def test_top_level_not_an_object():
    with pytest.raises(RawResponseError, match="line 1, column 1: not valid JSON"):
        _parse_text("[1, 2]", 64)


def test_results_pmids_list_only_results_references():
    """NCT02513394's four genuine references are all DERIVED (NLM linked them): none is a results
    reference. The classic-XML records served by the emulator carry RESULT ones (NCT00090064)."""
    rec = parse(FIX / "mcode" / "NCT02513394.json")[0]
    assert rec["results_pmids"] == []
    from reprisma.emulator.ctgov_classic import read_classic_xml

    study, _day = read_classic_xml(FIX.parent / "ctgov-2020" / "NCT00090064.xml")
    page = {"studies": [study]}
    stream = io.BytesIO(json.dumps(page).encode())
    rec = list(iter_ctgov_records(stream, raw_file="raw/p.json", search_ids=["ct"]))[0]
    validate_record(rec)
    assert rec["results_pmids"] == ["20643699", "23172889"]
