"""The report stage: the HTML report, the PRISMA 2020 SVG, and files for other tools."""

from __future__ import annotations

from pathlib import Path

from reprisma.report.diagram import render_prisma_svg
from reprisma.report.exports import included_csv, included_ris, prisma_template_csv
from reprisma.report.render import provenance_of, render_report
from reprisma.snapshot import atomic_write_text, dumps_json

__all__ = ["build_report", "render_prisma_svg", "render_report", "prisma_template_csv", "included_csv",
           "included_ris"]


def build_report(protocol, capture, counts: dict, records: list[dict], dedup: dict,
                 screening: dict, outdir: Path) -> None:
    """Write report.html, prisma.svg, counts.json, prisma2020.csv, included.csv, included.ris."""
    by_id = {r["record_id"]: r for r in records}
    included = [by_id[i] for i in screening.get("included_record_ids", [])]
    html = render_report(protocol.config, counts, provenance_of(capture.manifest, capture.manifest_sha256),
                         included, dedup | {"found_twice": sum(1 for r in records if len(r["search_ids"]) > 1)},
                         screening)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(outdir / "prisma.svg", render_prisma_svg(counts))
    atomic_write_text(outdir / "counts.json", dumps_json(counts))
    atomic_write_text(outdir / "prisma2020.csv", prisma_template_csv(counts))
    atomic_write_text(outdir / "included.csv", included_csv(included))
    atomic_write_text(outdir / "included.ris", included_ris(included))
    atomic_write_text(outdir / "report.html", html)
