"""Every stage in memory, composed as the workflow chains them (used by verify to re-derive each
count from the raw snapshot, and by tests). Composition only: each stage's logic lives in its
package, and the Snakemake rules reach each stage through ``reprisma.cli``, not through here.
"""

from __future__ import annotations

from pathlib import Path

from reprisma.counts import count_capture
from reprisma.dedup import pipeline_rows, summary
from reprisma.protocol import Protocol
from reprisma.refresh import compare
from reprisma.replay import Capture, capture_records
from reprisma.screen.eligibility import eligibility_rows
from reprisma.screen.stage import decision_files, screen_records


def derive_all(protocol: Protocol, capture: Capture, base: Path = Path(".")) -> dict:
    """Every stage in memory: records, refresh, clusters, dedup summary, eligibility, screening
    (its ledger, as screening.json holds it; its conflicts and ranking apart) and counts."""
    import pandas as pd

    records = capture_records(capture)
    refresh = compare(protocol, capture, records, capture.directory.parent.parent)
    clusters, dedup_result = pipeline_rows(records, protocol.config["dedup"]["overrides"])
    eligibility = eligibility_rows(records, clusters, protocol, base, refresh)
    screened = screen_records(records, clusters, eligibility, protocol, decision_files(protocol, base), refresh, base)
    counts = count_capture(protocol, capture, records, clusters, eligibility, screened.ledger, refresh)
    return {"records": records, "refresh": refresh, "clusters": clusters,
            "dedup": summary(dedup_result, pd.DataFrame(records)), "eligibility": eligibility,
            "screening": screened.ledger, "conflicts": screened.conflicts, "ranking": screened.ranking,
            "counts": counts}
