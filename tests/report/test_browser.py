"""The HTML report in a real headless Chromium: the diagram shows, the text is there, nothing
is fetched from the network, no console errors."""

import shutil
from pathlib import Path

import pytest

from reprisma.report import build_report
from reprisma.report import render
from tests.report.conftest import LISTED

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Debian chromium not installed (make test installs it: scripts/install_browser.sh)")]


def test_report_renders_in_chromium(example_run, conflict_screening, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    protocol, cap, d = example_run
    screening, ids = conflict_screening  # with unresolved conflicts, so the report lists them
    monkeypatch.setattr(render, "CONFLICTS_LISTED", LISTED)
    build_report(protocol, cap, d["counts"], d["records"], d["dedup"], screening, tmp_path,
                 clusters=d["clusters"], eligibility=d["eligibility"])
    page_url = (tmp_path / "report.html").as_uri()
    requests, errors = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_url)
        svg = page.locator("#prisma svg")
        box = svg.bounding_box()
        assert box and box["width"] > 400 and box["height"] > 300
        screened = d["counts"]["prisma"]["screening"]["records_screened"]
        assert page.locator("#prisma svg text", has_text=f"Records screened").first.is_visible()
        assert f"Records screened (n\u00a0=\u00a0{screened:,})" in page.locator("#prisma svg").text_content()
        assert page.locator("#example-banner").is_visible()
        conflicts = page.locator("#conflicts-table tbody tr")
        assert conflicts.count() == LISTED
        assert conflicts.first.is_visible()
        assert ids[0] in conflicts.first.text_content() and "ana: include" in conflicts.first.text_content()
        # every box's text fits inside its box
        overflow = page.evaluate("""() => [...document.querySelectorAll('g.prisma-box')].filter(g => {
            const r = g.querySelector('rect').getBBox();
            return [...g.querySelectorAll('text')].some(t => { const b = t.getBBox();
              return b.x < r.x || b.x + b.width > r.x + r.width + 0.5 || b.y + b.height > r.y + r.height + 0.5; });
          }).map(g => g.dataset.box)""")
        assert overflow == []
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert requests == [page_url]
    assert errors == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
