"""PRISMA 2020 counts studies, not reports: two reports of one registered trial are one study.
Uses the records of the shipped example snapshot (real PubMed records)."""

import pytest

from reprisma.dedup import pipeline_rows
from reprisma.dedup.study_links import study_ids
from reprisma.protocol import load_protocol
from reprisma.replay import capture_records, open_capture
from tests.workflow.conftest import PROJECT


@pytest.fixture(scope="module")
def example():
    protocol = load_protocol(PROJECT / "config" / "config.yaml")
    records = capture_records(open_capture(protocol, PROJECT / "snapshots"))
    return records, pipeline_rows(records, protocol.config["dedup"]["overrides"])[0]


def test_reports_of_one_trial_are_one_study(example):
    records, clusters = example
    by_nct = {}
    for r in records:
        for nct in r["nct_ids"]:
            by_nct.setdefault(nct, []).append(r["record_id"])
    nct, reports = next((k, v) for k, v in sorted(by_nct.items()) if len(v) == 2)
    assert len(study_ids(records, clusters, reports)) == 1
    lone = next(r["record_id"] for r in records if not r["nct_ids"])
    assert len(study_ids(records, clusters, reports + [lone])) == 2
    assert len(study_ids(records, clusters, [])) == 0
