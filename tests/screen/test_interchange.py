"""Export of what is left to screen and import of ASReview LAB / Rayyan decisions.

The ASReview files in tests/data/screening are genuine ASReview LAB 3.0.8 exports made from
reprisma's own RIS export (see PROVENANCE.md and make_asreview_export.py there).
"""

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
import rispy

from reprisma.screen.decisions import ScreeningSettings, load_decisions, resolve_decisions, screening_summary, write_decisions_tsv
from reprisma.screen.interchange import (
    EXPORT_COLUMNS,
    ExportFileError,
    export_for_screening,
    import_asreview,
    import_rayyan,
    parse_rayyan_notes,
)
from reprisma.screen.ranking import rank_records

D = Path(__file__).resolve().parent.parent / "data" / "screening"
SETTINGS = ScreeningSettings(mode="single", reasons=("wrong population", "wrong study design"))


def subset_records(n=12):
    df = pd.read_csv(D / "cohen2006_antihistamines_subset.csv", dtype=str, keep_default_na=False)
    out = []
    for r in df.head(n).to_dict("records"):
        out.append({
            "record_id": f"pubmed:{r['pubmedID']}", "pmid": r["pubmedID"], "title": r["title"],
            "abstract": r["abstract"] or None,
            "authors": [a.strip() for a in r["authors"].split(";") if a.strip()],
            "year": int(float(r["year"])) if r["year"] else None,
            "label_included": int(r["label_included"]),
        })
    return out


