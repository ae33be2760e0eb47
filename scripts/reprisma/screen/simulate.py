"""Simulated screening (active learning) on a fully labelled table.

The simulation replays a review whose decisions are known: it starts from a prior of one relevant
and one irrelevant record chosen by the seed, then repeatedly ranks the unscreened records with
:class:`reprisma.screen.ranking.Ranker`, "screens" the top one (reveals its label) and goes on
until every record is screened. The order in which records were screened is the result; the
metrics of :mod:`reprisma.screen.metrics` are computed from it.

Retraining schedule (the one difference in procedure from ASReview LAB, which by default retrains
after every single label): the model is retrained after each batch of ``k`` labels with
``k = max(1, n_labelled // batch_divisor)`` (default divisor 50): one label at a time for the first
100 labels, then batches growing by about 2 % of the screened set (about 240 retrains for 2,000
records instead of 2,000). Within a batch records are taken in the order of the last ranking. Once
every relevant record has been found the remaining records keep the last ranking (this cannot
change any metric: recall is already 100 %).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, TextIO

import numpy as np

from reprisma.screen.ranking import Ranker, RankerConfig, record_text

__all__ = [
    "LabelledSet",
    "read_labelled",
    "choose_prior",
    "simulate",
    "write_ranking",
    "stop_result",
]


@dataclass
class LabelledSet:
    """A labelled screening table: ids, texts and 0/1 labels, in file order."""

    ids: list[str]
    texts: list[str]
    labels: np.ndarray
    path: str = ""


def read_labelled(path: str | Path, label: str) -> LabelledSet:
    """Read a CSV with ``title``, ``abstract`` and ``label`` columns.

    Ids come from ``record_id``, else ``pubmedID``, else the 0-based row number (ASReview's
    record ids). Labels must be 0 or 1 on every row; a bad value is reported with its line.
    """
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # pandas gives the position in its message
        raise ValueError(f"{path}: cannot read CSV: {exc}") from exc
    missing = [c for c in ("title", label) if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: line 1: missing column(s) {', '.join(missing)} (have {', '.join(df.columns)})")
    if "record_id" in df.columns:
        ids = df["record_id"].tolist()
    elif "pubmedID" in df.columns:
        ids = df["pubmedID"].tolist()
    else:
        ids = [str(i) for i in range(len(df))]
    labels = np.zeros(len(df), dtype=int)
    for i, value in enumerate(df[label].tolist()):
        v = value.strip()
        if v in ("1", "1.0"):
            labels[i] = 1
        elif v in ("0", "0.0"):
            labels[i] = 0
        else:
            raise ValueError(
                f"{path}: line {i + 2}: column {label!r} must be 0 or 1, got {value!r}"
            )
    seen: dict[str, int] = {}
    for i, rid in enumerate(ids):
        if rid in seen:
            raise ValueError(f"{path}: line {i + 2}: duplicate id {rid!r} (first on line {seen[rid]})")
        seen[rid] = i + 2
    abstracts = df["abstract"].tolist() if "abstract" in df.columns else [""] * len(df)
    texts = [record_text(t, a) for t, a in zip(df["title"].tolist(), abstracts)]
    return LabelledSet(ids=ids, texts=texts, labels=labels, path=str(path))


def choose_prior(labels: Sequence[int], seed: int) -> tuple[int, int]:
    """Row positions of one relevant and one irrelevant record, chosen by ``seed``."""
    y = np.asarray(labels, dtype=int)
    pos = np.flatnonzero(y == 1)
    neg = np.flatnonzero(y == 0)
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("need at least one relevant and one irrelevant record for the prior")
    rng = np.random.default_rng(seed)
    return int(rng.choice(pos)), int(rng.choice(neg))


def simulate(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    seed: int = 0,
    prior: Sequence[int] | None = None,
    batch_divisor: int = 50,
    config: RankerConfig | None = None,
    progress: TextIO | None = None,
) -> list[int]:
    """Simulate screening; return the row positions in the order they were screened.

    The prior records come first (in the order given). ``prior`` defaults to
    :func:`choose_prior` with ``seed``.
    """
    y = np.asarray(labels, dtype=int)
    n = len(y)
    if len(texts) != n:
        raise ValueError("texts and labels differ in length")
    prior = list(choose_prior(y, seed) if prior is None else prior)
    ranker = Ranker(texts, seed=seed, config=config)
    screened: list[int] = list(prior)
    is_screened = np.zeros(n, dtype=bool)
    is_screened[screened] = True
    n_rel = int(y.sum())
    found = int(y[screened].sum())
    retrains = 0
    t0 = time.monotonic()
    next_report = 0.1
    while len(screened) < n:
        candidates = np.flatnonzero(~is_screened)
        if found < n_rel or retrains == 0:
            scores = ranker.scores(screened, y[screened])
            retrains += 1
            k = max(1, len(screened) // batch_divisor)
        else:
            k = len(candidates)  # all relevant found: keep the last ranking
        order = ranker.order(scores, candidates)[:k]
        for i in order:
            screened.append(int(i))
            is_screened[i] = True
            found += int(y[i])
        if progress is not None and len(screened) / n >= next_report:
            progress.write(
                f"simulate: {len(screened)}/{n} screened, {found}/{n_rel} relevant found, "
                f"{retrains} retrains, {time.monotonic() - t0:.1f}s\n"
            )
            progress.flush()
            while next_report <= len(screened) / n:
                next_report += 0.1
    return screened


def write_ranking(path: str | Path, data: LabelledSet, order: Sequence[int]) -> None:
    """Write ``rank,record_id,label`` (rank from 1) atomically."""
    import csv
    import io
    import os
    import tempfile

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rank", "record_id", "label"])
    for r, i in enumerate(order, start=1):
        w.writerow([r, data.ids[i], int(data.labels[i])])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(buf.getvalue())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main_simulate(args) -> int:
    data = read_labelled(args.data, args.label)
    prior = None
    if args.prior_idx:
        prior = []
        for x in args.prior_idx:
            if not x.isdigit() or int(x) >= len(data.ids):
                raise ValueError(f"--prior-idx {x!r}: not a row position of {args.data} "
                                 f"(0 to {len(data.ids) - 1}, the first data row being 0)")
            prior.append(int(x))
    elif args.prior_ids:
        where = {rid: i for i, rid in enumerate(data.ids)}
        try:
            prior = [where[x] for x in args.prior_ids]
        except KeyError as exc:
            raise ValueError(f"{args.data}: --prior-ids: unknown id {exc.args[0]!r}") from None
    if prior is not None and len(set(prior)) != len(prior):
        raise ValueError("the prior names a record twice")
    if prior is not None:
        labs = {int(data.labels[i]) for i in prior}
        if labs != {0, 1}:
            raise ValueError("the prior must contain at least one relevant and one irrelevant record")
    stop_config = _stop_config(args)
    t0 = time.monotonic()
    order = simulate(
        data.texts,
        data.labels,
        seed=args.seed,
        prior=prior,
        batch_divisor=args.batch_divisor,
        progress=sys.stderr,
    )
    write_ranking(args.out, data, order)
    if stop_config is not None:
        from reprisma.snapshot import atomic_write_text, dumps_json

        result = stop_result(data.labels[list(order)], stop_config, n_prior=len(prior) if prior else 2)
        atomic_write_text(Path(args.stop_out), dumps_json(result))
        said = (f"said stop after {result['stopped_at']}" if result["met_before_end"]
                else f"never said stop before all {result['stopped_at']}")
        sys.stderr.write(
            f"simulate: {stop_config.rule} {said} of {result['n_records']} records were screened "
            f"(recall {result['recall_at_stop']:.3f}) -> {args.stop_out}\n"
        )
    sys.stderr.write(
        f"simulate: wrote {args.out} ({len(order)} records, {time.monotonic() - t0:.1f}s)\n"
    )
    return 0


def _stop_config(args):
    """The stopping rule named on the command line (None without --stopping)."""
    from reprisma.screen.stopping import StoppingConfig

    if getattr(args, "stopping", None) is None:
        if getattr(args, "stop_out", None):
            raise ValueError("--stop-out needs --stopping RULE")
        return None
    if not args.stop_out:
        raise ValueError("--stopping needs --stop-out FILE (where the result is written)")
    return StoppingConfig(args.stopping, args.target_recall, args.confidence, args.consecutive, args.fraction,
                          seed=args.seed)


def stop_result(labels_in_order, config, n_prior: int = 2) -> dict:
    """Where ``config``'s rule first says stop on a complete simulated screening order, and the
    recall then. ``stopped_at`` counts every record screened, the prior records included (the
    rule is checked from the first record after the prior on); ``met_before_end`` is false when
    the rule never said stop before every record was screened."""
    from reprisma.screen.stopping import first_stop

    y = np.asarray(labels_in_order, dtype=int)
    n, r = len(y), int(y.sum())
    at = first_stop(y, config, start=min(n, n_prior + 1))
    found = int(y[:at].sum())
    if config.rule == "random_sample":  # the records screened after the switch are a random sample of the rest
        from reprisma.screen.stopping import random_sample_stop

        at, switched_at, found = random_sample_stop(y, config, start=min(n, n_prior + 1))
    out = {
        "rule": config.rule,
        "target_recall": config.target_recall,
        "confidence": config.confidence if config.rule in ("hypergeometric", "random_sample") else None,
        "stopped_at": int(at),
        "recall_at_stop": (found / r) if r else 1.0,
        "fraction_screened": at / n if n else 0.0,
        "met_before_end": bool(at < n),
        "target_met": bool(r == 0 or found >= config.target_recall * r),
        "n_records": n,
        "n_relevant": r,
        "n_prior": n_prior,
    }
    if config.rule in ("consecutive_irrelevant", "random_sample"):
        out["consecutive"] = config.consecutive
    if config.rule == "random_sample":
        out["switched_at"] = switched_at
        out["seed"] = config.seed
    if config.rule == "fixed_fraction":
        out["fraction"] = config.fraction
    return out
