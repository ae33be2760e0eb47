"""`python -m reprisma.screen simulate` on a real labelled subset (tests/data/screening)."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reprisma.screen.__main__ import main as cli_main
from reprisma.screen.metrics import screening_metrics
from reprisma.screen.ranking import Ranker, rank_records, record_text
from reprisma.screen.simulate import choose_prior, read_labelled, simulate

DATA = Path(__file__).resolve().parent.parent / "data" / "screening" / "cohen2006_antihistamines_subset.csv"
REPO = Path(__file__).resolve().parents[2]


def run_cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(REPO / "scripts"))
    return subprocess.run(
        [sys.executable, "-m", "reprisma.screen", *map(str, args)],
        capture_output=True, text=True, env=env, cwd=cwd,
    )


@pytest.fixture(scope="module")
def ranking_csv(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "ranking.csv"
    r = run_cli("simulate", DATA, "--label", "label_included", "--seed", 3, "--out", out)
    assert r.returncode == 0, r.stderr
    return out, r


def test_cli_writes_complete_screening_order(ranking_csv):
    out, r = ranking_csv
    src = pd.read_csv(DATA, dtype=str)
    rows = list(csv.DictReader(open(out, newline="")))
    assert list(rows[0]) == ["rank", "record_id", "label"]
    assert [int(x["rank"]) for x in rows] == list(range(1, len(src) + 1))
    assert sorted(x["record_id"] for x in rows) == sorted(src["record_id"])  # ids from record_id
    truth = dict(zip(src["record_id"], src["label_included"]))
    assert all(truth[x["record_id"]] == x["label"] for x in rows)
    # the prior: one relevant then one irrelevant, the ones choose_prior picks for seed 3
    labels = src["label_included"].astype(int).to_numpy()
    i, j = choose_prior(labels, 3)
    assert [x["record_id"] for x in rows[:2]] == [src["record_id"][i], src["record_id"][j]]
    assert [x["label"] for x in rows[:2]] == ["1", "0"]
    assert "simulate:" in r.stderr and "relevant found" in r.stderr  # progress on stderr
    assert r.stdout == ""


def test_cli_is_deterministic(ranking_csv, tmp_path):
    out, _ = ranking_csv
    again = tmp_path / "again.csv"
    r = run_cli("simulate", DATA, "--label", "label_included", "--seed", 3, "--out", again)
    assert r.returncode == 0, r.stderr
    assert again.read_bytes() == out.read_bytes()


def test_ranking_beats_file_order(ranking_csv):
    out, _ = ranking_csv
    labels = pd.read_csv(out)["label"].tolist()[2:]
    # on real data the learned order finds the relevant records sooner than random reading,
    # whose expected average time to discovery is (N + 1) / 2
    m = screening_metrics(labels)
    assert m["wss@95"] > 0
    assert m["atd"] < (len(labels) + 1) / 2


def test_ids_fall_back_to_pubmed_then_row_number(tmp_path):
    src = pd.read_csv(DATA, dtype=str, keep_default_na=False)
    a = tmp_path / "no_record_id.csv"
    src.drop(columns=["record_id"]).to_csv(a, index=False)
    assert read_labelled(a, "label_included").ids == src["pubmedID"].tolist()
    b = tmp_path / "no_ids.csv"
    src.drop(columns=["record_id", "pubmedID"]).to_csv(b, index=False)
    assert read_labelled(b, "label_included").ids == [str(i) for i in range(len(src))]


def test_cli_errors_name_file_and_line(tmp_path, capsys):
    # the same entry point as `python -m reprisma.screen`, called in-process to save start-up time
    src = pd.read_csv(DATA, dtype=str, keep_default_na=False)
    bad = src.copy()
    bad.loc[4, "label_included"] = "yes"
    p = tmp_path / "bad.csv"
    bad.to_csv(p, index=False)
    assert cli_main(["simulate", str(p), "--label", "label_included", "--out", str(tmp_path / "x.csv")]) == 2
    assert f"{p}: line 6: column 'label_included' must be 0 or 1, got 'yes'" in capsys.readouterr().err
    assert cli_main(["simulate", str(DATA), "--label", "nope", "--out", str(tmp_path / "x.csv")]) == 2
    assert f"{DATA}: line 1: missing column(s) nope" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_prior_idx_and_metrics_command(tmp_path, capsys):
    src = pd.read_csv(DATA, dtype=str)
    labels = src["label_included"].astype(int).to_numpy()
    pos, neg = int(np.flatnonzero(labels == 1)[-1]), int(np.flatnonzero(labels == 0)[0])
    out = tmp_path / "r.csv"
    args = ["simulate", str(DATA), "--label", "label_included", "--prior-idx", str(pos), str(neg), "--out", str(out)]
    assert cli_main(args) == 0
    ids = pd.read_csv(out, dtype=str)["record_id"].tolist()
    assert ids[:2] == [src["record_id"][pos], src["record_id"][neg]]
    capsys.readouterr()
    assert cli_main(["metrics", str(out)]) == 0
    assert '"wss@95"' in capsys.readouterr().out


@pytest.mark.parametrize("prior, expected", [
    (["0", "999"], "--prior-idx '999': not a row position"),
    (["-1", "0"], "--prior-idx '-1': not a row position"),
    (["3", "3"], "the prior names a record twice"),
])
def test_bad_prior_idx_is_a_clear_error(tmp_path, capsys, prior, expected):
    out = tmp_path / "r.csv"
    assert cli_main(["simulate", str(DATA), "--label", "label_included", "--prior-idx", *prior, "--out", str(out)]) == 2
    assert expected in capsys.readouterr().err
    assert not out.exists()


def test_prior_of_one_class_is_a_clear_error(tmp_path, capsys):
    src = pd.read_csv(DATA, dtype=str)
    negs = src.loc[src["label_included"] == "0", "record_id"].head(2).tolist()
    out = tmp_path / "r.csv"
    assert cli_main(["simulate", str(DATA), "--label", "label_included", "--prior-ids", *negs, "--out", str(out)]) == 2
    assert "at least one relevant and one irrelevant" in capsys.readouterr().err


def test_records_without_usable_words_still_rank():
    """One-letter titles give the word block an empty vocabulary; the ranking still works."""
    order = simulate(["a", "b", "c", ""], [1, 0, 0, 1], seed=0)
    assert sorted(order) == [0, 1, 2, 3]


@pytest.mark.parametrize("content, expected", [
    ("record_id,label\nx,1\n", "line 1: missing column(s) rank"),
    ("rank,record_id,label\n1,x,1\n2,y,yes\n", "line 3: rank must be a number and label 0 or 1"),
])
def test_metrics_command_bad_ranking(tmp_path, capsys, content, expected):
    p = tmp_path / "ranking.csv"
    p.write_text(content)
    assert cli_main(["metrics", str(p)]) == 2
    assert expected in capsys.readouterr().err


def test_cold_start_uses_keywords():
    src = pd.read_csv(DATA, dtype=str, keep_default_na=False)
    recs = src.rename(columns={})[["record_id", "title", "abstract"]]
    # a keyword that occurs in exactly one title of the subset ranks that record first
    word = "fexofenadine"
    hits = [i for i, t in enumerate(src["title"]) if word in t.lower()]
    assert hits, "the subset has a fexofenadine title"
    ranked = rank_records(recs, {}, keywords=[word])
    assert ranked["record_id"].iloc[0] in set(src["record_id"].iloc[hits])
    assert len(ranked) == len(src)
    # without keywords and decisions every score is 0 and the input order is kept
    flat = rank_records(recs, {})
    assert flat["record_id"].tolist() == src["record_id"].tolist()


def test_rank_records_leaves_out_decided_and_learns():
    src = pd.read_csv(DATA, dtype=str, keep_default_na=False)
    y = src["label_included"].astype(int).tolist()
    decided = {rid: lab for rid, lab in list(zip(src["record_id"], y))[:40]}
    ranked = rank_records(src[["record_id", "title", "abstract"]], decided, seed=0)
    assert set(ranked["record_id"]).isdisjoint(decided)
    assert len(ranked) == len(src) - 40
    assert ranked["score"].is_monotonic_decreasing
    truth = dict(zip(src["record_id"], y))
    top = [truth[r] for r in ranked["record_id"].head(10)]
    rest = [truth[r] for r in ranked["record_id"]]
    assert np.mean(top) > np.mean(rest)  # relevant records move up
    with pytest.raises(ValueError, match="unknown record ids"):
        rank_records(src[["record_id", "title", "abstract"]], {"pubmed:0": 1})


def test_simulate_in_process_matches_prior_and_is_permutation():
    d = read_labelled(DATA, "label_included")
    order = simulate(d.texts, d.labels, seed=5)
    assert sorted(order) == list(range(len(d.ids)))
    assert list(order[:2]) == list(choose_prior(d.labels, 5))
    assert record_text("T", None) == "T"
    assert Ranker(d.texts).X.shape[0] == len(d.texts)


def test_single_relevant_record_and_empty_texts():
    d = read_labelled(DATA, "label_included")
    y = np.zeros(len(d.labels), dtype=int)
    y[np.flatnonzero(d.labels == 1)[0]] = 1
    texts = list(d.texts)
    texts[5] = ""  # a record without title and abstract gets the neutral score, not an error
    order = simulate(texts, y, seed=0)
    assert sorted(order) == list(range(len(y)))
    assert Ranker(texts).X[5].nnz == 0


def test_relevant_class_weight():
    """Balanced class weights, the relevant class ``positive_weight`` times heavier, mean 1."""
    from reprisma.screen.ranking import RankerConfig

    d = read_labelled(DATA, "label_included")
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    w = Ranker(d.texts[:10]).sample_weights(y)
    assert w.mean() == pytest.approx(1.0)
    # balanced alone would give the one relevant record the weight of the nine others together
    assert w[0] / w[1] == pytest.approx(9 * RankerConfig().positive_weight)
    plain = Ranker(d.texts[:10], config=RankerConfig(positive_weight=1.0)).sample_weights(y)
    assert plain[0] == pytest.approx(plain[1:].sum())


def test_stemmed_words_analyzer():
    from reprisma.screen.ranking import StemmedWords

    assert StemmedWords()("Rats were treated") == ["rat", "were", "treat", "rat were", "were treat"]
    assert StemmedWords((1, 1))("Antidepressants, antidepressant; NUDGING nudges") == [
        "antidepress", "antidepress", "nudg", "nudg"]


def test_ranker_matches_word_forms_through_stems():
    """With the default stemmed features a keyword finds the plural and the -ing form; with plain
    words it does not."""
    from reprisma.screen.ranking import RankerConfig

    texts = ["Antidepressants in rats", "Nudging healthy eating", "Unrelated cardiology trial"]
    stemmed = Ranker(texts).keyword_scores(["antidepressant", "nudge"])
    plain = Ranker(texts, config=RankerConfig(stem=False)).keyword_scores(["antidepressant", "nudge"])
    assert stemmed[0] > 0 and stemmed[1] > 0 and stemmed[2] == 0
    assert plain[0] == 0 and plain[1] == 0
