"""Exports for manuscripts: prisma.png (300 dpi) and prisma.pdf rendered by CairoSVG from the
same SVG, byte-identical across runs; the PRISMA-S search appendix in Markdown; the workflow
lists every file the report stage writes."""

import io
import re
from pathlib import Path

from PIL import Image

from reprisma.report import REPORT_FILES, build_report, render_prisma_svg
from reprisma.report.appendix import search_appendix_md
from reprisma.report.images import svg_to_pdf, svg_to_png
from reprisma.report.render import provenance_of

PROJECT = Path(__file__).resolve().parents[2]


def test_png_and_pdf_open_and_are_byte_stable(example_run, tmp_path):
    protocol, cap, d = example_run
    screening = d["screening"]
    runs = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        build_report(protocol, cap, d["counts"], d["records"], d["dedup"], screening, out,
                     clusters=d["clusters"], eligibility=d["eligibility"])
        runs.append({n: (out / n).read_bytes() for n in ("prisma.svg", "prisma.png", "prisma.pdf")})
    assert runs[0] == runs[1]
    svg, png, pdf = runs[0]["prisma.svg"], runs[0]["prisma.png"], runs[0]["prisma.pdf"]
    assert svg.decode("utf-8") == render_prisma_svg(d["counts"])
    img = Image.open(io.BytesIO(png))
    img.load()
    width = int(re.search(rb'width="(\d+)"', svg).group(1))
    assert img.format == "PNG" and img.size[0] == round(width * 300 / 96)
    assert tuple(round(x) for x in img.info["dpi"]) == (300, 300)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    # the dates are the capture's, not the time of rendering
    stamp = d["counts"]["capture"]["finished"].replace("-", "").replace(":", "").replace("T", "")
    assert re.findall(rb"/CreationDate \(([^)]*)\)", pdf) == [stamp.encode()]
    assert re.findall(rb"/ModDate \(([^)]*)\)", pdf) == [stamp.encode()]


def test_pdf_date_follows_the_given_date(example_run):
    _, _, d = example_run
    svg = render_prisma_svg(d["counts"])
    a = svg_to_pdf(svg, title="t", date="2026-01-02T03:04:05Z")
    assert b"/CreationDate (20260102030405Z)" in a
    assert a == svg_to_pdf(svg, title="t", date="2026-01-02T03:04:05Z")
    assert svg_to_png(svg, dpi=96) != svg_to_png(svg)


def test_search_appendix_prisma_s(example_run):
    protocol, cap, d = example_run
    md = search_appendix_md(protocol.config, d["counts"], provenance_of(cap.manifest, cap.manifest_sha256))
    assert md.startswith("# Search appendix: ")
    assert "| Search | Database | Interface |" in md
    for s in d["counts"]["searches"]:
        sec = md[md.index(f"### {s['search_id']} ("):]
        sec = re.split(r"\n#{2,3} ", sec[4:])[0]
        iface = "NCBI E-utilities esearch/efetch" if s["source"] == "pubmed" else "ClinicalTrials.gov API v2"
        assert f"- Interface: {iface}" in sec
        assert f"- Search as sent: `{' '.join(s['query'].split())}`" in sec
        assert f"- Date run: {s['date_run']}; count reported by the service: {s['count_reported_by_service']:,}; " \
               f"records received: {s['records_received']:,}" in sec
        assert "- Limits: " in sec
    assert "language: english ([la])" in md and "overall status: COMPLETED" in md
    assert "living-review update window" in md
    assert "Example data, not a search result" in md
    assert "## Deduplication" in md and "## Records marked as ineligible by automation" in md


def test_workflow_lists_every_report_file():
    """workflow/rules/common.smk's REPORT_FILES (the rule's outputs) equals what build_report writes."""
    text = (PROJECT / "workflow" / "rules" / "common.smk").read_text(encoding="utf-8")
    block = text[text.index("REPORT_FILES = ["):text.index("SCREENING_FILES")]
    names = re.findall(r'"([a-z0-9_]+\.(?:html|svg|png|pdf|json|csv|md|ris))"', block)
    records = re.findall(r'"([a-z_]+)"', block[block.index("records/"):])
    listed = [n for n in names] + [f"records/{n}.csv" for n in records]
    assert sorted(listed) == sorted(REPORT_FILES)
