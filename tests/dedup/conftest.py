import pytest

from dedup_data import DATASETS, read_sample


@pytest.fixture(scope="session")
def samples() -> dict:
    return {name: read_sample(name) for name in DATASETS}


@pytest.fixture(scope="session")
def results(samples):
    from reprisma.dedup import deduplicate

    return {name: deduplicate(df) for name, df in samples.items()}
