"""The report's charts, drawn as inline SVG by hand (as the PRISMA diagram is): records per
publication year per search, the overlap between searches (how many deduplicated records each
combination of searches found), and screening progress at both stages on a real time axis.

No plotting library: the bytes depend only on the numbers (no font metrics, no renderer version,
no timestamp), so two renders are identical. Text widths are estimated generously (``_width``) and
every margin is sized from the longest label it holds, so axes never clip their labels (the
browser test checks every text's box against the chart's).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from xml.sax.saxutils import escape

FONT = 12
COLOURS = ("#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _width(text: str, size: float = FONT) -> float:
    """A safe over-estimate of ``text``'s width in Helvetica/Arial at ``size`` px (their widest
    common glyphs, capitals and digits, are at most about 0.72 and 0.56 em)."""
    return sum(0.72 if c.isupper() or c in "mwMW@%" else 0.6 for c in text) * size


def _svg_open(w: float, h: float, label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" width="{w:.0f}" height="{h:.0f}" '
            f'role="img" aria-label="{escape(label)}" class="chart" font-family="Helvetica, Arial, sans-serif" '
            f'font-size="{FONT}"><title>{escape(label)}</title>')


def _text(x, y, s, anchor="start", **attrs) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(str(s))}</text>'


# --- records per publication year per search ------------------------------------------------

def years_per_search(records: list[dict], counts: dict) -> list[dict]:
    """Per search of the ledger, in its order: {search_id, years: {year: n}, no_year: n, total}.
    One count per (search, record), as the diagram's identification boxes count them."""
    out = []
    for s in counts["searches"]:
        sid = s["search_id"]
        years = Counter(r.get("year") for r in records if sid in r["search_ids"])
        no_year = years.pop(None, 0) + years.pop("", 0)
        out.append({"search_id": sid, "years": dict(sorted(years.items())), "no_year": no_year,
                    "total": sum(years.values()) + no_year})
    return out


