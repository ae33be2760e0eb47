"""The report's charts and its reported-vs-reproduced section, on real runs: every number they
show is recomputed here from the records, clusters, decision files, protocol and ledger."""

import copy
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import date

from reprisma.report import build_report, charts
from reprisma.report.charts import (render_overlap_svg, render_progress_svg, render_years_svg, search_overlap,
                                    years_per_search)
from reprisma.report.render import provenance_of
from reprisma.report.reported import reported_vs_reproduced

SVG = "{http://www.w3.org/2000/svg}"


def _svg(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.find(f"{SVG}title") is not None
    return root


def test_years_per_search_counts_every_record(example_run):
    _, _, d = example_run
    counts = d["counts"]
    rows = years_per_search(d["records"], counts)
    assert [r["search_id"] for r in rows] == [s["search_id"] for s in counts["searches"]]
    for r, s in zip(rows, counts["searches"]):
        found = [x for x in d["records"] if s["search_id"] in x["search_ids"]]
        assert r["total"] == s["records_received"] == len(found)
        assert r["years"] == dict(sorted(Counter(x["year"] for x in found if x["year"]).items()))
        assert r["no_year"] == sum(1 for x in found if not x["year"])
    svg = render_years_svg(rows)
    root = _svg(svg)
    bars = root.findall(f".//{SVG}g[@class='years-row']")
    assert [g.get("data-search") for g in bars] == [r["search_id"] for r in rows]
    for g, r in zip(bars, rows):
        assert len(g.findall(f"{SVG}rect")) == len(r["years"])
        assert f"no year: {r['no_year']:,}" in [t.text for t in g.iter(f"{SVG}text")]
    assert svg == render_years_svg(copy.deepcopy(rows))


def test_overlap_adds_up_to_deduplicated_records(example_run):
    _, _, d = example_run
    counts = d["counts"]
    ident = counts["prisma"]["identification"]
    combos = search_overlap(d["records"], d["clusters"], counts)
    n_clusters = len({c["cluster_id"] for c in d["clusters"]})
    assert sum(c["n"] for c in combos) == n_clusters == ident["records_identified"] - ident["duplicates_removed"]
    assert len({tuple(c["searches"]) for c in combos}) == len(combos)
    assert [c["n"] for c in combos] == sorted((c["n"] for c in combos), reverse=True)
    # recomputed here: the searches that found any member of each cluster
    cluster_of = {c["record_id"]: c["cluster_id"] for c in d["clusters"]}
    found = {}
    for r in d["records"]:
        found.setdefault(cluster_of[r["record_id"]], set()).update(r["search_ids"])
    assert Counter(frozenset(s) for s in found.values()) == Counter({frozenset(c["searches"]): c["n"] for c in combos})
    assert any(len(c["searches"]) > 1 for c in combos)  # the example's searches do overlap
    ids = [s["search_id"] for s in counts["searches"]]
    root = _svg(render_overlap_svg(combos, ids))
    cols = root.findall(f".//{SVG}g[@class='overlap-combo']")
    assert [(g.get("data-searches").split(), int(g.get("data-n"))) for g in cols] == \
        [(c["searches"], c["n"]) for c in combos[:20]]
    for g, c in zip(cols, combos):
        filled = [e for e in g.iter(f"{SVG}circle") if e.get("fill") == "#222"]
        assert len(filled) == len(c["searches"]) and len(list(g.iter(f"{SVG}circle"))) == len(ids)
    # fewer drawn than there are: the rest are summed in a note
    few = render_overlap_svg(combos, ids, shown=2)
    rest = combos[2:]
    assert f"with {sum(c['n'] for c in rest):,} records not drawn" in few


def _decisions(protocol, d, folder):
    """Two reviewers deciding on several days weeks apart, at both stages."""
    ids = sorted(r["record_id"] for r in d["eligibility"] if r["eligible"])[:9]
    reason = protocol.config["screening"]["exclusion_reasons"][0]
    days = ["2026-10-01", "2026-10-02", "2026-10-30"]
    rows = []
    for rev in ("ana", "ben"):
        rows += [f"{i}\ttitle_abstract\t{rev}\tinclude\t\t{days[k % 3]}\n" for k, i in enumerate(ids[:6])]
        rows += [f"{i}\ttitle_abstract\t{rev}\texclude\t\t2026-10-02\n" for i in ids[6:]]
        rows += [f"{ids[0]}\tfull_text\t{rev}\texclude\t{reason}\t2026-11-03\n",
                 f"{ids[1]}\tfull_text\t{rev}\tnot_retrieved\t\t2026-11-03\n",
                 f"{ids[2]}\tfull_text\t{rev}\tinclude\t\t2026-11-30\n"]
    folder.mkdir()
    (folder / "d.tsv").write_text("record_id\tstage\treviewer\tdecision\treason\tdate\n" + "".join(rows),
                                  encoding="utf-8")
    return [folder / "d.tsv"]


def test_progress_both_stages_on_a_time_axis(example_run, tmp_path):
    from reprisma.counts import count_capture
    from reprisma.screen.stage import screen_records

    protocol, cap, d = example_run
    files = _decisions(protocol, d, tmp_path / "decisions")
    screening = screen_records(d["records"], d["clusters"], d["eligibility"], protocol, files).ledger
    counts = count_capture(protocol, cap, d["records"], d["clusters"], d["eligibility"], screening)
    # the screening stage's progress (screening.json), both stages, against the diagram's counts
    ta, ft = screening["progress"]["title_abstract"], screening["progress"]["full_text"]
    scr = counts["prisma"]["screening"]
    assert ta[-1]["decided"] == scr["records_excluded"] + scr["reports_sought"]
    assert [p["date"] for p in ft] == ["2026-11-03", "2026-11-30"]
    assert ft[-1]["decided"] == sum(scr["reports_excluded"].values()) + scr["reports_not_retrieved"] + 1
    assert ft[-1]["went_on"] == counts["prisma"]["included"]["reports"] == 1
    svg = render_progress_svg({"title_abstract": ta, "full_text": ft},
                              {"title_abstract": scr["records_screened"], "full_text": scr["reports_sought"]})
    root = _svg(svg)
    stages = root.findall(f".//{SVG}g[@class='progress-stage']")
    assert [g.get("data-stage") for g in stages] == ["title_abstract", "full_text"]
    # a real time axis: the x of each day's dot is proportional to its date
    xs = {}
    for g in stages:
        for c in g.iter(f"{SVG}circle"):
            xs[c.find(f"{SVG}title").text.split(":")[0]] = float(c.get("cx"))
    days = sorted(xs)
    d0, d1 = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    for day in days[1:-1]:
        share = (date.fromisoformat(day) - d0).days / (d1 - d0).days
        assert abs((xs[day] - xs[days[0]]) / (xs[days[-1]] - xs[days[0]]) - share) < 0.002, day
    labels = [t.text for t in root.iter(f"{SVG}text") if t.text and re.fullmatch(r"\d{4}-\d\d-\d\d", t.text)]
    assert labels[0] == days[0] and labels[-1] == days[-1]
    assert svg == render_progress_svg({"title_abstract": copy.deepcopy(ta), "full_text": ft},
                                      {"title_abstract": scr["records_screened"], "full_text": scr["reports_sought"]})
    # build_report draws them all, byte-identical twice
    out = tmp_path / "out"
    build_report(protocol, cap, counts, d["records"], d["dedup"], screening, out, clusters=d["clusters"],
                 eligibility=d["eligibility"])
    html = (out / "report.html").read_text(encoding="utf-8")
    for section in ('id="search-years"', 'id="search-overlap"', 'id="progress"', 'data-stage="full_text"'):
        assert section in html
    assert charts(counts, d["records"], d["clusters"], screening)["progress"] == svg


def _check_reported(protocol, counts, provenance):
    section = reported_vs_reproduced(protocol.config, counts, provenance)
    by_search = {s["search_id"]: s for s in counts["searches"]}
    paper = {s.id: s.reported_count for s in protocol.searches if s.reported_count is not None}
    rows = {r["search_id"]: r for r in section["rows"] if r["search_id"]}
    assert {k: r["paper"] for k, r in rows.items()} == paper and paper  # from the protocol
    assert {k: r["pipeline"] for k, r in rows.items()} == {k: by_search[k]["records_received"] for k in paper}
    included = [r for r in section["rows"] if not r["search_id"]]
    assert [r["paper"] for r in included] == list(protocol.config["reported"].values())
    assert [r["pipeline"] for r in included] == [counts["prisma"]["included"]["reports"]]
    return section, rows, included


def test_reported_vs_reproduced_as_published(seed_run):
    """The protocol as the paper reports it: same window, so the difference is computed; the
    example snapshot says plainly that it cannot reproduce the paper."""
    protocol, cap, d = seed_run
    assert protocol.refresh is None
    provenance = provenance_of(cap.manifest, cap.manifest_sha256)
    section, rows, included = _check_reported(protocol, d["counts"], provenance)
    for r in rows.values():
        assert r["comparable"] and r["difference"] == r["pipeline"] - r["paper"]
    assert included[0]["difference"] == included[0]["pipeline"] - included[0]["paper"]
    assert cap.manifest["capture"] == "example"
    assert section["reasons"][0]["text"].startswith("This snapshot cannot reproduce the paper's numbers: its manifest says "
                                            "it is an \u201cexample\u201d capture: " + cap.manifest["provenance"]["what"][:40])
    assert not section["is_update"] and section["seed_report"] is None
    # a live capture of the same protocol gives no such sentence, and names PubMed's changes instead
    live = copy.deepcopy(d["counts"])
    live["capture"]["kind"] = "live"
    reasons = reported_vs_reproduced(protocol.config, live, provenance)["reasons"]
    assert not any("cannot reproduce" in r["text"] for r in reasons) and any("PubMed changes" in r["text"] for r in reasons)
    # every assumption the protocol makes for a search with a reported count is listed under its reason
    assumed = next(r["points"] for r in reasons if r["points"])
    for a in d["counts"]["assumptions"]:
        if any(f"({sid})." in a["key"] for sid in (s.id for s in protocol.searches if s.reported_count is not None)):
            assert any(i.startswith(a["key"] + ": ") for i in assumed), a["key"]


def test_reported_vs_reproduced_update(example_run, tmp_path):
    """The living-review update: the paper's numbers beside this window's, no difference, and a
    link to the replay of the protocol as reported."""
    protocol, cap, d = example_run
    provenance = provenance_of(cap.manifest, cap.manifest_sha256)
    section, rows, included = _check_reported(protocol, d["counts"], provenance)
    assert all(r["difference"] is None and not r["comparable"] for r in section["rows"])
    assert section["is_update"] and section["seed_report"] == "greenway2020/report.html"
    assert section["seed_file"] == protocol.inherits["file"] == "config/greenway2020.yaml"
    screening = d["screening"]
    build_report(protocol, cap, d["counts"], d["records"], d["dedup"], screening, tmp_path, clusters=d["clusters"],
                 eligibility=d["eligibility"])
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="reported-not-reproducible"' in html and 'href="greenway2020/report.html"' in html
    table = html[html.index('<table id="reported-table">'):]
    table = table[:table.index("</table>")]
    for sid, r in rows.items():
        assert f'data-search="{sid}"' in table and f"{r['paper']:,}" in table
    assert table.count("not comparable") == len(section["rows"])
