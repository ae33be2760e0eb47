"""Decision files: every validation error names file and line; conflicts, resolution, kappa."""

from reprisma.protocol import load_protocol
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
    screening_ids,
    screening_summary,
    validate_decisions,
    write_decisions_tsv,
)
from reprisma.screen.eligibility import REMOVED

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
        ((A, "title_abstract", "alice", "yes", "", "2024-03-01"),
         "column 'decision': 'yes' is not one of include, exclude, maybe, not_retrieved"),
        ((A, "title_abstract", "alice", "not_retrieved", "", "2024-03-01"),
         "decision 'not_retrieved' is for stage full_text only, not title_abstract (a report is sought only for "
         "a record that passed title/abstract)"),
        ((A, "title_abstract", "alice", "include", "", "01/03/2024"), "date '01/03/2024' is not a valid ISO date (YYYY-MM-DD)"),
        ((A, "title_abstract", "alice", "include", "", "2024-02-30"), "date '2024-02-30' is not a valid ISO date"),
        ((A, "title_abstract", "al ice", "include", "", "2024-03-01"), "column 'reviewer': 'al ice' has the wrong form"),
        ((A, "title_abstract", "", "include", "", "2024-03-01"), "missing value in column 'reviewer'"),
    ],
)
def test_schema_errors(tmp_path, row, message):
    err, name = errors(tmp_path, [row])
    assert f"{name}:2: {message}" in str(err)


@pytest.mark.parametrize("date", ["2026/11/01", "01/03/2024", "2026-11-1", "20261101", "2024-02-30"])
def test_bad_date_reported_once(tmp_path, date):
    """A badly formed date (schema pattern) or a day that does not exist: one problem per row."""
    err, name = errors(tmp_path, [(A, "title_abstract", "alice", "include", "", date),
                                  (B, "title_abstract", "alice", "include", "", date)])
    assert [str(p) for p in err.problems] == [
        f"{name}:{line}: date {date!r} is not a valid ISO date (YYYY-MM-DD)" for line in (2, 3)]


@pytest.mark.parametrize("sep", ["\u2028", "\u0085", "\x0c", "\u2029", "\x1c"])
def test_line_separators_in_a_note_keep_line_numbers(tmp_path, sep):
    """Only LF ends a line (CRLF too): a line separator pasted into a note is text, and the
    line numbers of later problems stay right."""
    p = tmp_path / "ta.tsv"
    header = HEADER.replace("date\n", "date\tnote\n")
    p.write_text(header + f"{A}\ttitle_abstract\talice\tinclude\t\t2024-03-01\tfirst{sep}second\r\n"
                 + f"pubmed:1\ttitle_abstract\talice\tinclude\t\t2024-03-01\t\r\n", encoding="utf-8", newline="")
    with pytest.raises(DecisionFileError) as exc:
        load_decisions([p], DUAL, IDS)
    assert [str(e) for e in exc.value.problems] == [f"{p}:3: unknown record id 'pubmed:1'"]
    p.write_text(header + f"{A}\ttitle_abstract\talice\tinclude\t\t2024-03-01\tfirst{sep}second\r\n", encoding="utf-8",
                 newline="")
    df = load_decisions([p], DUAL, IDS)
    assert df["note"].tolist() == [f"first{sep}second"] and df["line"].tolist() == [2]


def test_carriage_return_inside_a_line_names_the_line(tmp_path):
    """A lone CR (old Mac line endings, or pasted into a field) is not a line end: an error with its line."""
    p = tmp_path / "ta.tsv"
    p.write_text(HEADER + f"{A}\ttitle_abstract\talice\tinclude\t\t2024-03-01\n"
                 + f"{B}\ttitle_abstract\talice\tinclude\t\t2024-03-01\r{C}\ttitle_abstract\talice\tinclude\t\t2024-03-01\n",
                 encoding="utf-8", newline="")
    with pytest.raises(DecisionFileError) as exc:
        load_decisions([p], DUAL, IDS)
    assert [str(e) for e in exc.value.problems] == [
        f"{p}:3: carriage return (CR) inside the line: lines must end with LF or CRLF; save the file with "
        "Windows or Unix line endings"]
    # a whole file with CR line ends (Excel for Mac): one message, not also "empty decision file"
    p.write_text((HEADER + f"{A}\ttitle_abstract\talice\tinclude\t\t2024-03-01\n").replace("\n", "\r"),
                 encoding="utf-8", newline="")
    with pytest.raises(DecisionFileError) as exc:
        load_decisions([p], DUAL, IDS)
    assert [e.message.split(":")[0] for e in exc.value.problems] == ["carriage return (CR) inside the line"]
    with pytest.raises(ValueError, match="carriage return"):
        write_decisions_tsv(tmp_path / "out.tsv", [dict(record_id=A, stage="title_abstract", reviewer="alice",
                                                        decision="include", date="2024-03-01", note="a\rb")])


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


