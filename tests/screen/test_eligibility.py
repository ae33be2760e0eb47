"""Automated eligibility on records parsed from genuine PubMed and CT.gov responses."""

import copy
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from reprisma.records.ctgov import iter_ctgov_records
from reprisma.records.pubmed import iter_pubmed_records
from reprisma.screen.eligibility import apply_eligibility, assess, date_span, outside

FIX = Path(__file__).resolve().parents[1] / "fixtures"
RULES = {"languages": ["eng"], "exclude_publication_types": ["Published Erratum", "Comment"],
         "trial_overall_status": ["COMPLETED"]}


def pubmed(name):
    return list(iter_pubmed_records(FIX / "pubmed" / "metapub" / name, raw_file=name, search_ids=["s"]))[0]


def test_german_article_is_excluded_by_language():
    rec = pubmed("pmid_38048813.xml")
    assert rec["languages"] == ["ger"]
    assert assess(rec, RULES, (None, None)) == ("language", "language ger")


def test_bilingual_article_with_english_is_kept():
    rec = pubmed("pmid_36987902.xml")
    assert "eng" in rec["languages"]
    assert assess(rec, RULES, (None, None)) is None


def test_publication_date_outside_window():
    rec = pubmed("pmid_38011560.xml")
    year = int(rec["pub_date"][:4])
    assert assess(rec, RULES, (None, f"{year - 1}-12-31"))[0] == "publication_date"
    assert assess(rec, RULES, (f"{year + 1}-01-01", None))[0] == "publication_date"
    assert assess(rec, RULES, (f"{year}-01-01", f"{year}-12-31")) is None


def test_unknown_values_never_exclude():
    rec = copy.deepcopy(pubmed("pmid_38011560.xml"))
    rec["languages"], rec["pub_date"] = [], None
    assert assess(rec, RULES, ("2030-01-01", "2031-12-31")) is None


def test_excluded_publication_type():
    rec = copy.deepcopy(pubmed("pmid_38011560.xml"))
    rec["publication_types"] = rec["publication_types"] + ["Comment"]
    assert assess(rec, RULES, (None, None)) == ("publication_type", "publication type Comment")


def test_trial_status_rule_on_real_studies():
    page = FIX / "clinicaltrials" / "biomcp" / "search_phelan_limit5_20260811.json"
    trials = list(iter_ctgov_records(page, raw_file="p", search_ids=["s"]))
    rows = apply_eligibility(trials, RULES, (None, None))
    statuses = {t["record_id"]: t["overall_status"] for t in trials}
    for row in rows:
        assert row["eligible"] == (statuses[row["record_id"]] == "COMPLETED")
        if not row["eligible"]:
            assert row["rule"] == "trial_status"


@given(st.integers(1900, 2100), st.integers(1, 12))
def test_partial_dates_span_their_whole_period(year, month):
    first, last = date_span(f"{year}-{month:02d}")
    assert first.day == 1 and first.month == last.month == month and (last.day >= 28)
    # a month that touches the window is never outside it
    assert not outside(f"{year}-{month:02d}", (None, last.isoformat()))
    assert not outside(f"{year}-{month:02d}", (last.isoformat(), None))
    assert outside(f"{year}", (f"{year + 1}-01-01", None))
