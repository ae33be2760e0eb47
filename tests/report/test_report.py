import copy
import csv
import io
import xml.etree.ElementTree as ET

import rispy
from markupsafe import escape

from reprisma.report import REPORT_FILES, build_report, included_ris, prisma_template_csv, render_prisma_svg
from reprisma.report import render
from reprisma.report.render import provenance_of, render_report
from tests.report.conftest import LISTED

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> str:
    root = ET.fromstring(svg)
    return " ".join(t.text or "" for t in root.iter(f"{SVG}text")).replace("\u00a0", " ")


def test_svg_has_every_box_count(example_run):
    _, _, d = example_run
    counts = d["counts"]
    svg = render_prisma_svg(counts)
    root = ET.fromstring(svg)
    assert root.get("viewBox") and root.get("role") == "img"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    text = _texts(svg)
    ident, scr = counts["prisma"]["identification"], counts["prisma"]["screening"]
    for name, n in ident["databases"].items():
        assert f"{name} (n = {n:,})" in text
    assert f"Duplicate records removed (n = {ident['duplicates_removed']:,})" in text
    assert f"Records screened (n = {scr['records_screened']:,})" in text
    assert f"Awaiting a title/abstract decision (n = {scr['records_pending']:,})" in text
    # the updated-review arm: the paper's numbers in their units (about 239 publications are
    # reports; its studies are unknown), and the totals adding the new ones to them
    prev, total, inc = counts["prisma"]["previous"], counts["prisma"]["total"], counts["prisma"]["included"]
    assert prev["studies"] is None and prev["reports"] == 239
    assert "Studies included in previous version of review (n = n/a)" in text
    assert "Reports of studies included in previous version of review (n = 239)" in text
    assert total["reports"] == prev["reports"] + inc["reports"] and total["studies"] is None
    assert f"Reports of total included studies (n = {total['reports']})" in text
    assert "Total studies included in review (n = n/a)" in text


def test_svg_grows_with_reasons_and_escapes(example_run):
    _, _, d = example_run
    counts = copy.deepcopy(d["counts"])
    base_h = float(ET.fromstring(render_prisma_svg(counts)).get("height"))
    counts["prisma"]["screening"]["reports_excluded"] = {f"reason <{i}> & more": i for i in range(1, 9)}
    svg = render_prisma_svg(counts)
    assert float(ET.fromstring(svg).get("height")) > base_h
    assert "reason <3> & more (n = 3)" in _texts(svg)
    assert "<3>" not in svg


def test_svg_is_deterministic(example_run):
    _, _, d = example_run
    assert render_prisma_svg(d["counts"]) == render_prisma_svg(copy.deepcopy(d["counts"]))


def _html(example_run, **changes):
    protocol, cap, d = example_run
    counts = copy.deepcopy(d["counts"])
    for k, v in changes.items():
        counts["capture"][k] = v
    return render_report(protocol.config, counts, provenance_of(cap.manifest, cap.manifest_sha256),
                         changes.pop("_included", []), d["dedup"] | {"found_twice": 0},
                         d["screening"])


def test_banner_only_for_example_captures(example_run):
    assert "not a capture of PubMed or ClinicalTrials.gov" in _html(example_run)
    assert 'id="example-banner"' not in _html(example_run, kind="live")


def test_searches_table_and_assumptions(example_run):
    protocol, _, d = example_run
    html = _html(example_run)
    for s in d["counts"]["searches"]:
        assert f'id="search-{s["search_id"]}"' in html
    for a in protocol.assumptions():
        assert a["key"] in html


def test_html_is_autoescaped(example_run):
    protocol, cap, d = example_run
    rec = copy.deepcopy(d["records"][0])
    rec["title"] = '<script>alert("x")</script> & friends'
    report = {"record_id": rec["record_id"], "title": rec["title"], "pmid": "1", "doi": '10.1/"><x', "nct_ids": "",
              "year": 2020, "study_id": rec["record_id"]}
    html = render_report(protocol.config, d["counts"], provenance_of(cap.manifest, cap.manifest_sha256), [rec],
                         d["dedup"] | {"found_twice": 0},
                         d["screening"],
                         studies=[{"study_id": rec["record_id"], "reports": [report]}])
    assert "<script>alert" not in html and '"><x' not in html
    assert html.count("<script>") == 1  # the report's own sorting script, nothing injected
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; friends" in html


