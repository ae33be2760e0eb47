"""Export of what is left to screen and import of ASReview LAB / Rayyan decisions.

The ASReview files in tests/data/screening are genuine ASReview LAB 3.0.8 exports made from
reprisma's own RIS export (see PROVENANCE.md and make_asreview_export.py there).
"""

import csv
from pathlib import Path

import pandas as pd
import pytest
import rispy

from reprisma.screen.decisions import ScreeningSettings, load_decisions, resolve_decisions, screening_summary, write_decisions_tsv
from reprisma.screen.interchange import (
    EXPORT_COLUMNS,
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
    ranking = rank_records(recs, {}, keywords=["antihistamine"], seed=0)
    rows = export_for_screening(recs, ranking, csv_path=tmp_path / "e.csv", ris_path=tmp_path / "e.ris")
    # byte-identical to the export the ASReview test files were made from
    assert (tmp_path / "e.ris").read_bytes() == (D / "reprisma_export.ris").read_bytes()
    assert (tmp_path / "e.csv").read_bytes() == (D / "reprisma_export.csv").read_bytes()
    with open(tmp_path / "e.csv", newline="", encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    assert list(got[0]) == EXPORT_COLUMNS
    assert [int(r["rank"]) for r in got] == list(range(1, 13))
    assert [r["record_id"] for r in got] == ranking["record_id"].tolist()
    # Rayyan's documented CSV columns are all present
    for col in ["key", "title", "authors", "journal", "issn", "volume", "issue", "pages", "year",
                "publisher", "url", "abstract", "notes"]:
        assert col in got[0]
    entries = rispy.loads((tmp_path / "e.ris").read_text(encoding="utf-8"))
    assert [e["id"] for e in entries] == [r["record_id"] for r in rows]
    assert entries[0]["notes"] == [f"reprisma_record_id: {rows[0]['record_id']}", "reprisma_rank: 1"]
    assert entries[0]["accession_number"] == rows[0]["pmid"]


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
    with pytest.raises(ValueError, match=r"x.csv: line 2: asreview_label must be 1, 0 or empty"):
        import_asreview(p, reviewer="alice", date="2024-01-01")
    p.write_text("title,record_id,asreview_label\nSome title,pubmed:1,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"x.csv: line 2: cannot match"):
        import_asreview(p, reviewer="alice", date="2024-01-01", records=subset_records())
    p.write_text("title\nSome title\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"x.csv: line 1: no asreview_label"):
        import_asreview(p, reviewer="alice")


def _rayyan_export(tmp_path, recs):
    """A file in Rayyan's CSV export layout (key, title, authors, ..., pubmed_id, notes) for
    real records; the notes use Rayyan's RAYYAN-INCLUSION / RAYYAN-EXCLUSION-REASONS syntax."""
    notes = [
        'RAYYAN-INCLUSION: {"Alice Smith"=>"Included", "Bob"=>"Included"}',
        'RAYYAN-INCLUSION: {"Alice Smith"=>"Excluded", "Bob"=>"Included"} | RAYYAN-EXCLUSION-REASONS: wrong population',
        'RAYYAN-INCLUSION: {"Alice Smith"=>"Excluded", "Bob"=>"Excluded"} | RAYYAN-LABELS: drug | '
        'RAYYAN-EXCLUSION-REASONS: wrong study design,wrong population',
        'RAYYAN-INCLUSION: {"Alice Smith"=>"Maybe"}',
        "",
    ]
    p = tmp_path / "articles.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "title", "authors", "journal", "issn", "volume", "issue", "pages", "year",
                    "publisher", "url", "abstract", "notes", "pubmed_id"])
        for i, (r, n) in enumerate(zip(recs, notes)):
            w.writerow([str(900 + i), r["title"], " and ".join(r["authors"]), "", "", "", "", "",
                        r["year"], "", "", r["abstract"] or "", n, r["pmid"]])
    return p


def test_import_rayyan(tmp_path):
    recs = subset_records(5)
    p = _rayyan_export(tmp_path, recs)
    rows = import_rayyan(p, date="2024-05-01", records=recs, reviewers={"Alice Smith": "alice", "Bob": "bob"})
    got = [(r.record_id, r.reviewer, r.decision, r.reason) for r in rows.itertuples()]
    ids = [r["record_id"] for r in recs]
    assert got == [
        (ids[0], "alice", "include", None), (ids[0], "bob", "include", None),
        (ids[1], "alice", "exclude", "wrong population"), (ids[1], "bob", "include", None),
        (ids[2], "alice", "exclude", "wrong study design"), (ids[2], "bob", "exclude", "wrong study design"),
        (ids[3], "alice", "maybe", None),
    ]
    assert "wrong population" in rows.iloc[4]["note"]
    # into a decisions file, validated; the Alice/Bob disagreement is a conflict
    tsv = tmp_path / "ta.tsv"
    write_decisions_tsv(tsv, rows)
    dual = ScreeningSettings(mode="dual", reasons=SETTINGS.reasons)
    df = load_decisions([tsv], dual, ids)
    res = resolve_decisions(df, dual).set_index("record_id")
    assert res.loc[ids[1], "decision"] == "pending" and res.loc[ids[1], "basis"] == "conflict"


def test_parse_rayyan_notes_variants():
    n = parse_rayyan_notes(' RAYYAN-INCLUSION: {"Caspar"=>"Included"}')
    assert n == {"decisions": {"Caspar": "Included"}, "reasons": []}
    n = parse_rayyan_notes('RAYYAN-INCLUSION: {"Kofi"=>"Excluded"} | RAYYAN-LABELS: ML, Hospital | '
                           'RAYYAN-EXCLUSION-REASONS: wrong population,foreign language | USER-NOTES: {"Kofi"=>["x"]}')
    assert n["decisions"] == {"Kofi": "Excluded"}
    assert n["reasons"] == ["wrong population", "foreign language"]


def test_import_rayyan_unmatched_row_names_line(tmp_path):
    recs = subset_records(3)
    p = _rayyan_export(tmp_path, recs)
    with pytest.raises(ValueError, match=r"articles.csv: line 2: cannot match"):
        import_rayyan(p, date="2024-05-01", records=subset_records(13)[12:])


def test_import_cli(tmp_path, capsys):
    from reprisma.screen.__main__ import main

    out = tmp_path / "ta_alice.tsv"
    assert main(["import-asreview", str(D / "asreview_export.csv"), "--reviewer", "alice", "--out", str(out)]) == 0
    df = load_decisions([out], SETTINGS, [r["record_id"] for r in subset_records()])
    assert len(df) == 8
    p = _rayyan_export(tmp_path, subset_records(5))
    assert main(["import-rayyan", str(p), "--out", str(tmp_path / "r.tsv")]) == 2
    assert "--date is required" in capsys.readouterr().err
    assert main(["import-rayyan", str(p), "--date", "2024-05-01", "--reviewer-map", "Alice Smith=alice",
                 "--out", str(tmp_path / "r.tsv")]) == 0
    assert "\talice\t" in (tmp_path / "r.tsv").read_text()


def test_import_cli_never_overwrites_recorded_decisions(tmp_path, capsys):
    from reprisma.screen.__main__ import main

    out = tmp_path / "ta_alice.tsv"
    out.write_text("record_id\tstage\treviewer\tdecision\treason\tdate\n")
    before = out.read_bytes()
    assert main(["import-asreview", str(D / "asreview_export.csv"), "--reviewer", "alice", "--out", str(out)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert out.read_bytes() == before
