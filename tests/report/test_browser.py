"""The HTML report in a real headless Chromium, in every variant of the diagram (updated review,
first review, a review with decisions and pending records) at desktop and phone widths: the
diagram shows, its numbers equal counts.json, its text fits its boxes and the phase labels their
bars, the page never scrolls sideways, every box links to a record list whose length equals the
box's number, nothing is fetched from the network, no console errors; it also fits A4 and Letter
when printed."""

import copy
import csv
import re
from pathlib import Path

import pytest

from reprisma.report import build_report
from reprisma.report import render
from reprisma.report.record_lists import box_numbers
from tests.report.conftest import LISTED

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Debian chromium not installed (make test installs it: scripts/install_browser.sh)")]

WIDTHS = (1400, 390)
# printable width of A4 and Letter with the report's 12 mm side margins, in CSS pixels (96/in)
PRINT_WIDTHS = {"A4": round((210 - 24) / 25.4 * 96), "Letter": round((215.9 - 24) / 25.4 * 96)}

OVERFLOW_JS = """() => [...document.querySelectorAll('g.prisma-box')].filter(g => {
    const r = g.querySelector('rect').getBBox();
    return [...g.querySelectorAll('text')].some(t => { const b = t.getBBox();
      return b.x < r.x || b.x + b.width > r.x + r.width + 0.5 || b.y + b.height > r.y + r.height + 0.5; });
  }).map(g => g.dataset.box)"""
# a phase label is drawn rotated: its length runs along the bar's height
PHASE_JS = """() => [...document.querySelectorAll('g.prisma-phase')].filter(g => {
    const r = g.querySelector('rect').getBoundingClientRect(), t = g.querySelector('text').getBoundingClientRect();
    return t.top < r.top - 0.5 || t.bottom > r.bottom + 0.5 || t.left < r.left - 0.5 || t.right > r.right + 0.5;
  }).map(g => g.dataset.phase)"""
BOXES_JS = """() => [...document.querySelectorAll('g.prisma-box')].map(g => ({box: g.dataset.box,
    text: [...g.querySelectorAll('text')].map(t => t.textContent).join(' ').replace(/\\u00a0/g, ' '),
    links: [...g.querySelectorAll('a')].map(a => a.getAttribute('href'))}))"""


# every text of every chart inside the chart's own viewBox (an axis never clips its labels), no two
# texts of a chart overlapping, and the chart's frame inside the page
CHARTS_JS = """() => [...document.querySelectorAll('svg.chart')].flatMap(svg => {
    const vb = svg.viewBox.baseVal, out = [], boxes = [];
    for (const t of svg.querySelectorAll('text')) {
      const b = t.getBBox();
      if (b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 || b.y + b.height > vb.y + vb.height + 0.5)
        out.push(svg.getAttribute('aria-label') + ': clipped: ' + t.textContent);
      for (const o of boxes) if (b.x < o.x + o.width - 0.5 && o.x < b.x + b.width - 0.5 && b.y < o.y + o.height - 0.5 && o.y < b.y + b.height - 0.5)
        out.push(svg.getAttribute('aria-label') + ': overlap: ' + t.textContent + ' / ' + o.text);
      boxes.push({x: b.x, y: b.y, width: b.width, height: b.height, text: t.textContent});
    }
    const f = svg.parentElement.getBoundingClientRect();
    if (f.left < -0.5 || f.right > document.documentElement.clientWidth + 0.5) out.push(svg.getAttribute('aria-label') + ': frame outside the page');
    return out; })"""
# a table (reported vs reproduced, searches) fits the page without scrolling inside its frame
REPORTED_JS = """(sel) => { const t = document.querySelector(sel), w = t.closest('.table-wrap');
    return {table: t.scrollWidth - t.clientWidth, wrap: w.scrollWidth - w.clientWidth,
            right: t.getBoundingClientRect().right - document.documentElement.clientWidth}; }"""


def _check_new_sections(page, counts, where, charts=("search-years", "search-overlap")):
    """The reported-vs-reproduced section and the charts: shown, inside the page, nothing clipped."""
    assert page.locator("#reported").is_visible(), where
    for table in ("#reported-table", "#searches-table"):  # both reflow rather than scroll
        fit = page.evaluate(REPORTED_JS, table)
        assert fit["table"] <= 0 and fit["wrap"] <= 0 and fit["right"] <= 0.5, (where, table, fit)
    # at phone width each cell is prefixed with its heading (CSS ::before, not part of its text)
    shown = {r.get_attribute("data-search"): [c.strip() for c in r.locator("td").all_inner_texts()]
             for r in page.locator("#reported-table tbody tr[data-search]").all()}
    for s in counts["searches"]:
        if s["reported_in_paper"] is not None:
            cells = shown[s["search_id"]]
            assert cells[1] == f"{s['reported_in_paper']:,}" and cells[2] == f"{s['records_received']:,}", (where, cells)
            assert cells[3] == (f"{s['difference']:+,}" if s["difference"] is not None else "not comparable"), where
    for section in charts:
        assert page.locator(f"#{section} + p + .chart-frame svg.chart").is_visible(), (where, section)
    assert page.evaluate(CHARTS_JS) == [], where


