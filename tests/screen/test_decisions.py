"""Decision files: every validation error names file and line; conflicts, resolution, kappa."""

import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from reprisma.screen.decisions import (
    COLUMNS,
    DecisionFileError,
    ScreeningSettings,
    conflicts,
    kappa_table,
    load_decisions,
    resolve_decisions,
    screening_summary,
    write_decisions_tsv,
)

HERE = Path(__file__).resolve().parent
SUBSET = HERE.parent / "data" / "screening" / "cohen2006_antihistamines_subset.csv"
# real PubMed ids from the Cohen 2006 antihistamines subset (tests/data/screening)
IDS = [f"pubmed:{p}" for p in pd.read_csv(SUBSET, dtype=str)["pubmedID"]]
A, B, C, D = IDS[:4]
REASONS = ("wrong population", "wrong intervention", "wrong study design")
DUAL = ScreeningSettings(mode="dual", reasons=REASONS, resolver="carol")
SINGLE = ScreeningSettings(mode="single", reasons=REASONS)
HEADER = "record_id\tstage\treviewer\tdecision\treason\tdate\n"


def tsv(tmp_path, name, rows, header=HEADER):
    p = tmp_path / name
    p.write_text(header + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    return p


def errors(tmp_path, rows, settings=DUAL, name="ta.tsv", known=IDS, header=HEADER):
    p = tsv(tmp_path, name, rows, header)
    with pytest.raises(DecisionFileError) as exc:
        load_decisions([p], settings, known)
    return exc.value, str(p)


def test_valid_file_loads(tmp_path):
    p = tsv(tmp_path, "ta.tsv", [
        (A, "title_abstract", "alice", "include", "", "2024-03-01"),
        (A, "title_abstract", "bob", "include", "", "2024-03-02"),
    ])
    df = load_decisions([p], DUAL, IDS)
    assert list(df["line"]) == [2, 3]
    assert df["reason"].tolist() == [None, None]


def test_unknown_id(tmp_path):
    err, name = errors(tmp_path, [(A, "title_abstract", "alice", "include", "", "2024-03-01"),
                                  ("pubmed:1", "title_abstract", "alice", "exclude", "", "2024-03-01")])
    assert f"{name}:3: unknown record id 'pubmed:1'" in str(err)
    assert [(p.file, p.line) for p in err.problems] == [(name, 3)]


def test_duplicate_row_names_both_lines(tmp_path):
    err, name = errors(tmp_path, [(A, "title_abstract", "alice", "include", "", "2024-03-01"),
                                  (B, "title_abstract", "alice", "include", "", "2024-03-01"),
                                  (A, "title_abstract", "alice", "exclude", "", "2024-03-04")])
    msg = str(err)
    assert f"{name}:4: duplicate decision for record '{A}', stage title_abstract, reviewer 'alice'" in msg
    assert f"(first at {name}:2)" in msg


def test_duplicate_across_files(tmp_path):
    p1 = tsv(tmp_path, "a.tsv", [(A, "title_abstract", "alice", "include", "", "2024-03-01")])
    p2 = tsv(tmp_path, "b.tsv", [(A, "title_abstract", "alice", "include", "", "2024-03-01")])
    with pytest.raises(DecisionFileError) as exc:
        load_decisions([p1, p2], DUAL, IDS)
    assert f"{p2}:2: duplicate decision" in str(exc.value)
    assert f"first at {p1}:2" in str(exc.value)


def test_reason_not_in_list(tmp_path):
    err, name = errors(tmp_path, [(A, "title_abstract", "alice", "exclude", "off topic", "2024-03-01")])
    assert f"{name}:2: reason 'off topic' is not in the protocol's list: wrong population" in str(err)


def test_full_text_exclusion_needs_reason(tmp_path):
    err, name = errors(tmp_path, [(A, "title_abstract", "alice", "include", "", "2024-03-01"),
                                  (A, "full_text", "alice", "exclude", "", "2024-04-01")], settings=SINGLE)
    assert f"{name}:3: full-text exclusion without a reason" in str(err)


def test_full_text_after_title_abstract_exclusion(tmp_path):
    err, name = errors(tmp_path, [(A, "title_abstract", "alice", "exclude", "", "2024-03-01"),
                                  (A, "full_text", "alice", "include", "", "2024-04-01")], settings=SINGLE)
    assert f"{name}:3: full-text decision for record '{A}', which was excluded at title/abstract" in str(err)


@pytest.mark.parametrize(
    "row, message",
    [
        ((A, "abstract", "alice", "include", "", "2024-03-01"), "column 'stage': 'abstract' is not one of title_abstract, full_text"),
        ((A, "title_abstract", "alice", "yes", "", "2024-03-01"), "column 'decision': 'yes' is not one of include, exclude, maybe"),
        ((A, "title_abstract", "alice", "include", "", "01/03/2024"), "column 'date': '01/03/2024' has the wrong form"),
        ((A, "title_abstract", "alice", "include", "", "2024-02-30"), "date '2024-02-30' is not a valid ISO date"),
        ((A, "title_abstract", "al ice", "include", "", "2024-03-01"), "column 'reviewer': 'al ice' has the wrong form"),
        ((A, "title_abstract", "", "include", "", "2024-03-01"), "missing value in column 'reviewer'"),
    ],
)
def test_schema_errors(tmp_path, row, message):
    err, name = errors(tmp_path, [row])
    assert f"{name}:2: {message}" in str(err)


def test_wrong_field_count_and_comments_keep_line_numbers(tmp_path):
    p = tmp_path / "ta.tsv"
    p.write_text(HEADER + "# a comment line\n\n" + f"{A}\ttitle_abstract\talice\tinclude\n", encoding="utf-8")
    with pytest.raises(DecisionFileError) as exc:
        load_decisions([p], DUAL, IDS)
    assert f"{p}:4: expected 6 tab-separated fields, found 4" in str(exc.value)


def test_bad_header(tmp_path):
    err, name = errors(tmp_path, [], header="record_id\tstage\tdecision\tdate\n")
    assert re.search(re.escape(name) + r":1: missing column\(s\) reviewer, reason", str(err))


def test_all_problems_reported_at_once(tmp_path):
    err, name = errors(tmp_path, [("pubmed:1", "title_abstract", "alice", "include", "", "2024-03-01"),
                                  (A, "title_abstract", "alice", "exclude", "nope", "2024-03-01")])
    assert [p.line for p in err.problems] == [2, 3]


# -- conflicts, resolution, counts ------------------------------------------------------------


def _frame(rows):
    return pd.DataFrame([dict(zip(COLUMNS, r + ("",) * (len(COLUMNS) - len(r)))) for r in rows]).replace("", None)


def test_conflict_pending_then_resolved(tmp_path):
    rows = [
        (A, "title_abstract", "alice", "include", None, "2024-03-01"),
        (A, "title_abstract", "bob", "include", None, "2024-03-01"),
        (B, "title_abstract", "alice", "include", None, "2024-03-01"),
        (B, "title_abstract", "bob", "exclude", "wrong population", "2024-03-01"),
        (C, "title_abstract", "alice", "exclude", None, "2024-03-01"),
    ]
    res = resolve_decisions(_frame(rows), DUAL)
    by = res.set_index("record_id")
    assert by.loc[A, "decision"] == "include" and by.loc[A, "basis"] == "agreement"
    assert by.loc[B, "decision"] == "pending" and by.loc[B, "basis"] == "conflict"
    assert by.loc[C, "decision"] == "pending" and by.loc[C, "basis"] == "awaiting second reviewer"
    summary = screening_summary(res, [A, B, C, D])
    assert summary["title_abstract"]["pending"] == 2
    assert summary["title_abstract"]["include"] == 1
    assert summary["title_abstract"]["not_screened"] == 1
    c = conflicts(_frame(rows), DUAL)
    assert c["record_id"].tolist() == [B]
    assert c["reviewer_decisions"].tolist() == ["alice=include;bob=exclude"]
    assert not c["resolved"].iloc[0]
    # the third reviewer named in the protocol resolves the conflict
    rows.append((B, "title_abstract", "carol", "exclude", "wrong population", "2024-03-05"))
    res = resolve_decisions(_frame(rows), DUAL)
    b = res.set_index("record_id").loc[B]
    assert b["decision"] == "exclude" and b["basis"] == "resolved:carol"
    assert screening_summary(res)["title_abstract"]["pending"] == 1
    c = conflicts(_frame(rows), DUAL)
    assert c["resolved"].tolist() == [True] and c["resolution"].tolist() == ["exclude"]


def test_single_mode_one_reviewer_is_final():
    res = resolve_decisions(_frame([(C, "title_abstract", "alice", "exclude", None, "2024-03-01")]), SINGLE)
    assert res["decision"].tolist() == ["exclude"] and res["basis"].tolist() == ["single"]


def test_consensus_row_resolves_and_maybe_at_full_text_is_pending():
    rows = [
        (A, "title_abstract", "alice", "include", None, "2024-03-01"),
        (A, "title_abstract", "bob", "maybe", None, "2024-03-01"),
        (A, "title_abstract", "consensus", "include", None, "2024-03-02"),
        (A, "full_text", "alice", "maybe", None, "2024-04-01"),
        (A, "full_text", "bob", "maybe", None, "2024-04-01"),
    ]
    res = resolve_decisions(_frame(rows), DUAL).set_index("stage")
    assert res.loc["title_abstract", "basis"] == "resolved:consensus"
    assert res.loc["full_text", "decision"] == "pending"


def test_kappa_matches_sklearn():
    rows, a_dec, b_dec = [], [], []
    pattern = ["include", "exclude", "exclude", "maybe", "include", "exclude", "exclude", "include"]
    other = ["include", "exclude", "include", "exclude", "include", "exclude", "maybe", "exclude"]
    for rid, x, y in zip(IDS, pattern, other):
        rows.append((rid, "title_abstract", "alice", x, None, "2024-03-01"))
        rows.append((rid, "title_abstract", "bob", y, None, "2024-03-01"))
        a_dec.append(x)
        b_dec.append(y)
    k = kappa_table(_frame(rows), DUAL)
    assert k[["stage", "reviewer_a", "reviewer_b", "n"]].values.tolist() == [["title_abstract", "alice", "bob", 8]]
    assert k["kappa"].iloc[0] == pytest.approx(cohen_kappa_score(a_dec, b_dec))
    assert k["agreement"].iloc[0] == pytest.approx(sum(x == y for x, y in zip(a_dec, b_dec)) / 8)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["include", "exclude", "maybe"]),
                          st.sampled_from(["include", "exclude", "maybe"])), min_size=2, max_size=30))
