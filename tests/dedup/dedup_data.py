"""Helpers: the real sample records of tests/data/dedup."""
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "data" / "dedup"
DATASETS = ["haematology", "cytology_screening", "respiratory", "special_cases"]


def read_sample(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}_sample.csv", dtype=str, keep_default_na=False)


def read_truth(name: str) -> list[list[str]]:
    t = pd.read_csv(DATA / f"{name}_sample_truth.csv", dtype=str)
    return [sorted(g.split(";")) for g in t["merged_ids"]]