def test_unresolved_conflict_has_an_empty_resolution(tmp_path):
    """With one conflict resolved and one not, the unresolved one's resolution is None (pandas 3
    would make it NaN), written as an empty cell, not 'nan'."""
    from reprisma.textfile import tsv_text

    rows = [(r, "title_abstract", who, d, None, "2024-03-01")
            for r in (A, B) for who, d in (("alice", "include"), ("bob", "exclude"))]
    rows.append((A, "title_abstract", "consensus", "include", None, "2024-03-02"))
    c = conflicts(_frame(rows), DUAL)
    assert c["resolution"].tolist() == ["include", None]
    text = tsv_text(c.to_dict("records"), list(c.columns))
    assert "nan" not in text
    assert text.splitlines()[2].split("\t") == [B, "title_abstract", "alice=include;bob=exclude", "false", "", "conflict"]


def test_full_text_exclusions_with_different_reasons_are_a_conflict():
    """Both reviewers exclude at full text, for different reasons: a conflict (never a made-up
    joined reason), pending until a consensus or resolver row names one reason. Kappa counts it
    as agreement on the decision."""
    ta = [(r, "title_abstract", who, "include", None, "2024-03-01") for r in (A, B) for who in ("alice", "bob")]
    ft = [(A, "full_text", "alice", "exclude", "wrong population", "2024-04-01"),
          (A, "full_text", "bob", "exclude", "wrong study design", "2024-04-01"),
          (B, "full_text", "alice", "exclude", "wrong population", "2024-04-01"),
          (B, "full_text", "bob", "exclude", "wrong population", "2024-04-01")]
    for settings in (DUAL, SINGLE):
        res = resolve_decisions(_frame(ta + ft), settings)
        by = res[res["stage"] == "full_text"].set_index("record_id")
        assert by.loc[A, ["decision", "basis", "conflict"]].tolist() == ["pending", "conflict", True]
        assert by.loc[B, ["decision", "reason", "basis", "conflict"]].tolist() == [
            "exclude", "wrong population", "agreement", False]
        s = screening_summary(res, IDS)["full_text"]
        assert (s["exclude"], s["pending"], s["reasons"]) == (1, 1, {"wrong population": 1})
        assert s["pending_by"] == {"conflict": 1, "awaiting_second_reviewer": 0, "maybe_at_full_text": 0}
    c = conflicts(_frame(ta + ft), DUAL)
    assert c[["record_id", "stage", "reviewer_decisions", "resolved", "resolution"]].values.tolist() == [
        [A, "full_text", "alice=exclude (wrong population);bob=exclude (wrong study design)", False, None]]
    k = kappa_table(_frame(ta + ft), DUAL).set_index("stage").loc["full_text"]
    assert (k["n"], k["agreement"]) == (2, 1.0)
    # the resolver names one reason of the list
    rows = ta + ft + [(A, "full_text", "carol", "exclude", "wrong study design", "2024-04-05")]
    assert not validate_decisions(_frame(rows), DUAL, IDS)
    res = resolve_decisions(_frame(rows), DUAL)
    s = screening_summary(res, IDS)["full_text"]
    assert (s["exclude"], s["pending"], s["reasons"]) == (2, 0, {"wrong population": 1, "wrong study design": 1})
    c = conflicts(_frame(rows), DUAL)
    assert c[["resolved", "resolution", "basis"]].values.tolist() == [[True, "exclude (wrong study design)", "resolved:carol"]]
    # at title/abstract reasons are optional and not counted: different ones are no conflict, and none is kept
    res = resolve_decisions(_frame([(C, "title_abstract", "alice", "exclude", "wrong population", "2024-03-01"),
                                    (C, "title_abstract", "bob", "exclude", "wrong intervention", "2024-03-01")]), DUAL)
    assert res[["decision", "reason", "basis", "conflict"]].values.tolist() == [["exclude", None, "agreement", False]]