def render_years_svg(rows: list[dict]) -> str:
    """Small multiples: one row of bars per search on a shared year axis, each row scaled to its
    own largest year (its number printed above its tallest bar); records without a publication
    year are counted at the row's right, never dropped."""
    if not rows:
        return ""
    years = sorted({y for r in rows for y in r["years"]})
    left = max(_width(r["search_id"]) for r in rows) + 12
    right_labels = [f"no year: {r['no_year']:,}" for r in rows]
    right = max(_width(t) for t in right_labels) + 16
    plot_w = max(360.0, 24.0 * (years[-1] - years[0] + 1) if years else 360.0)
    plot_w = min(plot_w, 720.0)
    row_h, gap, top = 44, 14, 28
    h = top + len(rows) * (row_h + gap) + 42
    w = left + plot_w + right
    y0, y1 = (years[0], years[-1]) if years else (0, 0)
    span = max(y1 - y0 + 1, 1)
    bar_w = plot_w / span

    def x(year):
        return left + (year - y0) * bar_w

    out = [_svg_open(w, h, "Records per publication year, per search"),
           _text(left, 16, "records per publication year (each row scaled to its own largest year)", fill="#666")]
    for i, r in enumerate(rows):
        base = top + i * (row_h + gap) + row_h
        colour = COLOURS[i % len(COLOURS)]
        out.append(f'<g class="years-row" data-search="{escape(r["search_id"])}">')
        out.append(_text(left - 8, base - row_h / 2 + 4, r["search_id"], "end"))
        out.append(f'<line x1="{left:.1f}" y1="{base:.1f}" x2="{left + plot_w:.1f}" y2="{base:.1f}" stroke="#999"/>')
        top_n = max(r["years"].values(), default=0)
        for year, n in r["years"].items():
            bh = (row_h - 14) * n / top_n
            out.append(f'<rect x="{x(year) + 1:.1f}" y="{base - bh:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                       f'height="{bh:.1f}" fill="{colour}"><title>{escape(r["search_id"])}, {year}: '
                       f'{n:,} record{"s" if n != 1 else ""}</title></rect>')
        if top_n:
            peak = min(y for y, n in r["years"].items() if n == top_n)
            anchor = "start" if x(peak) + _width(f"{top_n:,}") < left + plot_w else "end"
            out.append(_text(x(peak) + (1 if anchor == "start" else bar_w - 1), base - row_h + 10, f"{top_n:,}", anchor,
                             fill="#444"))
        else:
            out.append(_text(left + 4, base - 6, "no record with a publication year", fill="#666"))
        out.append(_text(left + plot_w + 8, base - row_h / 2 + 4, right_labels[i], fill="#666"))
        out.append("</g>")
    axis_y = top + len(rows) * (row_h + gap) + 4
    if years:
        def box(t):  # (anchor, left edge, right edge) of a year's label, the ends anchored inward
            cx, lw = x(t) + bar_w / 2, _width(str(t))
            if t == y0 and cx - lw / 2 < left:
                return "start", cx, cx + lw
            if t == y1 and cx + lw / 2 > left + plot_w:
                return "end", cx - lw, cx
            return "middle", cx - lw / 2, cx + lw / 2

        ends = [box(t) for t in sorted({y0, y1})]
        ticks = sorted({y0, y1})
        for t in range(y0 - y0 % 10 + 10, y1, 10):  # decades that do not touch the first or last year
            _, lo, hi = box(t)
            if all(hi + 6 < e_lo or lo > e_hi + 6 for _, e_lo, e_hi in ends):
                ticks.append(t)
        if len(ticks) == 2 and ends[-1][1] < ends[0][2] + 6:
            ticks = [y0]  # first and last year too close to print both
        for t in sorted(ticks):
            anchor, lo, _ = box(t)
            out.append(f'<line x1="{x(t) + bar_w / 2:.1f}" y1="{axis_y - 4:.1f}" x2="{x(t) + bar_w / 2:.1f}" '
                       f'y2="{axis_y:.1f}" stroke="#999"/>')
            out.append(_text(x(t) + bar_w / 2, axis_y + 12, str(t), anchor))
        out.append(_text(left + plot_w / 2, axis_y + 28, "publication year", "middle", fill="#666"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- overlap between searches ----------------------------------------------------------------

def search_overlap(records: list[dict], clusters: list[dict], counts: dict) -> list[dict]:
    """Every combination of searches that found the same deduplicated record: {searches: [ids in
    the ledger's order], n}, largest first. A record is a dedup cluster (its members found by any
    of the searches), so the numbers add up to identified - duplicates removed."""
    order = {s["search_id"]: i for i, s in enumerate(counts["searches"])}
    cluster_of = {c["record_id"]: c["cluster_id"] for c in clusters}
    found: dict[str, set] = {}
    for r in records:
        found.setdefault(cluster_of.get(r["record_id"], r["record_id"]), set()).update(r["search_ids"])
    combos = Counter(tuple(sorted(s, key=lambda x: (order.get(x, len(order)), x))) for s in found.values())
    return [{"searches": list(k), "n": n}
            for k, n in sorted(combos.items(), key=lambda kv: (-kv[1], len(kv[0]), [order.get(x, 0) for x in kv[0]]))]


def render_overlap_svg(combos: list[dict], search_ids: list[str], shown: int = 20) -> str:
    """An UpSet-style chart: one column per combination (its bar and number above, its searches
    as filled dots in the matrix below), one matrix row per search with the number of records it
    found at the left. At most ``shown`` combinations are drawn; the rest are summed in a note."""
    if not combos:
        return ""
    drawn, rest = combos[:shown], combos[shown:]
    size = Counter(s for c in combos for s in c["searches"] for _ in range(c["n"]))
    labels = [f"{sid} ({size.get(sid, 0):,})" for sid in search_ids]
    left = max(_width(t) for t in labels) + 14
    col = 30
    bar_h, top, row = 120, 30, 20
    top_n = max(c["n"] for c in drawn)
    num_w = _width(f"{top_n:,}", 11)
    col = max(col, num_w + 6)
    w = left + col * len(drawn) + 16
    note = (f"{len(rest):,} further combination{'s' if len(rest) != 1 else ''} with "
            f"{sum(c['n'] for c in rest):,} records not drawn" if rest else "")
    title = "deduplicated records, by the combination of searches that found them"
    w = max(w, _width(title) + 16, _width(note) + 16)
    h = top + bar_h + 8 + row * len(search_ids) + (24 if note else 8)
    out = [_svg_open(w, h, "Overlap between searches"), _text(8, 16, title, fill="#666")]
    base = top + bar_h
    out.append(f'<line x1="{left - 4:.1f}" y1="{base:.1f}" x2="{left + col * len(drawn):.1f}" y2="{base:.1f}" stroke="#999"/>')
    mat_top = base + 8
    for j, sid in enumerate(search_ids):
        cy = mat_top + row * j + row / 2
        if j % 2 == 0:
            out.append(f'<rect x="{left - 4:.1f}" y="{mat_top + row * j:.1f}" width="{col * len(drawn) + 4:.1f}" '
                       f'height="{row}" fill="#f3f6fa"/>')
        out.append(_text(left - 8, cy + 4, labels[j], "end"))
    for i, c in enumerate(drawn):
        cx = left + col * i + col / 2
        bh = (bar_h - 18) * c["n"] / top_n
        names = " + ".join(c["searches"])
        out.append(f'<g class="overlap-combo" data-searches="{escape(" ".join(c["searches"]))}" data-n="{c["n"]}">')
        out.append(f'<rect x="{cx - col / 2 + 4:.1f}" y="{base - bh:.1f}" width="{col - 8:.1f}" height="{bh:.1f}" '
                   f'fill="#1f77b4"><title>{escape(names)}: {c["n"]:,} records</title></rect>')
        out.append(_text(cx, base - bh - 4, f"{c['n']:,}", "middle", font_size=11))
        rows_in = [search_ids.index(s) for s in c["searches"] if s in search_ids]
        for j in range(len(search_ids)):
            cy = mat_top + row * j + row / 2
            fill = "#222" if j in rows_in else "#d0d0d0"
            out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{fill}"/>')
        if len(rows_in) > 1:
            y_a, y_b = (mat_top + row * min(rows_in) + row / 2, mat_top + row * max(rows_in) + row / 2)
            out.append(f'<line x1="{cx:.1f}" y1="{y_a:.1f}" x2="{cx:.1f}" y2="{y_b:.1f}" stroke="#222" stroke-width="2"/>')
        out.append("</g>")
    if note:
        out.append(_text(8, h - 8, note, fill="#666"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- screening progress ----------------------------------------------------------------------

STAGES = {"title_abstract": ("Title/abstract", "decided", "sent on to full text", "records screened"),
          "full_text": ("Full text", "decided", "included", "reports sought")}


def _date_ticks(d0: date, d1: date, most: int = 5) -> list[date]:
    """Evenly spaced whole days from d0 to d1 (both included), at most ``most``."""
    span = (d1 - d0).days
    if span == 0:
        return [d0]
    k = min(most - 1, span)
    return sorted({date.fromordinal(d0.toordinal() + round(span * i / k)) for i in range(k + 1)})


def render_progress_svg(stages: dict[str, list[dict]], targets: dict[str, int]) -> str:
    """One panel per stage (title/abstract, full text) on one shared, real time axis: x is the
    date (days apart are drawn apart in proportion), y the cumulative number decided and the
    number that went on, against the stage's target (records screened; reports sought), dashed.
    ``stages``: stage -> rows of :func:`reprisma.screen.stage.screening_progress`
    (screening.json's ``progress``); ``targets``: stage -> the target number."""
    days = [date.fromisoformat(p["date"]) for rows in stages.values() for p in rows]
    if not days:
        return ""
    d0, d1 = min(days), max(days)
    tops = {st: max([targets.get(st, 0), *(p["decided"] for p in stages.get(st) or [])], default=0) or 1
            for st in STAGES}
    left = max(_width(f"{t:,}") for t in tops.values()) + 14
    right, panel_h, head = 24, 110, 40
    w = 640
    plot_w = w - left - right
    h = len(STAGES) * (panel_h + head + 8) + 36
    span = (d1 - d0).days

    def x(d: date) -> float:
        return left + (plot_w * (d - d0).days / span if span else plot_w / 2)

    out = [_svg_open(w, h, "Screening progress")]
    for k, (stage, (name, decided_l, on_l, target_l)) in enumerate(STAGES.items()):
        rows = stages.get(stage) or []
        top_y = k * (panel_h + head + 8) + head
        base = top_y + panel_h
        top = tops[stage]

        def y(v):
            return base - panel_h * v / top

        last = rows[-1] if rows else {"decided": 0, "went_on": 0}
        out.append(f'<g class="progress-stage" data-stage="{stage}">')
        out.append(_text(left, top_y - 24, f"{name} screening", font_weight="bold"))
        legend = [(f"— {decided_l} ({last['decided']:,})", COLOURS[0]), (f"— {on_l} ({last['went_on']:,})", COLOURS[1]),
                  (f"- - {target_l} ({targets.get(stage, 0):,})", "#777")]
        lx = left
        for text, colour in legend:
            out.append(_text(lx, top_y - 8, text, fill=colour))
            lx += _width(text) + 14
        out.append(f'<line x1="{left}" y1="{base:.1f}" x2="{left + plot_w}" y2="{base:.1f}" stroke="#333"/>')
        out.append(f'<line x1="{left}" y1="{top_y:.1f}" x2="{left}" y2="{base:.1f}" stroke="#333"/>')
        out.append(_text(left - 6, base + 4, "0", "end"))
        out.append(_text(left - 6, top_y + 4, f"{top:,}", "end"))
        target = targets.get(stage, 0)
        out.append(f'<line x1="{left}" y1="{y(target):.1f}" x2="{left + plot_w}" y2="{y(target):.1f}" stroke="#777" '
                   f'stroke-dasharray="4 3"/>')
        for t in _date_ticks(d0, d1):
            out.append(f'<line x1="{x(t):.1f}" y1="{base:.1f}" x2="{x(t):.1f}" y2="{base + 4:.1f}" stroke="#333"/>')
        if not rows:
            out.append(_text(left + 8, base - 8, "no decisions yet", fill="#666"))
        for key, colour in (("decided", COLOURS[0]), ("went_on", COLOURS[1])):
            if not rows:
                continue
            pts, prev = [], 0
            for p in rows:
                px = x(date.fromisoformat(p["date"]))
                pts += [f"{px:.1f},{y(prev):.1f}", f"{px:.1f},{y(p[key]):.1f}"]
                prev = p[key]
            pts.append(f"{left + plot_w:.1f},{y(prev):.1f}")
            out.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{colour}" stroke-width="2"/>')
            for p in rows:
                out.append(f'<circle cx="{x(date.fromisoformat(p["date"])):.1f}" cy="{y(p[key]):.1f}" r="2.5" '
                           f'fill="{colour}"><title>{p["date"]}: {p[key]:,}</title></circle>')
        out.append("</g>")
    axis_y = len(STAGES) * (panel_h + head + 8) - 8 + 16
    ticks = _date_ticks(d0, d1)
    for i, t in enumerate(ticks):
        anchor = "middle" if len(ticks) == 1 else ("start" if i == 0 else ("end" if i == len(ticks) - 1 else "middle"))
        out.append(_text(x(t), axis_y, t.isoformat(), anchor))
    out.append(_text(left + plot_w / 2, axis_y + 16, "date of the last decision on the record (UTC day)", "middle",
                     fill="#666"))
    out.append("</svg>")
    return "\n".join(out) + "\n"
