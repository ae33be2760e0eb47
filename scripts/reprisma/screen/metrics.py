"""Screening-prioritisation metrics, with ASReview's definitions.

Definitions follow ASReview Insights (github.com/asreview/asreview-insights, README sections
"Recall", "Work saved over sampling"; functions ``_recall_values``, ``_wss_values`` and
``_slice_metric`` in ``asreviewcontrib/insights/algorithms.py`` / ``metrics.py``); this is an
independent implementation of the same formulas. Input is the list of 0/1 labels in screening
order **without the prior records** (Insights' default ``priors=False``); ``N`` is its length and
``R`` the number of relevant records in it.

* recall@p: the fraction of the ``R`` relevant records found among the first ``floor(p*N)``
  screened records (Insights takes the last point of the curve x = i/N, i = 1..N with x <= p;
  0 when p < 1/N).
* RRF@10: "Relevant Records Found" after screening 10 % -- by Insights' definition exactly the
  recall at 10 %; reported separately because the issue asks for it.
* WSS@95 (Cohen et al. 2006, as Insights computes it): for the k-th relevant record (k = 1..R),
  the number of records random screening would have needed to find k relevant ones
  (first index where ``round(linspace(0, R, N))`` reaches k) minus the number the ranking needed
  (first index where the cumulative count reaches k), divided by N; WSS@95 is that value at the
  last k with k/R <= 0.95 (k = 1 when R = 1).
* ATD (average time to discovery, Ferdinands et al.): mean 1-based screening position of the
  relevant records (absolute, in records).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["recall_at", "wss_at", "rrf_at", "average_time_to_discovery", "screening_metrics"]


def _as_labels(labels: Sequence[int]) -> np.ndarray:
    y = np.asarray(labels, dtype=int)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError("labels must be a non-empty 1-d sequence of 0/1")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    if y.sum() == 0:
        raise ValueError("no relevant record in the labels: the metrics are undefined")
    return y


def _last_at_or_below(x: np.ndarray, y: np.ndarray, p: float) -> float:
    i = int(np.searchsorted(x, p, side="right"))
    # no point at or below p (only possible for WSS with a single relevant record): the first
    # point, which is what Insights' y[i - 1] with i = 0 returns there too (y[-1] == y[0])
    return float(y[max(i, 1) - 1])


def recall_at(labels: Sequence[int], fraction: float) -> float:
    """Recall after screening ``fraction`` (0..1) of the records."""
    y = _as_labels(labels)
    n = len(y)
    x = np.arange(1, n + 1) / n
    if fraction < x[0]:
        return 0.0
    return _last_at_or_below(x, np.cumsum(y) / y.sum(), fraction)


def rrf_at(labels: Sequence[int], fraction: float = 0.10) -> float:
    """Relevant records found after screening ``fraction`` (ASReview: the recall there)."""
    return recall_at(labels, fraction)


def wss_at(labels: Sequence[int], recall: float = 0.95) -> float:
    """Work saved over sampling at the given recall, as a fraction of the records."""
    y = _as_labels(labels)
    n, r = len(y), int(y.sum())
    found = np.cumsum(y)
    found_random = np.round(np.linspace(0, r, n))
    targets = np.arange(1, r + 1)
    when = np.searchsorted(found, targets)
    when_random = np.searchsorted(found_random, targets)
    x = targets / r
    return _last_at_or_below(x, (when_random - when) / n, recall)


def average_time_to_discovery(labels: Sequence[int]) -> float:
    """Mean 1-based position of the relevant records."""
    y = _as_labels(labels)
    return float(np.mean(np.flatnonzero(y == 1) + 1))


def screening_metrics(labels: Sequence[int]) -> dict[str, float]:
    """The benchmark's metrics for one screening order (priors already removed)."""
    return {
        "wss@95": wss_at(labels, 0.95),
        "recall@10": recall_at(labels, 0.10),
        "recall@20": recall_at(labels, 0.20),
        "recall@50": recall_at(labels, 0.50),
        "rrf@10": rrf_at(labels, 0.10),
        "atd": average_time_to_discovery(labels),
    }