def test_included_ris_round_trip(example_run):
    _, _, d = example_run
    recs = [r for r in d["records"] if r["doi"]][:3]
    entries = rispy.loads(included_ris(recs))
    assert [e["id"] for e in entries] == [r["record_id"] for r in recs]
    assert [e["doi"] for e in entries] == [r["doi"] for r in recs]
    assert [e["title"] for e in entries] == [r["title"] for r in recs]


def test_build_report_writes_everything_atomically(example_run, tmp_path):
    protocol, cap, d = example_run
    screening = d["screening"]
    build_report(protocol, cap, d["counts"], d["records"], d["dedup"], screening, tmp_path,
                 clusters=d["clusters"], eligibility=d["eligibility"])
    names = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert names == sorted(REPORT_FILES)
    first = {n: (tmp_path / n).read_bytes() for n in names}
    build_report(protocol, cap, d["counts"], d["records"], d["dedup"], screening, tmp_path,
                 clusters=d["clusters"], eligibility=d["eligibility"])
    assert first == {n: (tmp_path / n).read_bytes() for n in names}
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_unresolved_conflicts_listed(example_run, conflict_screening, monkeypatch):
    """The report lists the unresolved conflicts (record, title, stage, each reviewer's decision),
    the first CONFLICTS_LISTED of them, and points to reports/screening_conflicts.tsv for the rest."""
    protocol, cap, d = example_run
    screening, ids = conflict_screening
    n = len(ids) - 1  # the last one is resolved by consensus
    assert screening["conflicts"] == {"total": n + 1, "unresolved": n}
    assert render.CONFLICTS_LISTED == 50
    monkeypatch.setattr(render, "CONFLICTS_LISTED", LISTED)  # the example has fewer screened records

    def section(screening):
        html = render_report(protocol.config, d["counts"], provenance_of(cap.manifest, cap.manifest_sha256), [],
                             d["dedup"] | {"found_twice": 0}, screening)
        start = html.index('<h3 id="conflicts">Unresolved conflicts</h3>')
        return html[start:html.index("</table>", start)]

    html = section(screening)
    assert f"The first {LISTED} of {n} are listed; all are in <code>reports/screening_conflicts.tsv</code>" in html
    assert html.count("<tr>") == LISTED + 1  # the header row and one per listed conflict
    title = {r["record_id"]: r["title"] for r in d["records"]}[ids[0]]
    row = html[html.index(f"<code>{ids[0]}</code>"):]
    row = row[:row.index("</tr>")]
    assert str(escape(title)) in row and "<td>title/abstract</td>" in row
    assert "ana: include" in row and "ben: exclude (wrong population)" in row and "ben.tsv:2" in row
    assert ids[LISTED] not in html  # past the cap (listed in record id order)
    assert ids[-1] not in html  # resolved
    # a short list has no pointer sentence
    few = screening | {"conflicts": {"total": 2, "unresolved": 2},
                       "unresolved_conflicts": screening["unresolved_conflicts"][:2]}
    html = section(few)
    assert html.count("<tr>") == 3 and "The first" not in html