def _decided(example_run, tmp_path):
    """A review with decisions: exclusions at both stages, a report not retrieved, an inclusion,
    and records still pending at both stages (two reviewers, real decision files)."""
    from reprisma.counts import count_capture
    from reprisma.screen.stage import screen_records

    protocol, cap, d = example_run
    ids = sorted(r["record_id"] for r in d["eligibility"] if r["eligible"])[:8]
    reasons = protocol.config["screening"]["exclusion_reasons"]
    rows = []
    for rev in ("ana", "ben"):
        rows += [f"{i}\ttitle_abstract\t{rev}\tinclude\t\t2026-11-2{k % 3}\n" for k, i in enumerate(ids[:6])]
        rows += [f"{i}\ttitle_abstract\t{rev}\texclude\t\t2026-11-22\n" for i in ids[6:]]
        rows += [f"{ids[0]}\tfull_text\t{rev}\texclude\t{reasons[0]}\t2026-11-23\n",
                 f"{ids[2]}\tfull_text\t{rev}\tnot_retrieved\t\t2026-11-23\n",
                 f"{ids[3]}\tfull_text\t{rev}\tinclude\t\t2026-11-23\n",
                 f"{ids[4]}\tfull_text\t{rev}\tinclude\t\t2026-11-23\n"]
    folder = tmp_path / "decisions"
    folder.mkdir()
    (folder / "d.tsv").write_text("record_id\tstage\treviewer\tdecision\treason\tdate\n" + "".join(rows),
                                  encoding="utf-8")
    screening = screen_records(d["records"], d["clusters"], d["eligibility"], protocol, [folder / "d.tsv"]).ledger
    return count_capture(protocol, cap, d["records"], d["clusters"], d["eligibility"], screening), screening


def _variants(example_run, conflict_screening, tmp_path):
    protocol, cap, d = example_run
    plain = d["screening"]
    first = copy.deepcopy(d["counts"])
    del first["prisma"]["previous"]
    decided_counts, decided_screening = _decided(example_run, tmp_path)
    from reprisma.counts import count_capture

    conflicts, _ = conflict_screening
    conflict_counts = count_capture(protocol, cap, d["records"], d["clusters"], d["eligibility"], conflicts)
    return {"updated": (d["counts"], plain), "first_review": (first, plain),
            "decided": (decided_counts, decided_screening), "conflicts": (conflict_counts, conflicts)}


def _expected_numbers(counts) -> dict:
    p = counts["prisma"]
    ident, scr, inc = p["identification"], p["screening"], p["included"]
    out = {"identified": [*ident["databases"].values(), *ident["registers"].values()],
           "removed": [ident["duplicates_removed"], ident["ineligible_by_automation"], ident["removed_other_reasons"]],
           "screened": [scr["records_screened"]], "excluded": [scr["records_excluded"]],
           "sought": [scr["reports_sought"]], "not_retrieved": [scr["reports_not_retrieved"]],
           "assessed": [scr["reports_assessed"]], "reports_excluded": list(scr["reports_excluded"].values()) or [0],
           "included": [inc["studies"], inc["reports"]]}
    if scr["records_pending"]:
        out["pending_ta"] = [scr["records_pending"]]
    if scr["reports_pending"]:
        out["pending_ft"] = [scr["reports_pending"]]
    if p.get("previous"):
        # in their units: studies and reports (a number the previous version does not report is n/a)
        prev, total = p["previous"], p["total"]
        out["previous"] = [n for n in (prev["studies"], prev["reports"]) if n is not None]
        out["total"] = [n for n in (total["studies"], total["reports"]) if n is not None]
    return out