def test_pending_broken_down_by_why():
    """``pending_by`` splits each stage's pending records: conflict, awaiting a second reviewer,
    maybe at full text; not_screened counts those nobody decided."""
    rows = [(A, "title_abstract", "alice", "include", None, "2024-03-01"),
            (A, "title_abstract", "bob", "exclude", None, "2024-03-01"),
            (B, "title_abstract", "alice", "include", None, "2024-03-01"),
            (C, "title_abstract", "alice", "include", None, "2024-03-01"),
            (C, "title_abstract", "bob", "include", None, "2024-03-01"),
            (C, "full_text", "alice", "maybe", None, "2024-04-01"),
            (C, "full_text", "bob", "maybe", None, "2024-04-01")]
    s = screening_summary(resolve_decisions(_frame(rows), DUAL), IDS[:5])
    ta, ft = s["title_abstract"], s["full_text"]
    assert (ta["pending"], ta["pending_by"], ta["not_screened"]) == (
        2, {"conflict": 1, "awaiting_second_reviewer": 1}, 2)
    assert (ft["pending"], ft["pending_by"], ft["not_screened"]) == (
        1, {"conflict": 0, "awaiting_second_reviewer": 0, "maybe_at_full_text": 1}, 0)


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


_FT = ["include", "exclude", "maybe", "not_retrieved"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_FT), st.sampled_from(_FT)), min_size=2, max_size=30))
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
        expected = cohen_kappa_score(xs, ys, labels=_FT)
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


# -- full text before title/abstract is resolved ----------------------------------------------


def test_full_text_without_title_abstract_row(tmp_path):
    err, name = errors(tmp_path, [(A, "full_text", "alice", "include", "", "2024-04-01"),
                                  (A, "full_text", "bob", "include", "", "2024-04-01")])
    msg = str(err)
    for line in (2, 3):
        assert f"{name}:{line}: full-text decision for record '{A}', which has no title/abstract decision" in msg


def test_full_text_held_while_title_abstract_pending(tmp_path):
    """Dual mode, one title/abstract reviewer so far: the full-text rows are kept but held (the
    record is pending at title/abstract); the second reviewer's agreement releases them."""
    rows = [(A, "title_abstract", "alice", "include", "", "2024-03-01"),
            (A, "full_text", "alice", "include", "", "2024-04-01"),
            (A, "full_text", "bob", "include", "", "2024-04-01")]
    df = load_decisions([tsv(tmp_path, "a.tsv", rows)], DUAL, IDS)
    assert len(df) == 3  # nothing dropped
    s = screening_summary(resolve_decisions(df, DUAL), IDS)
    assert s["title_abstract"]["pending"] == 1
    assert (s["full_text"]["include"], s["full_text"]["held"], s["full_text"]["not_screened"]) == (0, 1, 0)
    rows.append((A, "title_abstract", "bob", "maybe", "", "2024-03-02"))  # a conflict: still held
    s = screening_summary(resolve_decisions(load_decisions([tsv(tmp_path, "a.tsv", rows)], DUAL, IDS), DUAL), IDS)
    assert (s["title_abstract"]["pending"], s["full_text"]["include"], s["full_text"]["held"]) == (1, 0, 1)
    rows.append((A, "title_abstract", "consensus", "include", "", "2024-03-03"))
    s = screening_summary(resolve_decisions(load_decisions([tsv(tmp_path, "a.tsv", rows)], DUAL, IDS), DUAL), IDS)
    assert (s["title_abstract"]["include"], s["full_text"]["include"], s["full_text"]["held"]) == (1, 1, 0)


