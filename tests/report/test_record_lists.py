"""Every box of the diagram leads to its records: the lists under reports/records/ have as many
rows as their box, split the same way (per database, rule, reason), and name real record ids."""

import copy
import csv
import io

import pytest

from reprisma.report.record_lists import LISTS, box_numbers, check_lists, lists_csv, record_lists


def _lists(example_run, screening=None, files=()):
    protocol, _, d = example_run
    return record_lists(protocol, d["counts"], d["records"], d["clusters"], d["eligibility"], list(files))


def test_every_list_matches_its_box(example_run):
    _, _, d = example_run
    lists = _lists(example_run)
    assert set(lists) == set(LISTS)
    assert check_lists(d["counts"], lists) == []
    ids = {r["record_id"] for r in d["records"]}
    for name, rows in lists.items():
        assert {r["record_id"] for r in rows} <= ids, name
    nums = box_numbers(d["counts"])
    assert nums["identified"] == len(lists["identified"]) > 0
    assert nums["duplicates_removed"] == len(lists["duplicates_removed"])
    # a duplicate names the record kept in its place, which went on to screening
    screened = {r["record_id"] for r in lists["screened"]}
    assert all(r["kept_record_id"] in screened for r in lists["duplicates_removed"])
    texts = lists_csv(lists)
    for path, text in texts.items():
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == len(lists[path[len("records/"):-len(".csv")]])


def test_lists_follow_decisions(example_run, conflict_screening, tmp_path):
    """With real decision files: excluded at title/abstract, excluded at full text with each
    reason, not retrieved and included lists agree with a ledger derived from the same files."""
    from reprisma.counts import count_capture
    from reprisma.screen.stage import screen_records

    protocol, cap, d = example_run
    ids = sorted(r["record_id"] for r in d["eligibility"] if r["eligible"])[:8]
    reasons = protocol.config["screening"]["exclusion_reasons"]
    header = "record_id\tstage\treviewer\tdecision\treason\tdate\n"
    rows = []
    for rev in ("ana", "ben"):
        rows += [f"{i}\ttitle_abstract\t{rev}\tinclude\t\t2026-11-20\n" for i in ids[:6]]
        rows += [f"{i}\ttitle_abstract\t{rev}\texclude\t\t2026-11-20\n" for i in ids[6:]]
        rows += [f"{ids[0]}\tfull_text\t{rev}\texclude\t{reasons[0]}\t2026-11-21\n",
                 f"{ids[1]}\tfull_text\t{rev}\texclude\t{reasons[1]}\t2026-11-21\n",
                 f"{ids[2]}\tfull_text\t{rev}\tnot_retrieved\t\t2026-11-21\n",
                 f"{ids[3]}\tfull_text\t{rev}\tinclude\t\t2026-11-21\n"]
    (tmp_path / "d.tsv").write_text(header + "".join(rows), encoding="utf-8")
    files = [tmp_path / "d.tsv"]
    screening = screen_records(d["records"], d["clusters"], d["eligibility"], protocol, files).ledger
    counts = count_capture(protocol, cap, d["records"], d["clusters"], d["eligibility"], screening)
    lists = record_lists(protocol, counts, d["records"], d["clusters"], d["eligibility"], files)
    assert check_lists(counts, lists) == []
    assert [r["record_id"] for r in lists["excluded_title_abstract"]] == ids[6:]
    assert {(r["record_id"], r["reason"]) for r in lists["excluded_full_text"]} == {(ids[0], reasons[0]),
                                                                                 (ids[1], reasons[1])}
    assert [r["record_id"] for r in lists["not_retrieved"]] == [ids[2]]
    assert {r["record_id"] for r in lists["included"]} == {ids[3]}
    assert len(lists["awaiting_full_text"]) == 2  # ids[4], ids[5]: passed, no full-text decision yet
    # a ledger that disagrees with the lists is reported, list by list
    wrong = copy.deepcopy(counts)
    wrong["prisma"]["screening"]["reports_not_retrieved"] += 1
    wrong["prisma"]["screening"]["reports_excluded"][reasons[0]] += 1
    problems = check_lists(wrong, lists)
    assert any(p.startswith("records/not_retrieved.csv: 1 rows, the diagram's box says 2") for p in problems)
    assert any(p.startswith("records/excluded_full_text.csv: rows per reason") for p in problems)
