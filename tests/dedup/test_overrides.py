"""config/dedup_overrides.tsv: forced merges and splits, validated with file and line in errors."""
import json
from pathlib import Path

import jsonschema
import pytest

from reprisma.dedup import OverrideError, deduplicate, load_overrides

from dedup_data import read_sample

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "dedup_overrides.schema.json"
HEADER = "action\trecord_id_a\trecord_id_b\treason\treviewer\n"


def write(tmp_path, body: str) -> Path:
    p = tmp_path / "dedup_overrides.tsv"
    p.write_text(HEADER + body, encoding="utf-8")
    return p


def together(res, a, b):
    c = res.clusters.set_index("record_id")["cluster_id"]
    return c[a] == c[b]


def test_schema_is_valid():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA.read_text()))


def test_forced_split_and_merge(tmp_path):
    df = read_sample("special_cases")
    assert together(deduplicate(df), "id_0000001", "id_0000002")
    p = write(tmp_path, "split\tid_0000001\tid_0000002\tAMCIS paper vs its proceedings entry\tAB\n"
                        "merge\tid_0000009\tid_0000010\tsame study reported twice\tAB\n")
    ov = load_overrides(p)
    res = deduplicate(df, overrides=ov)
    assert not together(res, "id_0000001", "id_0000002")
    assert together(res, "id_0000009", "id_0000010")
    ex = res.explanations
    row = ex[(ex["record_id_a"] == "id_0000009") & (ex["record_id_b"] == "id_0000010")].iloc[0]
    assert row["rule"] == "override" and f"{p}:3" in row["reason"]


def test_unknown_record_is_an_error_with_file_and_line(tmp_path):
    p = write(tmp_path, "merge\tid_0000001\tid_0000002\tok\tAB\nsplit\tid_0000001\tid_9999999\ttypo\tAB\n")
    with pytest.raises(OverrideError, match=rf"{p}:3: record_id_b 'id_9999999'"):
        deduplicate(read_sample("special_cases"), overrides=load_overrides(p))


def test_bad_rows(tmp_path):
    with pytest.raises(OverrideError, match=r":2: action: 'join' is not one of"):
        load_overrides(write(tmp_path, "join\tid_0000001\tid_0000002\tx\tAB\n"))
    with pytest.raises(OverrideError, match=r":2: expected 5 tab-separated columns"):
        load_overrides(write(tmp_path, "merge\tid_0000001\tid_0000002\n"))
    with pytest.raises(OverrideError, match=r":2: reason: '' should be non-empty"):
        load_overrides(write(tmp_path, "merge\tid_0000001\tid_0000002\t\tAB\n"))
    p = tmp_path / "h.tsv"
    p.write_text("a\tb\n", encoding="utf-8")
    with pytest.raises(OverrideError, match=r"h.tsv:1: header must be"):
        load_overrides(p)


def test_merge_and_split_of_one_pair_conflict(tmp_path):
    p = write(tmp_path, "merge\tid_0000001\tid_0000002\tx\tAB\nsplit\tid_0000002\tid_0000001\ty\tCD\n")
    with pytest.raises(OverrideError, match=r":3: id_0000001 / id_0000002 is both merged and split"):
        deduplicate(read_sample("special_cases"), overrides=load_overrides(p))