def test_held_full_text_becomes_an_error_when_title_abstract_excludes(tmp_path):
    err, name = errors(tmp_path, [(A, "title_abstract", "alice", "include", "", "2024-03-01"),
                                  (A, "title_abstract", "bob", "exclude", "", "2024-03-01"),
                                  (A, "full_text", "alice", "include", "", "2024-04-01"),
                                  (A, "title_abstract", "carol", "exclude", "", "2024-03-05")])
    assert f"{name}:4: full-text decision for record '{A}', which was excluded at title/abstract" in str(err)


# -- reports not retrieved --------------------------------------------------------------------


def test_not_retrieved_at_title_abstract_names_file_and_line(tmp_path):
    err, name = errors(tmp_path, [(A, "title_abstract", "alice", "include", "", "2024-03-01"),
                                  (B, "title_abstract", "alice", "not_retrieved", "", "2024-03-01")], settings=SINGLE)
    assert [(p.file, p.line) for p in err.problems] == [(name, 3)]
    assert (f"{name}:3: decision 'not_retrieved' is for stage full_text only, not title_abstract "
            "(a report is sought only for a record that passed title/abstract)") in str(err)


def test_not_retrieved_single_mode_counts_as_not_retrieved(tmp_path):
    """A note says what was tried; the reason is optional (none here, one from the list for C)."""
    p = tsv(tmp_path, "a.tsv", [
        (A, "title_abstract", "alice", "include", "", "2024-03-01", ""),
        (B, "title_abstract", "alice", "include", "", "2024-03-01", ""),
        (C, "title_abstract", "alice", "maybe", "", "2024-03-01", ""),
        (A, "full_text", "alice", "not_retrieved", "", "2024-04-01", "asked the authors twice"),
        (B, "full_text", "alice", "exclude", "wrong population", "2024-04-01", ""),
        (C, "full_text", "alice", "not_retrieved", "wrong study design", "2024-04-01", ""),
    ], header=HEADER.replace("date\n", "date\tnote\n"))
    res = resolve_decisions(load_decisions([p], SINGLE, IDS), SINGLE)
    ft = res[res["stage"] == "full_text"].set_index("record_id")
    assert ft.loc[A, ["decision", "basis"]].tolist() == ["not_retrieved", "single"]
    s = screening_summary(res, IDS)
    assert s["full_text"]["not_retrieved"] == 2
    assert s["full_text"]["exclude"] == 1 and s["full_text"]["reasons"] == {"wrong population": 1}
    assert (s["full_text"]["include"], s["full_text"]["pending"], s["full_text"]["not_screened"]) == (0, 0, 0)
    assert s["title_abstract"]["not_retrieved"] == 0


def test_not_retrieved_dual_agreement_conflict_and_resolution():
    ta = [(r, "title_abstract", who, "include", None, "2024-03-01") for r in (A, B, C) for who in ("alice", "bob")]
    ft = [(A, "full_text", "alice", "not_retrieved", None, "2024-04-01"),
          (A, "full_text", "bob", "not_retrieved", None, "2024-04-02"),
          (B, "full_text", "alice", "not_retrieved", None, "2024-04-01"),
          (B, "full_text", "bob", "include", None, "2024-04-01"),
          (C, "full_text", "alice", "not_retrieved", None, "2024-04-01")]
    rows = ta + ft
    res = resolve_decisions(_frame(rows), DUAL)
    by = res[res["stage"] == "full_text"].set_index("record_id")
    assert by.loc[A, ["decision", "basis"]].tolist() == ["not_retrieved", "agreement"]
    assert by.loc[B, ["decision", "basis"]].tolist() == ["pending", "conflict"]
    assert by.loc[C, ["decision", "basis"]].tolist() == ["pending", "awaiting second reviewer"]
    s = screening_summary(res, IDS)["full_text"]
    assert (s["not_retrieved"], s["pending"], s["include"]) == (1, 2, 0)
    c = conflicts(_frame(rows), DUAL)
    assert c[["record_id", "reviewer_decisions"]].values.tolist() == [[B, "alice=not_retrieved;bob=include"]]
    # the resolver settles B as not retrieved; later the report of A turns up: a consensus row decides
    rows += [(B, "full_text", "carol", "not_retrieved", None, "2024-04-05"),
             (A, "full_text", "consensus", "exclude", "wrong population", "2024-05-01")]
    assert not validate_decisions(_frame(rows), DUAL, IDS)
    res = resolve_decisions(_frame(rows), DUAL)
    by = res[res["stage"] == "full_text"].set_index("record_id")
    assert by.loc[B, ["decision", "basis"]].tolist() == ["not_retrieved", "resolved:carol"]
    assert by.loc[A, ["decision", "basis"]].tolist() == ["exclude", "resolved:consensus"]
    s = screening_summary(res, IDS)["full_text"]
    assert (s["not_retrieved"], s["exclude"], s["pending"], s["reasons"]) == (1, 1, 1, {"wrong population": 1})
    assert conflicts(_frame(rows), DUAL)["resolution"].tolist() == ["not_retrieved"]