def _rows(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as f:
        return len(list(csv.DictReader(f)))


def test_report_in_chromium_every_variant_and_width(example_run, conflict_screening, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    protocol, cap, d = example_run
    monkeypatch.setattr(render, "CONFLICTS_LISTED", LISTED)
    variants = _variants(example_run, conflict_screening, tmp_path)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, (counts, screening) in variants.items():
            out = tmp_path / name
            build_report(protocol, cap, counts, d["records"], d["dedup"], screening, out,
                         clusters=d["clusters"], eligibility=d["eligibility"])
            page_url = (out / "report.html").as_uri()
            list_numbers = {f"records/{k}.csv": v for k, v in box_numbers(counts).items()}
            for width in WIDTHS:
                where = f"{name} at {width} px"
                page = browser.new_page(viewport={"width": width, "height": 900})
                requests, errors = [], []
                page.on("request", lambda r: requests.append(r.url))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(page_url)
                svg = page.locator("#prisma svg")
                box = svg.bounding_box()
                assert box and box["height"] > 300, where
                # legible: the diagram is never drawn smaller than 60% of its size (it scrolls in its frame)
                natural = float(svg.get_attribute("width"))
                assert box["width"] >= min(natural, 0.6 * natural), where
                assert page.evaluate("document.documentElement.scrollWidth") <= width, f"sideways scroll: {where}"
                assert page.evaluate(OVERFLOW_JS) == [], where
                assert page.evaluate(PHASE_JS) == [], where
                if counts["capture"]["kind"] == "example":
                    assert page.locator("#example-banner").is_visible()
                    assert page.locator("#reported-not-reproducible").is_visible()
                _check_new_sections(page, counts, where, ("search-years", "search-overlap", "progress")
                                    if any((screening.get("progress") or {}).values()) else ("search-years", "search-overlap"))
                if name == "decided":  # both stages drawn
                    assert page.locator("#progress ~ .chart-frame g.progress-stage").count() == 2, where
                boxes = {b["box"]: b for b in page.evaluate(BOXES_JS)}
                expected = _expected_numbers(counts)
                assert set(boxes) == set(expected), where
                for key, numbers in expected.items():
                    shown = [int(n.replace(",", "")) for n in re.findall(r"\(n = ([\d,]+)\)", boxes[key]["text"])]
                    assert all(n in shown for n in numbers), (where, key, shown, numbers)
                    for href in boxes[key]["links"]:
                        target = out / href.split("#")[0]
                        assert target.is_file(), (where, key, href)
                        if href in list_numbers:  # the list has as many rows as the box says
                            assert _rows(target) == list_numbers[href], (where, key, href)
                # the same lists from the table under the diagram
                for row in page.locator("#record-lists tbody tr").all():
                    path = row.get_attribute("data-list")
                    if path in list_numbers:
                        assert _rows(out / path) == list_numbers[path], (where, path)
                page.close()
                assert requests == [page_url], where
                assert errors == [], where
            if name == "decided":  # the included studies sort by a column, each keeping its reports beneath
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(page_url)
                table = page.locator("#included-table")
                assert table.locator("tr.study").count() == counts["prisma"]["included"]["studies"] >= 2

                def order():
                    return [t.strip() for t in table.locator("tbody tr").all_text_contents()]

                before = order()
                table.locator("th", has_text="Study / report").click()
                asc = order()
                table.locator("th", has_text="Study / report").click()
                desc = order()
                assert sorted(before) == sorted(asc) == sorted(desc)
                studies = [r for r in asc if "report" in r.split("(")[-1]]
                assert studies == sorted(studies) and [r for r in desc if r in studies] == studies[::-1]
                for rows in (asc, desc):  # a study's reports stay right beneath it
                    assert "(" in rows[0] and rows[0] in studies
                page.close()
            if name == "conflicts":
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(page_url)
                assert page.locator("#conflicts-table tbody tr").count() == LISTED
                page.close()
            # printed on A4 and on Letter: nothing wider than the printable width
            for paper, px in PRINT_WIDTHS.items():
                page = browser.new_page(viewport={"width": px, "height": 1000})
                page.emulate_media(media="print")
                page.goto(page_url)
                assert page.evaluate("document.documentElement.scrollWidth") <= px, f"{name} printed on {paper}"
                assert page.locator("nav").is_hidden()
                page.pdf(path=str(out / f"print-{paper}.pdf"), format=paper, prefer_css_page_size=True)
                page.close()
                assert (out / f"print-{paper}.pdf").stat().st_size > 10_000
        browser.close()


def test_report_as_published_in_chromium(seed_run, tmp_path):
    """The protocol as the paper reports it (config/greenway2020.yaml), replayed from its example
    snapshot: the paper's numbers beside the pipeline's with their difference, the plain statement
    that the example cannot reproduce them, and the charts, at desktop and phone widths."""
    from playwright.sync_api import sync_playwright

    protocol, cap, d = seed_run
    screening = d["screening"]
    build_report(protocol, cap, d["counts"], d["records"], d["dedup"], screening, tmp_path,
                 clusters=d["clusters"], eligibility=d["eligibility"])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for width in WIDTHS:
            where = f"greenway2020 at {width} px"
            page = browser.new_page(viewport={"width": width, "height": 900})
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto((tmp_path / "report.html").as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"sideways scroll: {where}"
            assert page.locator("#reported-not-reproducible").is_visible(), where
            assert any(s["difference"] is not None for s in d["counts"]["searches"])  # same window as the paper
            _check_new_sections(page, d["counts"], where)
            assert page.locator("#seed-report").count() == 0, where  # it is the protocol as reported
            page.close()
            assert requests == [(tmp_path / "report.html").as_uri()], where
        browser.close()