def test_export_matches_committed_export_and_rank_order(tmp_path):
    recs = subset_records()
    # the order the ASReview test files were made with (the ranker of 2026-11-23: before the
    # stemmed-word default, so today's rank_records may order these 12 records differently)
    with open(D / "reprisma_export.csv", newline="", encoding="utf-8") as fh:
        ranking = pd.DataFrame([{"rank": int(r["rank"]), "record_id": r["record_id"]} for r in csv.DictReader(fh)])
    rows = export_for_screening(recs, ranking, csv_path=tmp_path / "e.csv", ris_path=tmp_path / "e.ris")
    # the same as the export the ASReview test files were made from (RIS byte for byte; the CSV
    # has gained the screening_status column since, empty while nobody has decided)
    assert (tmp_path / "e.ris").read_bytes() == (D / "reprisma_export.ris").read_bytes()
    with open(tmp_path / "e.csv", newline="", encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    with open(D / "reprisma_export.csv", newline="", encoding="utf-8") as fh:
        then = list(csv.DictReader(fh))
    assert list(got[0]) == EXPORT_COLUMNS and EXPORT_COLUMNS[-1] == "screening_status"
    assert [{k: v for k, v in r.items() if k != "screening_status"} for r in got] == then
    assert {r["screening_status"] for r in got} == {""}
    assert [int(r["rank"]) for r in got] == list(range(1, 13))
    assert [r["record_id"] for r in got] == ranking["record_id"].tolist()
    # and with today's ranker, the export follows rank_records' order
    today = rank_records(recs, {}, keywords=["antihistamine"], seed=0)
    rows_today = export_for_screening(recs, today, csv_path=tmp_path / "t.csv")
    assert [r["record_id"] for r in rows_today] == today["record_id"].tolist()
    assert [r["rank"] for r in rows_today] == list(range(1, 13))
    # Rayyan's documented CSV columns are all present
    for col in ["key", "title", "authors", "journal", "issn", "volume", "issue", "pages", "year",
                "publisher", "url", "abstract", "notes"]:
        assert col in got[0]
    entries = rispy.loads((tmp_path / "e.ris").read_text(encoding="utf-8"))
    assert [e["id"] for e in entries] == [r["record_id"] for r in rows]
    assert entries[0]["notes"] == [f"reprisma_record_id: {rows[0]['record_id']}", "reprisma_rank: 1"]
    assert entries[0]["accession_number"] == rows[0]["pmid"]


def test_export_says_why_a_decided_record_still_waits(tmp_path):
    recs = subset_records(3)
    ranking = rank_records(recs, {}, keywords=["antihistamine"], seed=0)
    ranking["screening_status"] = ["decided by ana; awaiting a second reviewer", "conflict: ana=include;ben=exclude", ""]
    rows = export_for_screening(recs, ranking, csv_path=tmp_path / "e.csv", ris_path=tmp_path / "e.ris")
    with open(tmp_path / "e.csv", newline="", encoding="utf-8") as fh:
        got = [r["screening_status"] for r in csv.DictReader(fh)]
    assert got == ranking["screening_status"].tolist()
    entries = rispy.loads((tmp_path / "e.ris").read_text(encoding="utf-8"))
    assert entries[0]["notes"][-1] == "reprisma_status: decided by ana; awaiting a second reviewer"
    assert not any(n.startswith("reprisma_status") for n in entries[2]["notes"])
    # the status note does not disturb the import of ASReview's export of this file
    assert [r["record_id"] for r in rows] == ranking["record_id"].tolist()


@pytest.mark.parametrize("fmt", ["csv", "ris"])
def test_import_genuine_asreview_export(fmt):
    recs = subset_records()
    truth = {r["record_id"]: r["label_included"] for r in recs}
    rows = import_asreview(D / f"asreview_export.{fmt}", reviewer="alice", records=recs)
    assert len(rows) == 8  # the 8 records labelled in ASReview
    assert set(rows["record_id"]) <= set(truth)
    for r in rows.itertuples():
        assert r.decision == ("include" if truth[r.record_id] else "exclude")
        assert r.reviewer == "alice" and r.stage == "title_abstract"
        assert len(r.date) == 10 and r.date[4] == "-"


def test_round_trip_ris_to_asreview_to_counts(tmp_path):
    """export RIS -> decisions made in ASReview (its export format) -> import -> counts."""
    recs = subset_records()
    ids = [r["record_id"] for r in recs]
    rows = import_asreview(D / "asreview_export.ris", reviewer="alice", records=recs)
    tsv = tmp_path / "config" / "screening" / "title_abstract.tsv"
    write_decisions_tsv(tsv, rows)
    df = load_decisions([tsv], SETTINGS, ids)
    summary = screening_summary(resolve_decisions(df, SETTINGS), ids)
    truth = {r["record_id"]: r["label_included"] for r in recs}
    n_inc = sum(truth[i] for i in rows["record_id"])
    assert summary["title_abstract"]["include"] == n_inc
    assert summary["title_abstract"]["exclude"] == 8 - n_inc
    assert summary["title_abstract"]["not_screened"] == 12 - 8
    assert summary["title_abstract"]["pending"] == 0


def test_import_asreview_errors(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("title,asreview_label\nSome title,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"x.csv:2: asreview_label must be 1, 0 or empty"):
        import_asreview(p, reviewer="alice", date="2024-01-01")
    p.write_text("title,record_id,asreview_label\nSome title,pubmed:1,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"x.csv:2: cannot match"):
        import_asreview(p, reviewer="alice", date="2024-01-01", records=subset_records())
    p.write_text("title\nSome title\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"x.csv: line 1: no asreview_label"):
        import_asreview(p, reviewer="alice")


RAYYAN = D / "rayyan_export.csv"  # Rayyan's export layout, see PROVENANCE.md


def test_import_rayyan():
    recs = subset_records()
    ids = {r["record_id"] for r in recs}
    with open(RAYYAN, newline="", encoding="utf-8") as fh:
        keys = [r["key"] for r in csv.DictReader(fh)]
    rows = import_rayyan(RAYYAN, date="2024-05-01", records=recs, reviewers={"Alice Smith": "alice", "Bob": "bob"})
    got = [(r.record_id, r.reviewer, r.decision, r.reason, r.line) for r in rows.itertuples()]
    k = keys  # Rayyan keeps the key of the uploaded reprisma CSV: the record id
    assert got == [
        (k[0], "alice", "include", None, 2), (k[0], "bob", "include", None, 2),
        (k[1], "alice", "exclude", "wrong population", 3), (k[1], "bob", "include", None, 3),
        (k[2], "alice", "exclude", "wrong study design", 4), (k[2], "bob", "exclude", "wrong study design", 4),
        (k[3], "alice", "maybe", None, 5),
        # Rayyan's own key (417): matched by the PubMed URL of the row
        ("pubmed:10349070", "bob", "exclude", "wrong population", 6),
    ]
    assert keys[4] == "417" and "pubmed:10349070" in ids
    assert "wrong population" in rows.iloc[4]["note"]  # both reasons kept in the note


def test_import_rayyan_into_decisions_conflict(tmp_path):
    """The Alice/Bob disagreement of the export becomes a conflict in dual screening."""
    recs = subset_records()
    ids = [r["record_id"] for r in recs]
    rows = import_rayyan(RAYYAN, date="2024-05-01", records=recs, reviewers={"Alice Smith": "alice", "Bob": "bob"})
    tsv = tmp_path / "ta.tsv"
    write_decisions_tsv(tsv, rows)
    dual = ScreeningSettings(mode="dual", reasons=SETTINGS.reasons)
    df = load_decisions([tsv], dual, ids)
    res = resolve_decisions(df, dual).set_index("record_id")
    assert res.loc[rows.iloc[2]["record_id"], "decision"] == "pending"
    assert res.loc[rows.iloc[2]["record_id"], "basis"] == "conflict"


def test_parse_rayyan_notes_variants():
    n = parse_rayyan_notes(' RAYYAN-INCLUSION: {"Caspar"=>"Included"}')
    assert n == {"decisions": {"Caspar": "Included"}, "reasons": []}
    n = parse_rayyan_notes('RAYYAN-INCLUSION: {"Kofi"=>"Excluded"} | RAYYAN-LABELS: ML, Hospital | '
                           'RAYYAN-EXCLUSION-REASONS: wrong population,foreign language | USER-NOTES: {"Kofi"=>["x"]}')
    assert n["decisions"] == {"Kofi": "Excluded"}
    assert n["reasons"] == ["wrong population", "foreign language"]


def test_import_rayyan_reports_every_unmatched_row_with_its_line():
    with pytest.raises(ExportFileError) as exc:
        import_rayyan(RAYYAN, date="2024-05-01", records=subset_records(13)[12:])
    assert [p.line for p in exc.value.problems] == [2, 3, 4, 5, 6]
    assert "rayyan_export.csv:2: cannot match to a reprisma record" in str(exc.value)


REPO = D.parents[2]


@pytest.fixture(autouse=True)
def _in_empty_project(tmp_path, monkeypatch):
    """The import commands read the protocol's decisions folder and results relative to the
    working directory: run them in an empty one, not in this checkout."""
    monkeypatch.chdir(tmp_path)


CLI_BASE = ["--protocol", str(REPO / "config" / "config.yaml"), "--records", str(D / "reprisma_export.csv")]


def test_import_cli(tmp_path, capsys):
    from reprisma.screen.__main__ import main

    out = tmp_path / "config" / "screening" / "ta_alice.tsv"
    assert main(["import-asreview", str(D / "asreview_export.csv"), "--reviewer", "alice", "--out", str(out),
                 *CLI_BASE]) == 0
    assert "wrote 8 decision rows" in capsys.readouterr().err
    df = load_decisions([out], SETTINGS, [r["record_id"] for r in subset_records()])
    assert len(df) == 8
    rayyan_out = tmp_path / "config" / "screening" / "r.tsv"
    assert main(["import-rayyan", str(RAYYAN), "--out", str(rayyan_out), *CLI_BASE]) == 2
    assert "--date is required" in capsys.readouterr().err
    # Rayyan's reviewers are others than alice's ASReview screening above: bob, and Alice Smith as "asmith"
    assert main(["import-rayyan", str(RAYYAN), "--date", "2024-05-01", "--reviewer-map", "Alice Smith=asmith",
                 "--reviewer-map", "Bob=bob", "--out", str(rayyan_out), *CLI_BASE]) == 0
    got = load_decisions([rayyan_out], ScreeningSettings(mode="dual", reasons=SETTINGS.reasons),
                         [r["record_id"] for r in subset_records()])
    assert sorted(set(got["reviewer"])) == ["asmith", "bob"] and len(got) == 8


def _asreview_csv(tmp_path, rows, name="export.csv"):
    p = tmp_path / name
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["record_id", "title", "asreview_label", "asreview_time"])
        w.writerows(rows)
    return p


@pytest.mark.parametrize("case, args, expected", [
    ("unknown id", ["--reviewer", "ana"], r"export.csv:3: cannot match to a reprisma record"),
    ("reviewer name", ["--reviewer", "Ana Lima"], r"export.csv:2: column 'reviewer': 'Ana Lima' has the wrong form"),
    ("full text without reason", ["--reviewer", "ana", "--stage", "full_text"],
     r"export.csv:2: full-text exclusion without a reason(.|\n)*pass --exclusion-reason"),
    ("reason not in protocol", ["--reviewer", "ana", "--exclusion-reason", "boring"],
     r"export.csv:2: reason 'boring' is not in the protocol's list"),
])
def test_import_cli_rejects_bad_rows_and_writes_nothing(tmp_path, capsys, case, args, expected):
    from reprisma.screen.__main__ import main

    good = subset_records(2)
    rows = [[good[0]["record_id"], good[0]["title"], "0", "2024-02-01 10:00:00"]]
    if case == "unknown id":
        rows.append(["pubmed:99999999", "not a record of this review", "1", "2024-02-01 10:00:00"])
    p = _asreview_csv(tmp_path, rows)
    out = tmp_path / "config" / "screening" / "ta.tsv"
    assert main(["import-asreview", str(p), "--out", str(out), *args, *CLI_BASE]) == 2
    err = capsys.readouterr().err
    assert re.search(expected, err), err
    assert "nothing written" in err
    assert not out.exists()
    assert not out.parent.exists() or not list(out.parent.iterdir())  # no temporary file either


@pytest.mark.parametrize("name, content, expected", [
    ("empty.csv", b"", r"empty.csv: empty file"),
    ("latin1.csv", "record_id,title,asreview_label\npubmed:10215756,Caf\xe9,1\n".encode("latin-1"),
     r"latin1.csv:2: not UTF-8 text: byte 0xe9 at byte 20 of the line \(byte offset 50 in the file\)"),
    ("unclosed.csv", b'record_id,title,asreview_label\npubmed:10215756,"Risk of,1\npubmed:10090440,x,0\n',
     r"unclosed.csv: line 2: malformed CSV"),
    ("fields.csv", b"record_id,title,asreview_label\npubmed:10215756,a,b,1\n",
     r"fields.csv:2: expected 3 fields \(as in the header\), found 4"),
    ("truncated.ris", b"TY  - JOUR\nTI  - Risk\nN1  - ASReview_relevant\n", r"truncated.ris:1: record has no 'ER  -' end tag"),
    ("garbage.ris", b"this is not RIS\n", r"garbage.ris: no RIS record"),
    ("nolabel.csv", b"record_id,title\npubmed:10215756,a\n", r"nolabel.csv: line 1: no asreview_label"),
    ("unlabelled.csv", b"record_id,title,asreview_label\npubmed:10215756,a,\n", r"unlabelled.csv: no decision in the export"),
    ("export.xlsx", b"PK\x03\x04\x14\x00\x06\x00", r"export.xlsx: this is a ZIP file such as an Excel workbook"),
])
def test_import_cli_unreadable_exports(tmp_path, capsys, name, content, expected):
    from reprisma.screen.__main__ import main

    p = tmp_path / name
    p.write_bytes(content)
    out = tmp_path / "config" / "screening" / "ta.tsv"
    assert main(["import-asreview", str(p), "--reviewer", "ana", "--date", "2024-01-01", "--out", str(out),
                 *CLI_BASE]) == 2
    err = capsys.readouterr().err
    assert re.search(expected, err), err
    assert not out.exists()


def test_import_cli_missing_export_and_missing_records(tmp_path, capsys):
    from reprisma.screen.__main__ import main

    out = tmp_path / "config" / "screening" / "ta.tsv"
    assert main(["import-asreview", str(tmp_path / "nope.csv"), "--reviewer", "ana", "--out", str(out),
                 *CLI_BASE]) == 2
    assert "nope.csv: no such file" in capsys.readouterr().err
    assert main(["import-asreview", str(D / "asreview_export.csv"), "--reviewer", "ana", "--out", str(out),
                 "--protocol", str(REPO / "config" / "config.yaml"), "--records", str(tmp_path / "records.jsonl")]) == 2
    assert "records.jsonl: no records to match the export against; run `make run` first" in capsys.readouterr().err
    assert not out.exists()


def test_import_line_numbers_are_physical_lines(tmp_path):
    """A quoted multi-line field (Rayyan joins several abstracts with newlines) shifts the lines."""
    recs = subset_records(2)
    p = _asreview_csv(tmp_path, [[recs[0]["record_id"], "first\nsecond\nthird line of a title", "1", ""],
                                 ["pubmed:99999999", "x", "0", ""]])
    with pytest.raises(ExportFileError) as exc:
        import_asreview(p, reviewer="ana", date="2024-01-01", records=recs)
    assert [(pr.line, pr.message.split(" (")[0]) for pr in exc.value.problems] == [(5, "cannot match to a reprisma record")]


def test_not_utf8_after_a_bom_is_located_in_the_file_as_it_is(tmp_path):
    """Excel's "CSV UTF-8" starts with a BOM; a cp1252 byte on line 3 is reported on line 3, with
    its offset counted in the file as it is (BOM included)."""
    p = tmp_path / "bom.csv"
    body = "record_id,title,asreview_label\npubmed:10215756,a,1\n".encode("utf-8") + b"\xe9,b,0\n"
    p.write_bytes(b"\xef\xbb\xbf" + body)
    with pytest.raises(ValueError, match=rf"bom.csv:3: not UTF-8 text: byte 0xe9 at byte 1 of the line "
                                         rf"\(byte offset {3 + len(body) - 6} in the file\)"):
        import_asreview(p, reviewer="ana", date="2024-01-01", records=subset_records(2))


def test_ris_line_numbers_count_lf_only_and_cr_files_are_read(tmp_path):
    recs = subset_records(2)
    rid = recs[0]["record_id"]
    one = f"TY  - JOUR\nTI  - a\u2028b\nN1  - reprisma_record_id: {rid}\nN1  - ASReview_relevant\nER  - \n"
    two = "TY  - JOUR\nTI  - unknown\nN1  - reprisma_record_id: pubmed:99999999\nN1  - ASReview_relevant\nER  - \n"
    p = tmp_path / "x.ris"
    p.write_text(one + "\n" + two, encoding="utf-8")
    with pytest.raises(ExportFileError) as exc:
        import_asreview(p, reviewer="ana", date="2024-01-01", records=recs)
    assert [pr.line for pr in exc.value.problems] == [7]  # U+2028 inside the title does not shift it
    p.write_bytes(one.replace("\n", "\r").encode("utf-8"))  # old Mac line ends
    rows = import_asreview(p, reviewer="ana", date="2024-01-01", records=recs)
    assert rows["record_id"].tolist() == [rid]


def test_import_reads_bom_and_utf16_exports(tmp_path):
    recs = subset_records(2)
    p = _asreview_csv(tmp_path, [[recs[0]["record_id"], "t", "1", "2024-02-01 10:00:00"]])
    text = p.read_text(encoding="utf-8")
    for enc, data in (("utf-8-sig", text.encode("utf-8-sig")), ("utf-16", text.encode("utf-16"))):
        p.write_bytes(data)
        rows = import_asreview(p, reviewer="ana", records=recs)
        assert rows[["record_id", "decision", "date"]].values.tolist() == [[recs[0]["record_id"], "include", "2024-02-01"]], enc


def test_write_new_never_replaces_a_file_that_appeared_meanwhile(tmp_path):
    from reprisma.screen.__main__ import _write_new

    rows = import_asreview(D / "asreview_export.csv", reviewer="alice", records=subset_records())
    out = tmp_path / "ta.tsv"
    out.write_text("record_id\tstage\treviewer\tdecision\treason\tdate\n")  # made by someone else meanwhile
    before = out.read_bytes()
    with pytest.raises(FileExistsError):
        _write_new(out, rows)
    assert out.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["ta.tsv"]  # no temporary file left


def _grown_export(tmp_path, change_label_of=None):
    """The genuine ASReview export plus, as ASReview does when screening goes on, one more labelled
    record (one of the four it had not labelled); optionally one earlier label flipped."""
    with open(D / "asreview_export.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    labelled = {r["id"] for r in rows}
    extra = next(r for r in subset_records() if r["record_id"] not in labelled)
    pmid = extra["pmid"]
    new = dict(rows[0], id=extra["record_id"], title=extra["title"], abstract=extra["abstract"] or "",
               authors=";".join(extra["authors"]), urls=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
               accession_number=pmid, notes=f"reprisma_record_id: {extra['record_id']};reprisma_rank: 12",
               asreview_label="0")
    new[""] = str(len(rows) + 3)
    rows.append(new)
    if change_label_of is not None:
        rows[change_label_of]["asreview_label"] = "1" if rows[change_label_of]["asreview_label"] == "0" else "0"
    p = tmp_path / "asreview_week2.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return p, extra["record_id"]


def test_reimporting_a_grown_export_adds_only_the_new_decisions(tmp_path, capsys):
    from reprisma.screen.__main__ import main

    base = ["--reviewer", "alice", *CLI_BASE]
    assert main(["import-asreview", str(D / "asreview_export.csv"), *base, "--out", "config/screening/ta_alice.tsv"]) == 0
    capsys.readouterr()
    # the same export again: nothing new, nothing written
    assert main(["import-asreview", str(D / "asreview_export.csv"), *base, "--out", "config/screening/ta_alice2.tsv"]) == 0
    assert "all 8 decisions are already recorded; nothing written" in capsys.readouterr().err
    assert not (tmp_path / "config" / "screening" / "ta_alice2.tsv").exists()
    # a grown export: only the new label is written
    grown, new_id = _grown_export(tmp_path)
    assert main(["import-asreview", str(grown), *base, "--out", "config/screening/ta_alice2.tsv"]) == 0
    assert "wrote 1 decision rows (1 exclude) to config/screening/ta_alice2.tsv; 8 already recorded, skipped" in \
        capsys.readouterr().err
    both = load_decisions(sorted((tmp_path / "config" / "screening").glob("*.tsv")), SETTINGS,
                          [r["record_id"] for r in subset_records()])
    assert len(both) == 9 and new_id in set(both["record_id"])


def test_reimport_with_a_changed_decision_points_at_the_recorded_row(tmp_path, capsys):
    from reprisma.screen.__main__ import main

    base = ["--reviewer", "alice", *CLI_BASE]
    assert main(["import-asreview", str(D / "asreview_export.csv"), *base, "--out", "config/screening/ta_alice.tsv"]) == 0
    capsys.readouterr()
    grown, _ = _grown_export(tmp_path, change_label_of=0)
    assert main(["import-asreview", str(grown), *base, "--out", "config/screening/ta_alice2.tsv"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"asreview_week2.csv:2: alice's title_abstract decision on 'pubmed:\d+' is recorded as \w+ at "
                     r"config/screening/ta_alice.tsv:\d+, the export says \w+; if the reviewer changed their mind, "
                     r"edit the recorded row", err), err
    assert "nothing written" in err and not (tmp_path / "config" / "screening" / "ta_alice2.tsv").exists()


def test_out_must_be_a_decisions_file_the_workflow_reads(tmp_path, capsys):
    from reprisma.screen.__main__ import main

    for out in ("config/screening/ta.csv", "ta.tsv", "config/screening/.ta.tsv"):
        assert main(["import-asreview", str(D / "asreview_export.csv"), "--reviewer", "alice", *CLI_BASE,
                     "--out", out]) == 2
        assert "decisions are read only from config/screening/*.tsv" in capsys.readouterr().err
        assert not (tmp_path / out).exists()


def test_missing_protocol_is_a_one_line_error(tmp_path, capsys):
    from reprisma.screen.__main__ import main

    assert main(["import-asreview", str(D / "asreview_export.csv"), "--reviewer", "alice",
                 "--out", "config/screening/ta.tsv"]) == 2  # no config/config.yaml in this folder
    assert "config/config.yaml: cannot read the protocol (No such file or directory); run from the project " \
           "folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: one line, exit 2
        main(["import-rayyan", str(RAYYAN), "--date", "2026-W48-1", "--out", "config/screening/r.tsv", *CLI_BASE])
    assert "'2026-W48-1' is not an ISO date (YYYY-MM-DD)" in capsys.readouterr().err


def test_every_problem_of_an_import_is_reported_at_once(tmp_path, capsys):
    """An unmatched row and a reviewer name of the wrong form, in one report."""
    from reprisma.screen.__main__ import main

    with open(RAYYAN, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["key"], rows[0]["url"] = "999", ""  # matches no record any more
    p = tmp_path / "rayyan.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    assert main(["import-rayyan", str(p), "--date", "2024-05-01", "--reviewer-map", "Alice Smith=José Pérez",
                 *CLI_BASE, "--out", "config/screening/r.tsv"]) == 2
    err = capsys.readouterr().err
    assert "rayyan.csv:2: cannot match to a reprisma record" in err
    assert re.search(r"rayyan.csv:3: column 'reviewer': 'José Pérez' has the wrong form", err), err


def test_full_text_import_is_checked_against_recorded_title_abstract_decisions(tmp_path, capsys):
    from reprisma.screen.__main__ import main

    ft = ["import-asreview", str(D / "asreview_export.csv"), "--reviewer", "alice", "--stage", "full_text",
          "--exclusion-reason", "wrong population", *CLI_BASE]
    assert main([*ft, "--out", "config/screening/ft_alice.tsv"]) == 2
    assert "which has no title/abstract decision" in capsys.readouterr().err
    assert main(["import-asreview", str(D / "asreview_export.csv"), "--reviewer", "alice", *CLI_BASE,
                 "--out", "config/screening/ta_alice.tsv"]) == 0
    # title/abstract now recorded (pending the second reviewer in dual mode): full text is held, not refused
    assert main([*ft, "--out", "config/screening/ft_alice.tsv"]) == 0


def test_import_cli_never_overwrites_recorded_decisions(tmp_path, capsys):
    from reprisma.screen.__main__ import main

    out = tmp_path / "config" / "screening" / "ta_alice.tsv"
    out.parent.mkdir(parents=True)
    out.write_text("record_id\tstage\treviewer\tdecision\treason\tdate\n")
    before = out.read_bytes()
    assert main(["import-asreview", str(D / "asreview_export.csv"), "--reviewer", "alice", "--out", str(out),
                 *CLI_BASE]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert out.read_bytes() == before