def test_kappa_counts_not_retrieved_as_its_own_category():
    a_dec = ["include", "not_retrieved", "exclude", "not_retrieved", "include", "exclude"]
    b_dec = ["include", "not_retrieved", "not_retrieved", "exclude", "include", "exclude"]
    rows = []
    for rid, x, y in zip(IDS, a_dec, b_dec):
        rows.append((rid, "title_abstract", "alice", "include", None, "2024-03-01"))
        rows.append((rid, "full_text", "alice", x, "wrong population" if x == "exclude" else None, "2024-04-01"))
        rows.append((rid, "full_text", "bob", y, "wrong population" if y == "exclude" else None, "2024-04-01"))
    k = kappa_table(_frame(rows), DUAL).set_index("stage").loc["full_text"]
    assert k["n"] == 6 and k["agreement"] == pytest.approx(4 / 6)
    assert k["kappa"] == pytest.approx(cohen_kappa_score(a_dec, b_dec))
    # not_retrieved merged into exclude would give another (higher) value: it is a category of its own
    merged = [("exclude" if d == "not_retrieved" else d) for d in a_dec], [("exclude" if d == "not_retrieved" else d) for d in b_dec]
    assert k["kappa"] != pytest.approx(cohen_kappa_score(*merged))


_WHO = st.sampled_from(["alice", "bob", "carol", "consensus"])
# not_retrieved only at full text (at title/abstract it is a schema error, tested above)
_ROW = st.one_of(
    st.tuples(st.sampled_from(IDS[:3]), st.just("title_abstract"), _WHO, st.sampled_from(["include", "exclude", "maybe"])),
    st.tuples(st.sampled_from(IDS[:3]), st.just("full_text"), _WHO, st.sampled_from(_FT)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ROW, max_size=14, unique_by=lambda r: r[:3]), st.sampled_from([SINGLE, DUAL]))
def test_valid_decisions_always_add_up(rows, mode):
    """Whatever rows pass validation, the ledger's screening arithmetic holds: the ledger's
    sought - not retrieved = assessed = excluded + pending + included."""
    df = _frame([(r, s, who, d, REASONS[("alice", "bob", "carol", "consensus").index(who) % 2] if d == "exclude" else None, "2024-03-01")
                 for r, s, who, d in rows])
    if validate_decisions(df, mode, IDS):
        return
    s = screening_summary(resolve_decisions(df, mode), IDS)
    ta, ft = s["title_abstract"], s["full_text"]
    sought = ta["include"] + ta["maybe"]
    assert len(IDS) == ta["exclude"] + ta["pending"] + ta["not_screened"] + sought
    assert ta["not_retrieved"] == 0 and sum(ft["reasons"].values()) == ft["exclude"]  # not retrieved is no exclusion
    assessed = sought - ft["not_retrieved"]
    assert assessed == sum(ft["reasons"].values()) + ft["pending"] + ft["not_screened"] + ft["include"]
    assert set(ft["reasons"]) <= set(REASONS)  # never a reason outside the protocol's list
    assert ta["pending"] == sum(ta["pending_by"].values()) and ft["pending"] == sum(ft["pending_by"].values())


