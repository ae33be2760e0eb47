"""Property tests (hypothesis) on real records: deterministic, independent of input order, idempotent."""
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reprisma.dedup import deduplicate

from dedup_data import DATASETS, read_sample

# One pool of real rows from all samples (ids prefixed so they stay unique; columns unioned).
_frames = []
for _name in DATASETS:
    _df = read_sample(_name)
    _df = _df.assign(ID=_name[:4] + ":" + _df["ID"])
    _frames.append(_df)
POOL = pd.concat(_frames, ignore_index=True).fillna("")

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def as_sets(result):
    return sorted(tuple(g) for g in result.groups())


rows = st.lists(st.integers(0, len(POOL) - 1), min_size=2, max_size=40, unique=True)


@SETTINGS
@given(rows, st.randoms(use_true_random=False))
def test_independent_of_input_order(idx, rnd):
    df = POOL.iloc[idx].reset_index(drop=True)
    shuffled = df.sample(frac=1.0, random_state=rnd.randrange(2**31)).reset_index(drop=True)
    a, b = deduplicate(df), deduplicate(shuffled)
    assert as_sets(a) == as_sets(b)
    assert a.explanations.equals(b.explanations)
    assert a.maybe_pairs.equals(b.maybe_pairs)
    assert list(a.representatives["ID"]) == list(b.representatives["ID"])


@SETTINGS
@given(rows)
def test_deterministic(idx):
    df = POOL.iloc[idx].reset_index(drop=True)
    a, b = deduplicate(df), deduplicate(df.copy())
    assert as_sets(a) == as_sets(b)
    assert a.clusters.equals(b.clusters)


@SETTINGS
@given(rows)
def test_idempotent(idx):
    df = POOL.iloc[idx].reset_index(drop=True)
    first = deduplicate(df)
    reps = first.representatives.drop(columns=["cluster_id", "merged_ids", "n_records"])
    again = deduplicate(reps)
    assert again.groups() == []


def test_whole_pool_idempotent():
    first = deduplicate(POOL)
    assert first.groups()
    reps = first.representatives.drop(columns=["cluster_id", "merged_ids", "n_records"])
    assert deduplicate(reps).groups() == []
