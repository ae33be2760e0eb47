"""When may screening stop? Stopping rules for prioritised (ranked) title/abstract screening.

Rules (``RULES``):

``hypergeometric``
    The statistical stopping criterion of Callaghan & Müller-Hansen (2020), "Statistical stopping
    criteria for automated screening in systematic reviews", *Systematic Reviews* 9:273, in the
    form their package ``buscar`` computes it (R ``buscar::calculate_h0`` with ``bias = 1``;
    Python ``nacsos_data`` ``calculate_h0``). Null hypothesis H0: *the recall reached so far is
    below the target* τ. For every n = 1 .. (records screened), the last n screened records are
    treated as a sample drawn without replacement from an urn made of those n records plus every
    unscreened record (urn size ``N - (screened - n)``). With ``r`` relevant records seen in all,
    ``k`` of them in the sample and ``r_al = r - k`` before it, H0 needs at least
    ``K = floor(r / τ - r_al + 1)`` relevant records in the urn; the p-value for that n is the
    hypergeometric probability of drawing ``k`` or fewer relevant records in ``n`` draws from an
    urn of that size holding ``K`` relevant ones. The reported p-value is the smallest over n;
    the rule is met when it is below ``1 - confidence``.

    The guarantee, as published: if the sample were a uniform random sample of the urn, rejecting
    H0 at p < α means recall >= τ with probability at least 1 - α (the test is exact for one
    random sample: the 2020 paper's "random sampling" phase). Prioritised screening puts relevant
    records first, so the last records screened hold *more* relevant records than a random
    sample would, which makes the test conservative; that is the paper's argument for applying it
    to the ranked order ("ranked quasi-sampling"). It is an argument, not a theorem: a ranker that
    ranks some relevant records *below* random breaks it, and taking the minimum over every n is
    a multiple comparison the published guarantee does not correct for. ``benchmarks/stopping.py``
    measures how often the target was actually met.

    Suffixes whose H0 would need more relevant records than the urn holds (the null hypothesis is
    impossible there) are skipped, as buscar's R code skips their NaN; when nothing is left the
    p-value is 1 (not met). With no record screened, or none left unscreened, see
    :func:`hypergeometric`.

``consecutive_irrelevant``
    The common heuristic: stop after the last ``consecutive`` records screened were all
    irrelevant (no guarantee of any recall).

``fixed_fraction``
    Stop once ``fraction`` of the records have been screened (no guarantee of any recall).

``random_sample`` (simulation only: decision files do not say which records were drawn at random)
    The 2020 paper's procedure with a real random sample (:func:`random_sample_stop`): exact.

Every rule returns a :class:`StoppingResult`: whether it is met, the estimate and bound it rests
on, and what it would take to meet it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

__all__ = [
    "RULES",
    "DEFAULTS",
    "StoppingConfig",
    "StoppingResult",
    "hypergeometric_p",
    "hypergeometric",
    "random_sample_size",
    "consecutive_irrelevant",
    "fixed_fraction",
    "evaluate",
    "first_stop",
]

RULES = ("hypergeometric", "consecutive_irrelevant", "fixed_fraction")
# rules a simulation can replay; random_sample needs to know which decisions were drawn at
# random, which decision files do not record, so a protocol cannot name it (yet)
SIMULATION_RULES = RULES + ("random_sample",)
# the protocol's screening.stopping defaults (workflow/schemas/config.schema.yaml says the same;
# a test checks they agree)
DEFAULTS = {"rule": "hypergeometric", "target_recall": 0.95, "confidence": 0.95, "consecutive": 100,
            "fraction": 0.5, "apply": False}


@dataclass(frozen=True)
class StoppingConfig:
    """A stopping rule and its settings (the protocol's ``screening.stopping``)."""

    rule: str = DEFAULTS["rule"]
    target_recall: float = DEFAULTS["target_recall"]
    confidence: float = DEFAULTS["confidence"]
    consecutive: int = DEFAULTS["consecutive"]
    fraction: float = DEFAULTS["fraction"]
    apply: bool = DEFAULTS["apply"]
    seed: int = 0  # random_sample (simulation): the seed of the random sample

    def __post_init__(self):
        if self.rule not in SIMULATION_RULES:
            raise ValueError(f"stopping rule {self.rule!r}: expected one of {', '.join(SIMULATION_RULES)}")
        if not 0 < self.target_recall < 1:
            raise ValueError(f"target recall {self.target_recall!r}: must be between 0 and 1 (exclusive)")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence {self.confidence!r}: must be between 0 and 1 (exclusive)")
        if int(self.consecutive) != self.consecutive or self.consecutive < 1:
            raise ValueError(f"consecutive {self.consecutive!r}: must be a whole number >= 1")
        if not 0 < self.fraction <= 1:
            raise ValueError(f"fraction {self.fraction!r}: must be in (0, 1]")

    @classmethod
    def from_protocol(cls, cfg: dict | None) -> "StoppingConfig":
        cfg = {**DEFAULTS, **(cfg or {})}
        return cls(**{k: cfg[k] for k in DEFAULTS})


@dataclass(frozen=True)
class StoppingResult:
    """What a stopping rule says about a screening state.

    ``estimate``: the rule's statistic (hypergeometric: the p-value of H0 "recall < target";
    consecutive_irrelevant: the current run of irrelevant records; fixed_fraction: the fraction
    screened). ``bound``: the threshold it is compared with (``1 - confidence``, the run length,
    the fraction). ``more_needed``: records still to screen in ranked order, if all of them turn
    out irrelevant, before the rule is met (0 when met; None when no number of them would do).
    ``random_sample``: hypergeometric only: the size of a uniform random sample of the unscreened
    records that, with no relevant record in it, would meet the rule (None when not applicable).
    """

    rule: str
    target_recall: float
    confidence: float | None
    met: bool
    screened: int
    total: int
    relevant_seen: int
    estimate: float
    bound: float
    more_needed: int | None
    random_sample: int | None = None
    params: dict = field(default_factory=dict)

    @property
    def unscreened(self) -> int:
        return self.total - self.screened

    def to_dict(self) -> dict:
        return {**asdict(self), "unscreened": self.unscreened}

    def sentence(self) -> str:
        """One line for the screening stage's message and the report."""
        if self.rule == "hypergeometric":
            head = (f"stopping rule hypergeometric (target recall {self.target_recall:g}, confidence "
                    f"{self.confidence:g}): {'met' if self.met else 'not met'}: p = {self.estimate:.4g} "
                    f"for 'recall < {self.target_recall:g}' (bound {self.bound:.4g}) after {self.screened} of "
                    f"{self.total} records screened, {self.relevant_seen} relevant")
        elif self.rule == "consecutive_irrelevant":
            head = (f"stopping rule consecutive_irrelevant ({self.params['consecutive']} in a row, no recall "
                    f"guarantee): {'met' if self.met else 'not met'}: the last {int(self.estimate)} records "
                    f"screened were irrelevant, {self.screened} of {self.total} screened")
        else:
            head = (f"stopping rule fixed_fraction ({self.params['fraction']:g} of the records, no recall "
                    f"guarantee): {'met' if self.met else 'not met'}: {self.estimate:.1%} screened "
                    f"({self.screened} of {self.total})")
        if self.met:
            return head + f"; the {self.unscreened} unscreened records may be left unscreened"
        if self.unscreened == 0:
            return head
        take = []
        if self.more_needed is not None and self.rule == "fixed_fraction":
            take.append(f"{self.more_needed} more records screened")
        elif self.more_needed is not None:
            take.append(f"{self.more_needed} more records in ranked order, all irrelevant")
        if self.random_sample is not None:
            take.append(f"a random sample of {self.random_sample} of the {self.unscreened} remaining records "
                        "with none relevant")
        if not take:
            return head + "; not reachable before every record is screened"
        return head + "; it would take " + " or ".join(take)


def _alpha(confidence: float) -> float:
    """1 - confidence without the float residue (1 - 0.95 is 0.05000000000000004)."""
    return round(1.0 - confidence, 12)


def _labels(labels: Sequence[int]) -> np.ndarray:
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 (irrelevant) or 1 (relevant)")
    return y


def _check_total(y: np.ndarray, total: int) -> None:
    if int(total) != total or total < len(y):
        raise ValueError(f"total {total!r}: must be a whole number >= the {len(y)} records screened")


def hypergeometric_p(labels: Sequence[int], total: int, target_recall: float = 0.95) -> float:
    """The p-value of H0 "recall < target_recall" after screening ``labels`` (in the order
    screened) out of ``total`` records (module docstring). 1.0 when nothing was screened.

    Computed on ``r + 1`` of the ``n`` suffixes, with the same minimum as over all of them: among
    the suffixes holding the same number ``k`` of relevant records, ``K`` is the same and the
    number of unscreened records ``U`` too, and a longer one (one more irrelevant record in the
    sample, one more in the urn) has the smaller p-value. (P(X <= k) = P(at least K - k of the K
    relevant records fall among the U unscreened ones), which shrinks as the urn grows around
    the same U.) So the longest suffix of each ``k`` suffices; ``tests/screen/test_stopping.py``
    checks the result against the plain minimum over every suffix."""
    from scipy.stats import hypergeom

    y = _labels(labels)
    _check_total(y, total)
    if not 0 < target_recall < 1:
        raise ValueError(f"target recall {target_recall!r}: must be between 0 and 1 (exclusive)")
    n_seen = len(y)
    if n_seen == 0:
        return 1.0
    r_seen = int(y.sum())
    ones = np.flatnonzero(y == 1)  # positions of the relevant records
    # the longest suffix with k relevant records starts just after the (k+1)-th relevant record
    # from the end (k = 0 .. r - 1), or at the first record (k = r)
    starts = np.concatenate([ones[::-1] + 1, [0]])
    k = np.arange(r_seen + 1)
    n = n_seen - starts
    keep = n > 0
    k, n = k[keep], n[keep]
    urn = total - (n_seen - n)  # the last n screened plus every unscreened record
    k_h0 = np.floor(r_seen / target_recall - (r_seen - k) + 1).astype(np.int64)
    ok = k_h0 <= urn  # H0 possible at all for this urn
    if not ok.any():
        return 1.0
    p = hypergeom.cdf(k[ok], urn[ok], k_h0[ok], n[ok])
    return float(min(1.0, max(0.0, np.nanmin(p)))) if np.isfinite(p).any() else 1.0


def random_sample_size(relevant_seen: int, unscreened: int, target_recall: float, confidence: float) -> int | None:
    """Smallest size of a uniform random sample of the ``unscreened`` records that, holding no
    relevant record, rejects H0 "recall < target" at ``confidence`` (the 2020 paper's random
    sampling phase: K = floor(r / τ - r + 1) relevant records must remain under H0, p =
    P(0 relevant in the sample)). 0 when H0 is already impossible (fewer records left than K);
    None when no record is left."""
    from scipy.stats import hypergeom

    if unscreened <= 0:
        return None
    k_h0 = math.floor(relevant_seen / target_recall - relevant_seen + 1)
    if k_h0 > unscreened:
        return 0
    alpha = _alpha(confidence)
    lo, hi = 1, unscreened  # a sample of every record gives P = 0 < alpha
    while lo < hi:
        mid = (lo + hi) // 2
        if hypergeom.cdf(0, unscreened, k_h0, mid) < alpha:
            hi = mid
        else:
            lo = mid + 1
    return lo


def hypergeometric(labels: Sequence[int], total: int, target_recall: float = 0.95,
                   confidence: float = 0.95) -> StoppingResult:
    """The hypergeometric rule on a screening state (labels in the order screened).

    Never met before a record was screened. When every record is screened the recall is 1 by
    definition and the rule is met (p = 0)."""
    y = _labels(labels)
    _check_total(y, total)
    cfg = StoppingConfig("hypergeometric", target_recall, confidence)
    alpha = _alpha(cfg.confidence)
    r = int(y.sum())
    left = total - len(y)
    if len(y) == 0:
        p = 1.0
    elif left == 0:
        p = 0.0
    else:
        p = hypergeometric_p(y, total, target_recall)
    met = len(y) > 0 and p < alpha
    more = 0 if met else _more_irrelevant(y, total, target_recall, alpha)
    sample = None if met else random_sample_size(r, left, target_recall, confidence)
    return StoppingResult("hypergeometric", target_recall, confidence, met, len(y), int(total), r, p, alpha,
                          more, sample)


def _more_irrelevant(y: np.ndarray, total: int, target_recall: float, alpha: float) -> int | None:
    """Fewest further irrelevant records (in ranked order) after which p < alpha; None if even
    screening all but one remaining record would not do. Appending irrelevant records lowers
    every suffix's p-value (more draws, same urn, same K), so a binary search finds it."""
    left = total - len(y)
    if left <= 1:
        return None if left == 1 else 0

    def meets(m: int) -> bool:
        return hypergeometric_p(np.concatenate([y, np.zeros(m, dtype=np.int64)]), total, target_recall) < alpha

    if not meets(left - 1):
        return None
    lo, hi = 1, left - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if meets(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def consecutive_irrelevant(labels: Sequence[int], total: int, consecutive: int = DEFAULTS["consecutive"],
                           target_recall: float = 0.95) -> StoppingResult:
    """Met when the last ``consecutive`` records screened were all irrelevant."""
    y = _labels(labels)
    _check_total(y, total)
    StoppingConfig("consecutive_irrelevant", target_recall, consecutive=consecutive)
    ones = np.flatnonzero(y == 1)
    run = len(y) - (int(ones[-1]) + 1 if len(ones) else 0)
    met = run >= consecutive or (len(y) == total and len(y) > 0)
    left = total - len(y)
    need = consecutive - run
    more = 0 if met else (need if need <= left else None)
    return StoppingResult("consecutive_irrelevant", target_recall, None, met, len(y), int(total), int(y.sum()),
                          float(run), float(consecutive), more, params={"consecutive": int(consecutive)})


def fixed_fraction(labels: Sequence[int], total: int, fraction: float = DEFAULTS["fraction"],
                   target_recall: float = 0.95) -> StoppingResult:
    """Met once ``fraction`` of the ``total`` records are screened."""
    y = _labels(labels)
    _check_total(y, total)
    StoppingConfig("fixed_fraction", target_recall, fraction=fraction)
    need = max(0, math.ceil(fraction * total - 1e-9) - len(y))
    met = len(y) > 0 and need == 0
    share = len(y) / total if total else 0.0
    return StoppingResult("fixed_fraction", target_recall, None, met, len(y), int(total), int(y.sum()), share,
                          float(fraction), 0 if met else max(need, 1), params={"fraction": float(fraction)})


def evaluate(labels: Sequence[int], total: int, config: StoppingConfig) -> StoppingResult:
    """The configured rule on a screening state."""
    if config.rule == "random_sample":
        raise ValueError("stopping rule random_sample: decision files do not say which records were drawn at "
                         "random; use it in simulation (python -m reprisma.screen simulate --stopping random_sample)")
    if config.rule == "hypergeometric":
        return hypergeometric(labels, total, config.target_recall, config.confidence)
    if config.rule == "consecutive_irrelevant":
        return consecutive_irrelevant(labels, total, config.consecutive, config.target_recall)
    return fixed_fraction(labels, total, config.fraction, config.target_recall)


def first_stop(labels_in_order: Sequence[int], config: StoppingConfig, start: int = 1) -> int:
    """Records screened when the rule first says stop, replaying a complete screening order
    (``labels_in_order`` holds every record's label). Checked after every record from ``start``
    on; ``len(labels_in_order)`` when it never says stop before the end."""
    y = _labels(labels_in_order)
    total = len(y)
    if config.rule == "random_sample":
        return random_sample_stop(y, config, start=start)[0]
    if config.rule == "fixed_fraction":
        return max(start, min(total, math.ceil(config.fraction * total - 1e-9)), 1) if total else 0
    if config.rule == "consecutive_irrelevant":
        run = 0
        for i, v in enumerate(y, start=1):
            run = 0 if v else run + 1
            if i >= start and run >= config.consecutive:
                return i
        return total
    # Between two relevant records p only falls (appending an irrelevant record lowers it), so
    # check the end of each such block and search inside the first block whose end is below.
    alpha = _alpha(config.confidence)
    ones = np.flatnonzero(y == 1)
    ends = sorted({int(j) for j in ones if j > 0} | {total - 1})  # prefix lengths ending a block

    def below(m: int) -> bool:
        return hypergeometric_p(y[:m], total, config.target_recall) < alpha

    lo = max(1, start)
    for end in ends:
        if end < lo:
            continue
        if below(end):
            a, b = lo, end
            while a < b:
                mid = (a + b) // 2
                if below(mid):
                    b = mid
                else:
                    a = mid + 1
            return a
        lo = end + 1
    return total


def screening_order(decisions, ta_final, screened_ids) -> list[int]:
    """Labels (1 = include or maybe, 0 = exclude) of the records with a final title/abstract
    decision, in the order they were screened, for the stopping rules of a real review.

    A record's time is the date of its last title/abstract row. Decision files keep dates, not the
    order within a day (an import writes its rows sorted by record id), so within a day the
    irrelevant records come first and the relevant ones last: the order that gives the
    hypergeometric rule its largest p-value (relevant records found late are evidence that more
    remain), i.e. the conservative reading of what the files say. Pending records (conflicts,
    awaiting a second reviewer) count as not screened yet."""
    ids = set(screened_ids)
    final = ta_final[(ta_final["decision"] != "pending") & ta_final["record_id"].isin(ids)]
    if final.empty:
        return []
    ta_rows = decisions[decisions["stage"] == "title_abstract"]
    last = ta_rows.groupby("record_id")["date"].max().astype(str).to_dict()
    rows = sorted((last.get(rid, ""), int(d in ("include", "maybe")), rid)
                  for rid, d in zip(final["record_id"], final["decision"]))
    return [label for _, label, _ in rows]


def screening_stopping(decisions, ta_final, screened_ids, cfg: dict | None) -> dict:
    """The protocol's stopping rule on the title/abstract decisions so far: the
    :class:`StoppingResult` as a dict, its sentence, and ``stopped``: true when the protocol
    declares that screening stopped (``apply: true``) and the rule is met."""
    config = StoppingConfig.from_protocol(cfg)
    total = len(set(screened_ids))
    labels = screening_order(decisions, ta_final, screened_ids)
    res = evaluate(labels, total, config)
    return {**res.to_dict(), "sentence": res.sentence(), "apply": config.apply,
            "stopped": bool(config.apply and res.met)}


def random_sample_stop(labels_in_order: Sequence[int], config: StoppingConfig,
                       start: int = 1) -> tuple[int, int, int]:
    """The 2020 paper's procedure with random sampling, replayed on a complete screening order:
    screen in ranked order until ``config.consecutive`` irrelevant records in a row (the switch
    point, fixed before any record is drawn), then draw the remaining records uniformly at random
    (``config.seed``) and, after every draw, test H0 "recall < target" on that random sample
    alone: with ``r_al`` relevant records found before the switch and ``k`` in the ``n`` drawn,
    H0 needs ``K = floor((r_al + k) / τ - r_al + 1)`` relevant among the ``U`` records left at the
    switch, and p = P(X <= k) for X ~ Hypergeometric(U, K, n). Stop at p < 1 - confidence. Here
    the sample is random, so the published guarantee holds exactly: recall >= τ with probability
    >= confidence. Returns (records screened at the stop, the switch point, relevant records found
    by then: before the switch plus in the sample); the stop is the number of records when no
    sample ever rejects H0 (everything screened)."""
    from scipy.stats import hypergeom

    y = _labels(labels_in_order)
    total = len(y)
    switch_cfg = StoppingConfig("consecutive_irrelevant", config.target_recall, consecutive=config.consecutive)
    switch = first_stop(y, switch_cfg, start=start)
    if switch >= total:
        return total, total, int(y.sum())
    r_al = int(y[:switch].sum())
    rest = y[switch:]
    u = len(rest)
    drawn = rest[np.random.default_rng(config.seed).permutation(u)]
    k = np.cumsum(drawn)
    n = np.arange(1, u + 1)
    k_h0 = np.floor((r_al + k) / config.target_recall - r_al + 1).astype(np.int64)
    possible = k_h0 <= u
    p = np.zeros(u)
    p[possible] = hypergeom.cdf(k[possible], u, k_h0[possible], n[possible])
    below = np.flatnonzero(p < _alpha(config.confidence))
    if not len(below):
        return total, switch, int(y.sum())
    return switch + int(below[0]) + 1, switch, r_al + int(k[below[0]])
