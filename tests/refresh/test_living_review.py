"""A living review over three rounds: real PsyNamic records served as PubMed at three dates.

Time 1 serves PsyNamic's 2025-03-06 export (subset), time 2 a later state of the same database
(the earlier records less some that PubMed no longer returns, plus the 2025-08-13 export's new
records), time 3 a later state again. Each round is captured by the real capture code over HTTP
from the emulator, derived by the stages in memory (as `verify` does) and published (its ledger
kept), so the next round finds its "previous version" in the previous round's own ledger.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from reprisma.emulator import EutilsEmulator, load_corpus
from reprisma.pipeline import derive_all
from reprisma.protocol import validate_config
from reprisma.replay import open_capture, open_capture_at
from reprisma.search.capture import capture
from reprisma.snapshot import dumps_json, ledger_path, write_round_ledger

DATA = Path(__file__).resolve().parents[1] / "data" / "psynamic"
EARLY, LATE = DATA / "pubmed_results_20250306_subset.csv", DATA / "pubmed_results_20250813_subset.csv"
TERM = "psychedelic* OR psilocybin OR ketamine OR esketamine OR MDMA OR LSD OR hallucinogen*"
# Records PubMed stops returning (a merged or withdrawn PMID, changed indexing) are chosen among
# those round 1 retrieved (positions in its sorted id list): at time 2 three, one of them a record
# round 1 included; at time 3 one more.
GONE_AT_2 = (5, 10, 11)
GONE_AT_3 = (20,)
EFETCHES: dict[int, tuple[int, int]] = {}  # round -> (efetch requests, records named by id)


def protocol(decisions: Path, root: Path, base_url: str | None = None):
    cfg = {
        "protocol": {"id": "living", "title": "A living review of psychedelic-assisted therapy (test)"},
        "services": {"eutils": {"base_url": base_url or "http://127.0.0.1:9/entrez/eutils/"}},
        "snapshot_dir": str(root),
        "searches": [{
            "id": "psychedelics", "source": "pubmed", "term": TERM,
            "limits": {"languages": ["english"], "date_field": "pdat", "date_from": None, "date_to": "2019-12-31"},
            "query": f'({TERM}) AND english[la] AND ("1800/01/01"[pdat] : "2019/12/31"[pdat])',
        }],
        "refresh": {"enabled": True, "date_field": "edat", "date_from": "2020-01-01", "date_to": "2025-12-31",
                    "previous_included_studies": 8, "previous_included_reports": 10},
        "screening": {"mode": "single", "decisions_dir": str(decisions),
                      "exclusion_reasons": ["wrong population", "wrong intervention"]},
        "removed_before_screening": str(root / "removed.tsv"),
        "dedup": {"overrides": str(root / "overrides.tsv")},
    }
    return validate_config(cfg, "living.yaml")


def corpus_at(time: int, gone: set[str]):
    late = load_corpus(psynamic_csv=[LATE])
    early = load_corpus(psynamic_csv=[EARLY])
    corpus = early if time == 1 else load_corpus(psynamic_csv=[LATE, EARLY])
    for pmid in gone:
        del corpus.pubmed[pmid]
    assert time == 1 or set(late.pubmed) <= set(corpus.pubmed)
    return corpus


def served(eutils: EutilsEmulator, query: str) -> set[str]:
    """What the emulator returns for the query: the ground truth of a round."""
    body = requests.get(eutils.base_url + "esearch.fcgi", params={"db": "pubmed", "term": query, "retmax": 10000},
                        timeout=30).text
    return set(re.findall(r"<Id>(\d+)</Id>", body))


def run_round(time: int, root: Path, decisions: Path, gone: set[str] = frozenset()):
    corpus = corpus_at(time, gone)
    with EutilsEmulator(corpus, unknown_language_matches=True, rate_limit=False) as eutils:
        live = protocol(decisions, root, eutils.base_url)
        truth = served(eutils, live.searches[0].query)
        eutils.requests.clear()
        capture(live, root, f"t{time}", kind="live")
        efetches = [r for r in eutils.requests if r.path.endswith("efetch.fcgi")]
        EFETCHES[time] = (len(efetches), sum(len((r.param("id") or "").split(",")) for r in efetches if r.param("id")))
    cap = open_capture(live, root)
    out = derive_all(live, cap)
    # publish: the round's ledger is kept beside its capture, as the workflow's publish step does
    write_round_ledger(root, live.id, dumps_json(out["counts"]).encode())
    return live, truth, out


def decide(path: Path, rows):
    path.write_text("record_id\tstage\treviewer\tdecision\treason\tdate\n"
                    + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    root = tmp_path_factory.mktemp("living")
    decisions = root / "decisions"
    decisions.mkdir()
    out = {}
    out[1] = run_round(1, root, decisions)
    ids1 = sorted(r["record_id"] for r in out[1][2]["records"])
    gone2 = {ids1[i].split(":")[1] for i in GONE_AT_2}
    gone3 = gone2 | {ids1[i].split(":")[1] for i in GONE_AT_3}
    # round 1: the team excludes two records, includes two (one of which PubMed drops at time 2)
    excluded, included = [ids1[0], ids1[1]], [ids1[GONE_AT_2[0]], ids1[6]]
    decide(decisions / "round1.tsv",
           [(rid, "title_abstract", "ana", "exclude", "wrong population", "2025-03-10") for rid in excluded]
           + [(rid, "title_abstract", "ana", "include", "", "2025-03-10") for rid in included]
           + [(rid, "full_text", "ana", "include", "", "2025-03-20") for rid in included])
    out[1] = (*out[1][:2], derive_all(out[1][0], open_capture(out[1][0], root)))
    write_round_ledger(root, "living", dumps_json(out[1][2]["counts"]).encode())
    out[2] = run_round(2, root, decisions, gone2)
    new2 = sorted(set(r["record_id"] for r in out[2][2]["records"]) - set(ids1))
    decide(decisions / "round2.tsv", [(new2[0], "title_abstract", "ben", "include", "", "2025-08-20"),
                                      (new2[0], "full_text", "ben", "include", "", "2025-08-25")])
    out[2] = (*out[2][:2], derive_all(out[2][0], open_capture(out[2][0], root)))
    write_round_ledger(root, "living", dumps_json(out[2][2]["counts"]).encode())
    out[3] = run_round(3, root, decisions, gone3)
    return root, out, {"excluded": excluded, "included": included, "new2": new2[0], "departed": ids1[GONE_AT_2[0]],
                       "gone2": sorted(f"pubmed:{p}" for p in gone2)}


def test_refresh_diff_is_the_set_difference_of_what_was_served(rounds):
    _, out, _ = rounds
    for t in (2, 3):
        truth_before, truth_now = out[t - 1][1], out[t][1]
        rows = out[t][2]["refresh"].rows
        added = {r["record_id"] for r in rows if r["change"] == "added"}
        removed = {r["record_id"] for r in rows if r["change"] == "removed"}
        assert added == {f"pubmed:{p}" for p in truth_now - truth_before}
        assert removed == {f"pubmed:{p}" for p in truth_before - truth_now}
        assert not any(r["change"] == "changed" for r in rows)  # the exports hold one version of each record
        (change,) = out[t][2]["refresh"].searches
        assert (change.previous, change.current) == (len(truth_before), len(truth_now))
    assert out[2][2]["refresh"].previous_capture == "t1" and out[3][2]["refresh"].history == ["t2", "t1"]


def test_decisions_carry_forward_and_only_new_records_are_to_screen(rounds):
    _, out, d = rounds
    s2 = out[2][2]["screening"]
    pool = set(out[2][2]["ranking"]["record_id"])
    finished = set(d["excluded"]) | set(d["included"])
    assert not pool & finished                                   # screened in round 1: not again
    # two excluded (a row each) and one included still returned (title/abstract and full-text rows)
    assert s2["carried_forward"] == {"clusters": 3, "decisions": 4}
    # the round-1 inclusion PubMed no longer returns: its decisions are kept and reported, not an error
    departed = {(x["record_id"], x["stage"]) for x in s2["decisions_on_departed_records"]}
    assert departed == {(d["departed"], "title_abstract"), (d["departed"], "full_text")}
    assert {x["last_returned_by_capture"] for x in s2["decisions_on_departed_records"]} == {"t1"}
    ident = out[2][2]["counts"]["prisma"]["identification"]
    assert ident["screened_in_previous_round"] == 3


def test_updated_review_counts_come_from_the_previous_rounds_ledger(rounds):
    root, out, _ = rounds
    p1, p2, p3 = (out[t][2]["counts"]["prisma"] for t in (1, 2, 3))
    # round 1: the previous version is the protocol's reported numbers, in their own units
    assert p1["previous"]["reports"] == 10 and p1["previous"]["studies"] == 8
    assert p1["included"] == {"studies": 2, "reports": 2} and p1["total"] == {"studies": 10, "reports": 12}
    # round 2: previous = round 1's totals (its own ledger); one new study; totals add up
    assert p2["previous"]["capture_id"] == "t1"
    assert (p2["previous"]["studies"], p2["previous"]["reports"]) == (10, 12)
    assert p2["included"] == {"studies": 1, "reports": 1} and p2["total"] == {"studies": 11, "reports": 13}
    # round 3: previous = round 2's totals; nothing new decided
    assert p3["previous"]["capture_id"] == "t2" and (p3["previous"]["studies"], p3["previous"]["reports"]) == (11, 13)
    assert p3["total"] == {"studies": 11, "reports": 13}
    for t in (1, 2, 3):
        assert all(i["holds"] for i in out[t][2]["counts"]["invariants"])
    assert ledger_path(root, "living", "t2").exists()


def test_known_items_say_which_search_retrieved_them_and_which_are_in_no_result(rounds):
    from reprisma.counts import known_items

    _, out, d = rounds
    live, _, derived = out[3]
    pmid = d["new2"].split(":")[1]
    items = [{"pmid": pmid, "note": "a record round 2 found"}, {"pmid": "1", "note": "in no result"}]
    protocol = validate_config({**live.config, "known_items": items}, "living.yaml")
    manifest = open_capture_at(out[3][0].config["snapshot_dir"], "living", "t3").manifest
    found, missing = known_items(protocol, manifest, derived["records"])
    assert found["retrieved_by"] == ["psychedelics"] and found["missed_by"] == [] and found["in_capture"]
    assert found["record_ids"] == [d["new2"]]
    assert missing["retrieved_by"] == [] and missing["missed_by"] == ["psychedelics"] and not missing["in_capture"]


def test_diff_names_each_changed_field_and_why_a_record_left():
    """Unit test of the comparison on two versions of one record (a status change, a retraction)."""
    from reprisma.refresh import diff_records

    before = [{"record_id": "ctgov:NCT03181529", "source": "ctgov", "search_ids": ["reg"], "title": "T",
               "overall_status": "ACTIVE_NOT_RECRUITING"},
              {"record_id": "pubmed:1", "source": "pubmed", "search_ids": ["pm"], "title": "A", "publication_types": ["Journal Article"]},
              {"record_id": "pubmed:2", "source": "pubmed", "search_ids": ["pm"], "title": "B"}]
    after = [{**before[0], "overall_status": "COMPLETED", "raw_file": "elsewhere"},
             {**before[1], "publication_types": ["Journal Article", "Retracted Publication"]}]
    rows, changes, changed = diff_records(before, after, ["pm", "reg"])
    assert changed == {"ctgov:NCT03181529": ["overall_status"], "pubmed:1": ["publication_types"]}
    assert [(r["search_id"], r["record_id"], r["change"]) for r in rows] == [
        ("pm", "pubmed:2", "removed"), ("pm", "pubmed:1", "changed"), ("reg", "ctgov:NCT03181529", "changed")]
    assert "no longer returned by PubMed" in rows[0]["fields"]
    assert [(c.search_id, c.previous, c.current, c.added, c.removed, c.changed) for c in changes] == [
        ("pm", 2, 1, 0, 1, 1), ("reg", 1, 1, 0, 0, 1)]
    # the first capture of a protocol: nothing to compare
    assert diff_records(None, after, ["pm"])[0] == []


def test_verify_checks_every_capture_of_the_history(rounds, tmp_path):
    import gzip
    import shutil

    from reprisma.verify import verify

    root, out, _ = rounds
    live = out[3][0]
    counts = tmp_path / "counts.json"
    counts.write_text(dumps_json(out[3][2]["counts"]))
    ok, lines = verify(live, root, counts)
    assert ok, lines
    assert any(line.startswith("earlier capture t2: manifest and") for line in lines)
    assert any(line.startswith("earlier capture t1: manifest and") for line in lines)
    # a changed byte in the first capture is found, though the LOCK names the third
    copy = tmp_path / "snap"
    shutil.copytree(root, copy)
    raw = sorted((copy / "living" / "t1" / "raw").rglob("efetch-*.xml.gz"))[0]
    body = gzip.decompress(raw.read_bytes()).replace(b"<PubmedArticleSet>", b"<PubmedArticleSet> ", 1)
    raw.write_bytes(gzip.compress(body, mtime=0))
    ok, lines = verify(live, copy, counts)
    assert not ok
    assert any("capture history:" in line and "t1" in line and "content changed" in line for line in lines)


def test_a_refresh_fetches_only_records_no_earlier_capture_holds(rounds):
    """Incremental capture: after esearch, efetch only what is new (the minimum number of
    requests); the manifest still names every record and where its bytes are."""
    import math

    root, out, _ = rounds
    assert EFETCHES[1][0] == math.ceil(len(out[1][1]) / 500)      # the first capture fetches everything
    for t in (2, 3):
        new = out[t][1] - out[t - 1][1]
        assert EFETCHES[t] == (math.ceil(len(new) / 500), len(new))
        manifest = open_capture_at(root, "living", f"t{t}").manifest["searches"][0]
        assert manifest["requests"]["records_reused"] == len(out[t][1] & out[t - 1][1])
        assert manifest["requests"]["records_fetched"] == len(new)
        assert manifest["records_received"] == len(out[t][1])


def test_an_incremental_capture_replays_the_same_records_as_a_full_one(rounds, tmp_path):
    root, out, d = rounds
    full_root = tmp_path / "full"
    corpus = corpus_at(2, {r.split(":")[1] for r in d["gone2"]})
    with EutilsEmulator(corpus, unknown_language_matches=True, rate_limit=False) as eutils:
        live = protocol(tmp_path / "none", full_root, eutils.base_url)
        capture(live, full_root, "t2", kind="live", incremental=False)
    full = derive_all(live, open_capture(live, full_root))["records"]
    incremental = out[2][2]["records"]
    strip = lambda recs: [{k: v for k, v in r.items() if k != "raw_file"} for r in recs]
    assert strip(full) == strip(incremental)
    assert any(r["raw_file"].startswith("t1/") for r in incremental)  # bytes kept where round 1 stored them


def test_a_later_rounds_report_lists_the_records_behind_every_box(rounds, tmp_path):
    """The report stage checks every record list against the diagram (it stops on a mismatch):
    carried-forward and departed decisions must not leak into this round's boxes."""
    import csv

    from reprisma.report import build_report

    root, out, d = rounds
    live, _, derived = out[2]
    screening = derived["screening"]
    build_report(live, open_capture_at(root, "living", "t2"), derived["counts"], derived["records"],
                 derived["dedup"], screening, tmp_path, clusters=derived["clusters"],
                 eligibility=derived["eligibility"])
    with open(tmp_path / "records" / "included.csv", newline="", encoding="utf-8") as f:
        included = {r["record_id"] for r in csv.DictReader(f)}
    assert d["new2"] in included and d["departed"] not in included
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Decisions kept on records the searches no longer return (2)" in html
    assert "Records screened in a previous round" in (tmp_path / "prisma.svg").read_text(encoding="utf-8")
