"""Metrics against hand-checkable cases and an independent brute-force reading of the definitions."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reprisma.screen.metrics import (
    average_time_to_discovery,
    recall_at,
    rrf_at,
    screening_metrics,
    wss_at,
)


def test_recall_hand_case():
    # 10 records, relevant at positions 1, 2 and 6 (1-based): after 10 % (1 record) 1/3 found,
    # after 20 % (2 records) 2/3, after 50 % (5 records) still 2/3.
    labels = [1, 1, 0, 0, 0, 1, 0, 0, 0, 0]
    assert recall_at(labels, 0.10) == pytest.approx(1 / 3)
    assert recall_at(labels, 0.20) == pytest.approx(2 / 3)
    assert recall_at(labels, 0.50) == pytest.approx(2 / 3)
    assert recall_at(labels, 0.60) == pytest.approx(1.0)
    assert rrf_at(labels, 0.10) == recall_at(labels, 0.10)
    # less than one record screened: nothing found
    assert recall_at(labels, 0.05) == 0.0


def test_wss_hand_case():
    # 10 records, 2 relevant, found at positions 1 and 2. At 95 % recall the last k with
    # k/R <= 0.95 is k = 1. The ranking needs 1 record (index 0); random reading, whose expected
    # count round(linspace(0, 2, 10)) = 0,0,0,1,1,1,1,2,2,2 first reaches 1 at index 3,
    # needs 4. WSS@95 = (3 - 0) / 10.
    labels = [1, 1] + [0] * 8
    expected_random = np.round(np.linspace(0, 2, 10))
    assert expected_random.tolist() == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
    assert wss_at(labels, 0.95) == pytest.approx(0.3)
    # at 100 % recall (k = 2): random first reaches 2 at index 7, ranking at index 1
    assert wss_at(labels, 1.0) == pytest.approx(0.6)


def test_worst_ranking_has_negative_wss():
    labels = [0] * 8 + [1, 1]
    assert wss_at(labels, 0.95) < 0


def test_average_time_to_discovery():
    assert average_time_to_discovery([0, 1, 0, 1]) == pytest.approx(3.0)


def test_undefined_without_relevant():
    with pytest.raises(ValueError, match="no relevant"):
        screening_metrics([0, 0, 0])


def _brute_recall(labels, p):
    n = len(labels)
    k = math.floor(p * n + 1e-12)
    return sum(labels[:k]) / sum(labels)


def _brute_wss(labels, level):
    n, r = len(labels), sum(labels)
    k = max([i for i in range(1, r + 1) if i / r <= level + 1e-12] or [1])
    seen = 0
    for pos, y in enumerate(labels):
        seen += y
        if seen == k:
            needed = pos
            break
    rand = [round(v) for v in np.linspace(0, r, n)]
    random_needed = next((i for i, v in enumerate(rand) if v >= k), n)  # never: n (searchsorted)
    return (random_needed - needed) / n


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 1), min_size=1, max_size=60).filter(lambda xs: sum(xs) > 0))
def test_against_brute_force(labels):
    for p in (0.1, 0.2, 0.5):
        assert recall_at(labels, p) == pytest.approx(_brute_recall(labels, p))
    assert wss_at(labels, 0.95) == pytest.approx(_brute_wss(labels, 0.95))
    m = screening_metrics(labels)
    assert 0 <= m["recall@10"] <= m["recall@20"] <= m["recall@50"] <= 1
