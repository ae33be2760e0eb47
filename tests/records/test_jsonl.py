"""records.jsonl (merge, validate, atomic deterministic write, read) and the field normalisers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reprisma.records import (RecordError, fields, merge_records, new_record, normalise_doi,
                              read_records_jsonl, validate_record, write_records_jsonl)
from reprisma.records.ctgov import iter_ctgov_records
from reprisma.records.normalise import iso_partial, medline_date, nct_ids_in_text
from reprisma.records.pubmed import iter_pubmed_records

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def fixture_records() -> list[dict]:
    out = []
    for p in sorted((FIX / "pubmed").glob("*/*.xml")):
        if p.name.startswith("pmid_") or p.name.startswith("pubmed") or p.name.startswith("title_"):
            out += iter_pubmed_records(p, raw_file=f"raw/pubmed/{p.name}", search_ids=["pm"])
    for p in sorted((FIX / "clinicaltrials").glob("*/*.json")):
        out += iter_ctgov_records(p, raw_file=f"raw/ctgov/{p.name}", search_ids=["ct"])
    return out


ALL = fixture_records()


def test_schema_keys_and_empty_record():
    schema = json.loads((Path(__file__).resolve().parents[2] / "workflow/schemas/record.schema.json").read_text())
    assert fields() == list(schema["properties"])
    rec = new_record(record_id="pubmed:1", source="pubmed", search_ids=["s"], raw_file="r", title="t")
    assert set(rec) == set(schema["properties"])
    assert rec["authors"] == [] and rec["doi"] is None
    validate_record(rec)
    with pytest.raises(RecordError, match="not record fields: colour"):
        new_record(colour="red")


def test_validate_record_names_the_field():
    rec = dict(ALL[0])
    rec["year"] = "2001"
    with pytest.raises(RecordError, match=rf"record {rec['record_id']}: year: '2001' is not of type"):
        validate_record(rec)
    rec = dict(ALL[0])
    del rec["mesh_terms"]
    with pytest.raises(RecordError, match="missing field.*mesh_terms"):
        validate_record(rec)


def test_merge_same_record_from_two_files():
    # PMID 27797938 is in both pubmed4.xml and title_with_html_tags.xml
    same = [r for r in ALL if r["record_id"] == "pubmed:27797938"]
    assert sorted(r["raw_file"] for r in same) == ["raw/pubmed/pubmed4.xml", "raw/pubmed/title_with_html_tags.xml"]
    other_search = dict(same[1], search_ids=["zz", "pm"])
    (merged,) = merge_records([other_search, same[0]])
    assert merged["raw_file"] == "raw/pubmed/pubmed4.xml"
    assert merged["search_ids"] == ["pm", "zz"]
    assert "at the TERT gene" in merged["title"]  # the fields of the copy kept


def test_write_is_sorted_deterministic_and_reads_back(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    n = write_records_jsonl(ALL, a)
    write_records_jsonl(list(reversed(ALL)), b)
    assert a.read_bytes() == b.read_bytes()
    lines = a.read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["record_id"] for line in lines]
    assert n == len(lines) == len({r["record_id"] for r in ALL}) and ids == sorted(ids)
    assert all(list(json.loads(line)) == sorted(json.loads(line)) for line in lines)
    assert "TGF-β" in a.read_text(encoding="utf-8")  # ensure_ascii=False
    assert list(read_records_jsonl(a)) == merge_records(ALL)
    assert not list(tmp_path.glob(".*tmp"))  # no temp file left behind


def test_read_errors_name_path_and_line(tmp_path):
    path = tmp_path / "records.jsonl"
    write_records_jsonl(ALL[:3], path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(lines[0] + lines[1][:40] + "\n", encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{path}:2: column \d+: not valid JSON"):
        list(read_records_jsonl(path))
    bad = json.loads(lines[1])
    bad["record_id"] = "pubmed:abc"
    path.write_text(lines[0] + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(RecordError, match=rf"{path}:2: record pubmed:abc: record_id: "):
        list(read_records_jsonl(path))


def test_write_refuses_invalid_records(tmp_path):
    rec = dict(ALL[0], nct_ids=["NCT123"])
    with pytest.raises(RecordError, match="nct_ids/0"):
        write_records_jsonl([rec], tmp_path / "x.jsonl")
    assert not (tmp_path / "x.jsonl").exists()


# ------------------------------------------------------------------ normalisers

@pytest.mark.parametrize("raw,doi", [
    ("10.1136/gutjnl-2016-312510", "10.1136/gutjnl-2016-312510"),
    (" https://doi.org/10.1056/NEJMoa1210384 ", "10.1056/nejmoa1210384"),
    ("http://dx.doi.org/10.1056/NEJMoa1210384", "10.1056/nejmoa1210384"),
    ("doi: 10.1056/NEJMoa1210384", "10.1056/nejmoa1210384"),
    ("DOI:https://doi.org/10.1056/NEJMoa1210384", "10.1056/nejmoa1210384"),
    ("", None), ("   ", None), (None, None), ("doi:", None),
])
def test_normalise_doi(raw, doi):
    assert normalise_doi(raw) == doi


PREFIXES = st.sampled_from(["", "doi:", "DOI: ", "https://doi.org/", "http://dx.doi.org/", "HTTPS://DOI.ORG/"])


@given(prefix=PREFIXES, body=st.text(min_size=0, max_size=40), pad=st.sampled_from(["", " ", "\t"]))
def test_normalise_doi_idempotent_and_prefix_free(prefix, body, pad):
    once = normalise_doi(pad + prefix + body + pad)
    assert normalise_doi(once) == once
    if once is not None:
        assert once == once.strip() and once == once.lower()
        assert not once.startswith(("doi:", "https://doi.org/", "http://dx.doi.org/"))


@pytest.mark.parametrize("text,iso", [
    ("1998 Dec-1999 Jan", "1998-12"), ("2000 Spring", "2000"), ("1998-1999", "1998"),
    ("2001 Nov-Dec", "2001-11"), ("1975 Mar 15", "1975-03-15"), ("unknown", None),
])
def test_medline_date(text, iso):
    assert medline_date(text) == iso


@pytest.mark.parametrize("parts,iso", [
    (("2023", "Dec", None), "2023-12"), (("2023", "03", "4"), "2023-03-04"), (("2023", "Mar", "31"), "2023-03-31"),
    (("2023", "Feb", "30"), "2023-02"), (("2023", "Summer", None), "2023"), (("23", "Mar", None), None),
])
def test_iso_partial(parts, iso):
    assert iso_partial(*parts) == iso


def test_nct_in_text():
    assert nct_ids_in_text("registered as NCT04718792; see also NCT 01234567 and XNCT11111111") == \
        ["NCT04718792", "NCT01234567"]


# ------------------------------------------------------------------ round trip (hypothesis)

@settings(max_examples=40, deadline=None)
@given(picks=st.lists(st.tuples(st.integers(0, len(ALL) - 1), st.sampled_from(["pm", "ct", "s2", "s3"]),
                                st.text(max_size=30)), min_size=1, max_size=12))
def test_write_read_round_trip(tmp_path_factory, picks):
    """parse -> write -> read gives merge(parse), whatever titles, searches and duplicates."""
    records = [dict(ALL[i], search_ids=[sid], title=ALL[i]["title"] + title) for i, sid, title in picks]
    path = tmp_path_factory.mktemp("rt") / "records.jsonl"
    write_records_jsonl(records, path)
    back = list(read_records_jsonl(path))
    assert back == merge_records(records)
    assert [r["record_id"] for r in back] == sorted({r["record_id"] for r in records})
    for r in back:
        assert r["search_ids"] == sorted({sid for i, sid, _ in picks if ALL[i]["record_id"] == r["record_id"]})


# ------------------------------------------------------------------ fast validity check == jsonschema

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 3000) | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["pubmed", "ctgov", "pubmed:12", "ctgov:NCT01234567", "NCT01234567", "2019-12", "123"]),
    lambda children: st.lists(children, max_size=3), max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(i=st.integers(0, len(ALL) - 1), key=st.sampled_from(fields()), value=JSON_VALUES)
def test_fast_check_agrees_with_jsonschema(i, key, value):
    from jsonschema import Draft202012Validator

    from reprisma.records.schema import _fast_valid, schema

    rec = dict(ALL[i], **{key: value})
    fast, valid = _fast_valid(rec), Draft202012Validator(schema()).is_valid(rec)
    assert valid or not fast  # the fast path never lets an invalid record through
    if not isinstance(value, float):  # jsonschema counts 2001.0 as an integer; the fast path defers to it
        assert fast == valid