def test_kappa_property(pairs):
    rows = []
    for rid, (x, y) in zip(IDS, pairs):
        rows.append((rid, "full_text", "alice", x, "wrong population" if x == "exclude" else None, "2024-03-01"))
        rows.append((rid, "full_text", "bob", y, "wrong population" if y == "exclude" else None, "2024-03-01"))
    k = kappa_table(_frame(rows), DUAL)
    xs = [p[0] for p in pairs[: len(IDS)]]
    ys = [p[1] for p in pairs[: len(IDS)]]
    value = k["kappa"].iloc[0]
    if len(set(xs)) == 1 and xs == ys:
        assert value is None
    else:
        expected = cohen_kappa_score(xs, ys, labels=["include", "exclude", "maybe"])
        assert value == pytest.approx(expected, nan_ok=True)


def test_write_decisions_round_trip(tmp_path):
    rows = _frame([
        (B, "full_text", "alice", "exclude", "wrong population", "2024-04-01"),
        (B, "title_abstract", "alice", "include", None, "2024-03-01"),
    ])
    p = tmp_path / "out.tsv"
    write_decisions_tsv(p, rows)
    first = p.read_bytes()
    write_decisions_tsv(p, rows.iloc[::-1])
    assert p.read_bytes() == first  # deterministic order
    df = load_decisions([p], SINGLE, IDS)
    assert df["stage"].tolist() == ["title_abstract", "full_text"]
