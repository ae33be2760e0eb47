"""The report stage: the HTML report, the PRISMA 2020 diagram (SVG, PNG, PDF), the search
appendix, the record lists behind every box, and files for other tools."""

from __future__ import annotations

from pathlib import Path

from reprisma.report.appendix import search_appendix_md
from reprisma.report.diagram import render_prisma_svg
from reprisma.report.exports import included_csv, included_ris, prisma_template_csv
from reprisma.report.images import svg_to_pdf, svg_to_png
from reprisma.report.charts import (render_overlap_svg, render_progress_svg, render_years_svg, search_overlap,
                                    years_per_search)
from reprisma.report.record_lists import RecordListError, check_lists, lists_csv, record_lists
from reprisma.report.render import provenance_of, render_provenance, render_report
from reprisma.snapshot import atomic_write_bytes, atomic_write_text, dumps_json

__all__ = ["build_report", "render_prisma_svg", "render_report", "prisma_template_csv", "included_csv",
           "included_ris", "REPORT_FILES"]

# every file build_report writes, relative to its outdir (workflow/rules/common.smk lists the same)
REPORT_FILES = ["report.html", "prisma.svg", "prisma.png", "prisma.pdf", "counts.json", "prisma2020.csv",
                "search_appendix.md", "included.csv", "included.ris",
                *[f"records/{name}.csv" for name in
                  ("identified", "duplicates_removed", "removed_by_automation", "removed_other_reasons", "screened",
                   "excluded_title_abstract", "awaiting_title_abstract", "sought", "not_retrieved", "assessed",
                   "excluded_full_text", "awaiting_full_text", "included")]]


def _studies(rows: list[dict]) -> list[dict]:
    """Included-list rows grouped by study: [{study_id, reports: [row, ...]}], in study order."""
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["study_id"], []).append(r)
    return [{"study_id": k, "reports": v} for k, v in out.items()]


def charts(counts: dict, records: list[dict], clusters: list[dict], screening: dict) -> dict[str, str]:
    """The report's charts as inline SVG: records per publication year per search, the overlap
    between searches, screening progress at both stages (screening.json's ``progress``)."""
    scr = counts["prisma"]["screening"]
    return {"years": render_years_svg(years_per_search(records, counts)),
            "overlap": render_overlap_svg(search_overlap(records, clusters, counts),
                                          [s["search_id"] for s in counts["searches"]]),
            "progress": render_progress_svg(screening.get("progress") or {},
                                            {"title_abstract": scr["records_screened"],
                                             "full_text": scr["reports_sought"]})}


def build_report(protocol, capture, counts: dict, records: list[dict], dedup: dict, screening: dict, outdir: Path,
                 *, clusters: list[dict], eligibility: list[dict], command: str | None = None) -> None:
    """Write every file of :data:`REPORT_FILES` into ``outdir``. The record lists are checked
    against the diagram's boxes first; a disagreement raises :class:`RecordListError` and writes
    nothing."""
    by_id = {r["record_id"]: r for r in records}
    included = [by_id[i] for i in screening.get("included_record_ids", [])]
    lists = record_lists(protocol, counts, records, clusters, eligibility, screening.get("decisions_files") or [])
    problems = check_lists(counts, lists)
    if problems:
        raise RecordListError("record lists disagree with the diagram: " + "; ".join(problems))
    provenance = provenance_of(capture.manifest, capture.manifest_sha256)
    rendered = render_provenance(protocol, screening, command)
    svg = render_prisma_svg(counts)
    html = render_report(protocol.config, counts, provenance, included,
                         dedup | {"found_twice": sum(1 for r in records if len(r["search_ids"]) > 1)},
                         screening, rendered=rendered, lists=lists, studies=_studies(lists["included"]),
                         charts=charts(counts, records, clusters, screening))
    title = f"PRISMA 2020 flow diagram: {protocol.config['protocol']['title']}"
    pdf = svg_to_pdf(svg, title=title, date=counts["capture"]["finished"])
    png = svg_to_png(svg)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(outdir / "prisma.svg", svg)
    atomic_write_bytes(outdir / "prisma.png", png)
    atomic_write_bytes(outdir / "prisma.pdf", pdf)
    atomic_write_text(outdir / "counts.json", dumps_json(counts))
    atomic_write_text(outdir / "prisma2020.csv", prisma_template_csv(counts))
    atomic_write_text(outdir / "search_appendix.md", search_appendix_md(protocol.config, counts, provenance))
    atomic_write_text(outdir / "included.csv", included_csv(included))
    atomic_write_text(outdir / "included.ris", included_ris(included))
    for path, text in lists_csv(lists).items():
        atomic_write_text(outdir / path, text)
    atomic_write_text(outdir / "report.html", html)
