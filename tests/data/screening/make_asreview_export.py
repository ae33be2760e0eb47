"""Make the genuine ASReview LAB exports used by tests/screen/test_interchange.py.

Run from the repository root (needs the benchmark's ASReview venv, made by
``benchmarks/screening.py``)::

    .venv/bin/python tests/data/screening/make_asreview_export.py

1. (reprisma venv) Builds record dicts from the first 12 rows of
   ``cohen2006_antihistamines_subset.csv`` and writes reprisma's export of them
   (``reprisma_export.ris`` / ``.csv``, ranked by ``rank_records`` with no decisions and the
   keyword "antihistamine").
2. (ASReview venv, ASReview LAB 3.0.8) Starts the real ASReview LAB web app in-process
   (Flask test client, no authentication), creates a project from ``reprisma_export.ris``,
   labels the first 8 records in ASReview's order (ASReview's record ids are the 0-based file positions) with the dataset's ``label_included``
   (1 relevant, 0 irrelevant) through the same HTTP API the browser uses, then downloads
   "Export dataset" as CSV and RIS: ``asreview_export.csv`` and ``asreview_export.ris``.
   The remaining 4 records stay "not seen".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
ASREVIEW_PY = REPO / "benchmarks" / ".envs" / "asreview" / "bin" / "python"


def records_from_subset(n: int = 12) -> list[dict]:
    import pandas as pd

    df = pd.read_csv(HERE / "cohen2006_antihistamines_subset.csv", dtype=str, keep_default_na=False)
    out = []
    for r in df.head(n).to_dict("records"):
        out.append(
            {
                "record_id": f"pubmed:{r['pubmedID']}",
                "pmid": r["pubmedID"],
                "title": r["title"],
                "abstract": r["abstract"] or None,
                "authors": [a.strip() for a in r["authors"].split(";") if a.strip()],
                "year": int(float(r["year"])) if r["year"] else None,
                "label_included": int(r["label_included"]),
            }
        )
    return out


def part_reprisma() -> None:
    from reprisma.screen.interchange import export_for_screening
    from reprisma.screen.ranking import rank_records

    recs = records_from_subset()
    ranking = rank_records(recs, {}, keywords=["antihistamine"], seed=0)
    export_for_screening(recs, ranking, csv_path=HERE / "reprisma_export.csv", ris_path=HERE / "reprisma_export.ris")
    labels = {r["record_id"]: r["label_included"] for r in recs}
    (HERE / ".labels.json").write_text(json.dumps(labels))


def part_asreview() -> None:
    import io

    from asreview.webapp.app import create_app

    import asreview

    import csv

    labels = json.loads((HERE / ".labels.json").read_text())
    with open(HERE / "reprisma_export.csv", encoding="utf-8", newline="") as fh:
        order = [r["record_id"] for r in csv.DictReader(fh)]
    cfg = Path(asreview.__file__).parent / "webapp" / "tests" / "config" / "no_auth_config.toml"
    app = create_app(config_path=str(cfg))
    app.config["TESTING"] = True
    with app.app_context(), app.test_client() as client:
        data = (HERE / "reprisma_export.ris").read_bytes()
        r = client.post(
            "/api/projects/create",
            data={"mode": "oracle", "file": (io.BytesIO(data), "reprisma_export.ris")},
            content_type="multipart/form-data",
        )
        assert r.status_code in (200, 201), r.data
        pid = r.json["id"]
        # ASReview numbers the records of a single dataset 0..n-1 in file order
        for asreview_id, rid in enumerate(order[:8]):
            r = client.post(
                f"/api/projects/{pid}/record/{asreview_id}",
                data={"record_id": asreview_id, "label": labels[rid], "is_prior": 0, "note": ""},
            )
            assert r.status_code in (200, 201), r.data
        for fmt in ("csv", "ris"):
            r = client.get(
                f"/api/projects/{pid}/export_dataset",
                query_string=[("format", fmt)]
                + [("collections", c) for c in ("relevant", "not_seen", "irrelevant")],
            )
            assert r.status_code == 200, r.data
            (HERE / f"asreview_export.{fmt}").write_bytes(r.data)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--asreview-part":
        part_asreview()
        return
    sys.path.insert(0, str(REPO / "scripts"))
    part_reprisma()
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, ASREVIEW_PATH=home)
        subprocess.run([str(ASREVIEW_PY), __file__, "--asreview-part"], check=True, env=env)
    (HERE / ".labels.json").unlink()


if __name__ == "__main__":
    main()