def test_pending_records_broken_down(example_run, tmp_path):
    """screening.json's ``pending`` and the report's sentence say why records wait, per stage:
    in conflict, awaiting a second reviewer, marked maybe at full text, not yet screened; the
    parts add up to the ledger's pending numbers, which do not change."""
    from reprisma.counts import count_capture
    from reprisma.screen.stage import screen_records

    protocol, cap, d = example_run
    ids = sorted(r["record_id"] for r in d["eligibility"] if r["eligible"])[:4]
    header = "record_id\tstage\treviewer\tdecision\treason\tdate\n"
    (tmp_path / "ana.tsv").write_text(header + "".join(
        f"{i}\ttitle_abstract\tana\tinclude\t\t2026-11-20\n" for i in ids[:3])
        + f"{ids[0]}\tfull_text\tana\tmaybe\t\t2026-11-22\n", encoding="utf-8")
    (tmp_path / "ben.tsv").write_text(header + f"{ids[0]}\ttitle_abstract\tben\tinclude\t\t2026-11-20\n"
                                      f"{ids[3]}\ttitle_abstract\tben\tinclude\t\t2026-11-20\n"
                                      f"{ids[1]}\ttitle_abstract\tben\texclude\t\t2026-11-21\n"
                                      f"{ids[3]}\ttitle_abstract\tconsensus\tinclude\t\t2026-11-21\n"
                                      f"{ids[0]}\tfull_text\tben\tmaybe\t\t2026-11-22\n", encoding="utf-8")
    screening = screen_records(d["records"], d["clusters"], d["eligibility"], protocol,
                                 sorted(tmp_path.glob("*.tsv"))).ledger
    counts = count_capture(protocol, cap, d["records"], d["clusters"], d["eligibility"], screening)
    scr = counts["prisma"]["screening"]
    not_screened = scr["records_screened"] - 4
    assert screening["pending"] == {
        "title_abstract": {"conflict": 1, "awaiting_second_reviewer": 1, "not_screened": not_screened},
        "full_text": {"conflict": 0, "awaiting_second_reviewer": 0, "maybe_at_full_text": 1, "not_screened": 1}}
    assert (scr["records_pending"], scr["reports_pending"]) == (2 + not_screened, 2)
    html = render_report(protocol.config, counts, provenance_of(cap.manifest, cap.manifest_sha256), [],
                         d["dedup"] | {"found_twice": 0}, screening)
    assert (f"{2 + not_screened:,} records await a title/abstract decision (1 in conflict, 1 awaiting a second "
            f"reviewer, {not_screened:,} not yet screened by anyone) and\n2 a full-text decision (1 marked maybe at "
            "full text, 1 not yet screened by anyone)") in html
    # nothing pending: no breakdown
    html = render_report(protocol.config, counts, provenance_of(cap.manifest, cap.manifest_sha256), [],
                         d["dedup"] | {"found_twice": 0},
                         screening | {"pending": {s: {k: 0 for k in p} for s, p in screening["pending"].items()}})
    assert "a title/abstract decision and\n" in html and "a full-text decision\n" in html


def test_provenance_hashes_study_links_and_footer_names_them(example_run, tmp_path):
    """The reviewers' study links are a human input: hashed in the provenance table and named in
    the footer when the file exists, listed as absent when it does not."""
    import hashlib

    from reprisma.protocol import deep_update, validate_config
    from reprisma.report.render import render_provenance

    protocol, cap, d = example_run
    screening = d["screening"]
    links = tmp_path / "study_links.tsv"
    with_links = validate_config(deep_update(protocol.config, {"dedup": {"study_links": str(links)}}),
                                 protocol.source_path)
    absent = {f["role"]: f for f in render_provenance(with_links, screening, None)["inputs"]}["study links"]
    assert absent["sha256"] is None
    links.write_text("record_id\tstudy_id\n", encoding="utf-8")
    inputs = {f["role"]: f for f in render_provenance(with_links, screening, None)["inputs"]}
    assert inputs["study links"]["sha256"] == hashlib.sha256(links.read_bytes()).hexdigest()
    html = render_report(with_links.config, d["counts"], provenance_of(cap.manifest, cap.manifest_sha256), [],
                         d["dedup"] | {"found_twice": 0}, screening,
                         rendered=render_provenance(with_links, screening, None))
    footer = html[html.index('id="rendered-from"'):]
    assert "the reviewers&#39; study links" in footer[:footer.index("</footer>")]


def test_registry_limits_say_the_window_searched(example_run):
    """A living review reruns a registry search in full up to its end date: the searches table
    and the appendix say the window the capture searched, not the PubMed update window."""
    from reprisma.report.appendix import search_limits

    protocol, _, d = example_run
    for s in d["counts"]["searches"]:
        if s["source"] == "ctgov":
            lo, hi = s["window"]
            assert lo is None and f"first posted: any date to {hi}" in " ".join(
                search_limits(protocol.config, s["search_id"], s["window"]))