# -- ids: records, clusters, automation -------------------------------------------------------


def _ids():
    """Real ids: A and B one cluster (cluster id A, representative B); C excluded by automation;
    D alone, E a duplicate of C, F removed by a reviewer before screening."""
    E, F = IDS[4], IDS[5]
    clusters = [{"record_id": A, "cluster_id": A, "representative": False, "rule": "doi"},
                {"record_id": B, "cluster_id": A, "representative": True, "rule": ""},
                {"record_id": C, "cluster_id": C, "representative": "true", "rule": ""},
                {"record_id": E, "cluster_id": C, "representative": "false", "rule": "pmid"},
                {"record_id": D, "cluster_id": D, "representative": True, "rule": ""},
                {"record_id": F, "cluster_id": F, "representative": True, "rule": ""}]
    eligibility = [{"record_id": B, "eligible": True, "rule": "", "detail": ""},
                   {"record_id": C, "eligible": "false", "rule": "language", "detail": "ger not in eng"},
                   {"record_id": D, "eligible": True, "rule": "", "detail": ""},
                   {"record_id": F, "eligible": False, "rule": REMOVED, "detail": "retracted by the journal"}]
    return screening_ids(clusters, eligibility), E


def test_screening_ids():
    ids, E = _ids()
    assert ids["known_ids"] == sorted([B, D])
    assert ids["aliases"] == {A: B, B: B, D: D}
    assert ids["not_screened"] == {C: "excluded by automation: language: ger not in eng",
                                   E: f"in the cluster of {C!r}, excluded by automation: language: ger not in eng",
                                   IDS[5]: "removed before screening for other reasons: retracted by the journal"}


def test_cluster_and_member_ids_count_for_the_representative(tmp_path):
    ids, _ = _ids()
    p = tsv(tmp_path, "a.tsv", [(A, "title_abstract", "alice", "include", "", "2024-03-01"),
                                (B, "title_abstract", "bob", "include", "", "2024-03-01"),
                                (A, "full_text", "alice", "include", "", "2024-04-01")])
    df = load_decisions([p], DUAL, **ids)
    assert df["record_id"].tolist() == [B, B, B] and df["given_id"].tolist() == [A, B, A]
    res = resolve_decisions(df, DUAL).set_index("stage")
    assert res.loc["title_abstract", "record_id"] == B and res.loc["title_abstract", "basis"] == "agreement"
    # without the id map, the old behaviour: only screened ids
    err = pytest.raises(DecisionFileError, load_decisions, [p], DUAL, ids["known_ids"]).value
    assert f"{p}:2: unknown record id '{A}'" in str(err)


def test_two_ids_of_one_cluster_are_a_duplicate(tmp_path):
    ids, _ = _ids()
    p1 = tsv(tmp_path, "a.tsv", [(A, "title_abstract", "alice", "include", "", "2024-03-01")])
    p2 = tsv(tmp_path, "b.tsv", [(B, "title_abstract", "alice", "exclude", "", "2024-03-02")])
    with pytest.raises(DecisionFileError) as exc:
        load_decisions([p1, p2], DUAL, **ids)
    assert (f"{p2}:2: duplicate decision for record '{B}', stage title_abstract, reviewer 'alice' "
            f"(first at {p1}:2 (written '{A}'))") in str(exc.value)


def test_automation_excluded_and_unknown_ids(tmp_path):
    ids, E = _ids()
    p = tsv(tmp_path, "a.tsv", [(C, "title_abstract", "alice", "include", "", "2024-03-01"),
                                (E, "title_abstract", "alice", "include", "", "2024-03-01"),
                                ("pubmed:1", "title_abstract", "alice", "include", "", "2024-03-01"),
                                (IDS[5], "title_abstract", "alice", "include", "", "2024-03-01")])
    err = pytest.raises(DecisionFileError, load_decisions, [p], DUAL, **ids).value
    msg = str(err)
    assert (f"{p}:2: record id '{C}': excluded by automation: language: ger not in eng; "
            "it is not screened") in msg
    assert (f"{p}:3: record id '{E}': in the cluster of '{C}', excluded by automation: language: "
            "ger not in eng; it is not screened") in msg
    assert f"{p}:4: unknown record id 'pubmed:1'" in msg
    assert (f"{p}:5: record id '{IDS[5]}': removed before screening for other reasons: retracted by the journal; "
            "it is not screened") in msg


# -- reading files ----------------------------------------------------------------------------


def test_utf8_bom_is_accepted(tmp_path):
    p = tmp_path / "bom.tsv"
    p.write_bytes(b"\xef\xbb\xbf" + (HEADER + f"{A}\ttitle_abstract\talice\tinclude\t\t2024-03-01\n").encode())
    assert load_decisions([p], SINGLE, IDS)["record_id"].tolist() == [A]


def test_latin1_file_names_line_and_byte(tmp_path):
    p = tmp_path / "latin1.tsv"
    p.write_bytes((HEADER.replace("date\n", "date\tnote\n")
                   + f"{A}\ttitle_abstract\talice\tinclude\t\t2024-03-01\t\n"
                   + f"{B}\ttitle_abstract\talice\tinclude\t\t2024-03-01\tRevisé\n").encode("latin-1"))
    with pytest.raises(DecisionFileError) as exc:
        load_decisions([p], SINGLE, IDS)
    col = len(f"{B}\ttitle_abstract\talice\tinclude\t\t2024-03-01\tRevis") + 1
    assert (f"{p}:3: not UTF-8 text: byte 0xe9 at byte {col} of the line") in str(exc.value)
    assert "save the file as UTF-8" in str(exc.value)


def test_utf16_file_is_named(tmp_path):
    p = tmp_path / "u16.tsv"
    p.write_bytes((HEADER + f"{A}\ttitle_abstract\talice\tinclude\t\t2024-03-01\n").encode("utf-16"))
    with pytest.raises(DecisionFileError, match=r"u16.tsv:1: the file is UTF-16 .*save it as UTF-8"):
        load_decisions([p], SINGLE, IDS)


def test_every_file_problem_is_reported(tmp_path):
    bad = tsv(tmp_path, "a.tsv", [(A, "abstract", "alice", "include", "", "2024-03-01")])
    empty = tmp_path / "b.tsv"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    latin = tmp_path / "c.tsv"
    latin.write_bytes("record_id\tstage\treviewer\tdécision\n".encode("latin-1"))
    with pytest.raises(DecisionFileError) as exc:
        load_decisions([bad, empty, latin], SINGLE, IDS)
    assert [(p.file, p.line) for p in exc.value.problems] == [(str(bad), 2), (str(empty), 1), (str(latin), 1)]
    assert f"{empty}:1: empty decision file (no header row)" in str(exc.value)


def test_readme_examples_load_against_the_example(tmp_path):
    """Every decisions example in config/screening/README.md names records of the shipped example
    (its reports/to_screen.csv) and loads as is under the example protocol's settings, each block
    as a file of its own, with the outcome the README describes."""
    import csv

    import yaml

    root = HERE.parents[1]
    readme = (root / "config" / "screening" / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```\n(record_id\tstage\t.*?)```", readme, re.S)
    assert len(blocks) == 2
    settings = ScreeningSettings.from_protocol(
        load_protocol(root / "config" / "config.yaml").config["screening"])
    with open(root / "reports" / "to_screen.csv", newline="", encoding="utf-8") as f:
        known = [r["record_id"] for r in csv.DictReader(f)]
    outcomes = []
    for i, block in enumerate(blocks):
        p = tmp_path / f"example{i}.tsv"
        p.write_text(block, encoding="utf-8")
        df = load_decisions([p], settings, known)
        res = resolve_decisions(df, settings)
        outcomes.append(res.loc[res["stage"] == "full_text", ["decision", "reason", "basis"]].values.tolist())
        if i == 1:
            assert conflicts(df, settings)["reviewer_decisions"].tolist() == [
                "ana=exclude (wrong population);ben=exclude (wrong study design)"]
    assert outcomes == [[["not_retrieved", None, "agreement"]],
                        [["exclude", "wrong study design", "resolved:consensus"]]]
