"""The PRISMA 2020 flow diagram as SVG, drawn from the counts ledger.

The PRISMA 2020 diagram is a fixed form (Page et al. 2021, BMJ 372:n71; the same boxes as the
PRISMA2020 R package and Shiny app), not a graph to lay out: its boxes sit in a grid of phases
(Identification, Screening, Included) and two columns (the flow, and what leaves it). So the
geometry is fixed here and only the box heights grow with their text. For an updated review
(a protocol with ``refresh``) the "previous studies" column and the "total studies" box of the
updated-review template are added.

Text is wrapped by an estimate of glyph width (0.52 em per character, a conservative average for
sans-serif text); a long word is never cut.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from xml.sax.saxutils import escape

FONT = 13
LINE = 17
PAD = 10
CHAR_W = FONT * 0.52
BOX_W = 300
GAP_X = 60
GAP_Y = 34
LABEL_W = 34
STACK_GAP = 12  # between an exclusion box and the dashed "awaiting a decision" box under it


@dataclass
class Box:
    key: str
    lines: list[tuple[str, bool, str | None]]  # (text, bold, link of the line)
    x: float
    y: float
    w: float
    h: float = 0.0
    fill: str = "#ffffff"
    href: str | None = None  # the box's record list
    dashed: bool = False

    @property
    def cx(self):
        return self.x + self.w / 2

    @property
    def cy(self):
        return self.y + self.h / 2


def _wrap(text: str, width: float) -> list[str]:
    chars = max(10, int((width - 2 * PAD) / CHAR_W))
    return textwrap.wrap(text, chars, break_long_words=False, break_on_hyphens=False) or [""]


def _layout_lines(parts: list[tuple], width: float) -> list[tuple[str, bool, str | None]]:
    out = []
    for text, bold, *href in parts:
        text = text.replace("(n = ", f"(n{NBSP}={NBSP}")
        out.extend((line, bold, href[0] if href else None) for line in _wrap(text, width))
    return out


NBSP = "\u00a0"


def _n(v) -> str:
    """A count; '(n = ' and the number are joined by no-break spaces so they wrap as one."""
    return "n/a" if v is None else f"{v:,}"


# the record list behind each box (reports/records/, see record_lists.py), relative to reports/
BOX_LISTS = {"identified": "records/identified.csv", "removed": "records/duplicates_removed.csv",
             "screened": "records/screened.csv", "excluded": "records/excluded_title_abstract.csv",
             "pending_ta": "records/awaiting_title_abstract.csv", "sought": "records/sought.csv",
             "not_retrieved": "records/not_retrieved.csv", "assessed": "records/assessed.csv",
             "reports_excluded": "records/excluded_full_text.csv", "pending_ft": "records/awaiting_full_text.csv",
             "included": "records/included.csv", "previous": "report.html#previous",
             "total": "report.html#included"}


def _box(key, parts, x, w, fill="#ffffff", dashed=False) -> Box:
    lines = _layout_lines(parts, w)
    return Box(key, lines, x, 0, w, 2 * PAD + LINE * len(lines), fill, BOX_LISTS.get(key), dashed)


def _phase_len(name: str) -> float:
    """The length a phase label needs along its bar (bold text is wider: 0.62 em per character)."""
    return len(name) * FONT * 0.62 + 2 * PAD


def prisma_boxes(counts: dict) -> tuple[list[Box], list[tuple[str, str, str]], dict]:
    p = counts["prisma"]
    ident, scr, inc = p["identification"], p["screening"], p["included"]
    previous = p.get("previous")
    left = LABEL_W + 20 + (BOX_W + GAP_X if previous else 0)
    right = left + BOX_W + GAP_X

    def sources(kind):
        items = ident[kind]
        return [(f"{name} (n = {_n(n)})", False) for name, n in items.items()] or [(f"none (n = 0)", False)]

    boxes = {}
    boxes["identified"] = _box("identified", [("Records identified from:", True), ("Databases:", False),
                                              *sources("databases"), ("Registers:", False), *sources("registers")],
                               left, BOX_W)
    removed = [("Records removed before screening:", True),
               (f"Duplicate records removed (n = {_n(ident['duplicates_removed'])})", False,
                "records/duplicates_removed.csv"),
               (f"Records marked as ineligible by automation tools (n = {_n(ident['ineligible_by_automation'])})", False,
                "records/removed_by_automation.csv")]
    for reason, n in (ident.get("ineligible_by_automation_reasons") or {}).items():
        removed.append((f"– {reason.replace('_', ' ')} (n = {_n(n)})", False, "records/removed_by_automation.csv"))
    removed.append((f"Records removed for other reasons (n = {_n(ident['removed_other_reasons'])})", False,
                    "records/removed_other_reasons.csv"))
    for reason, n in (ident.get("removed_other_reasons_by_reason") or {}).items():
        removed.append((f"– {reason} (n = {_n(n)})", False, "records/removed_other_reasons.csv"))
    if "screened_in_previous_round" in ident:  # a living review: decisions carried forward
        removed.append((f"Records screened in a previous round (n = {_n(ident['screened_in_previous_round'])})",
                        False, "report.html#refresh"))
    boxes["removed"] = _box("removed", removed, right, BOX_W)

    boxes["screened"] = _box("screened", [(f"Records screened (n = {_n(scr['records_screened'])})", False)], left, BOX_W)
    excl = [(f"Records excluded (n = {_n(scr['records_excluded'])})", False)]
    if "records_stopped" in scr:  # the protocol's stopping rule was met (screening.stopping.apply)
        excl.append((f"Left unscreened, excluded by automation: stopping rule {scr['records_stopped_rule']} "
                     f"(n = {_n(scr['records_stopped'])})", False))
    boxes["excluded"] = _box("excluded", excl, right, BOX_W)
    # records still waiting for a decision: a dashed box of their own under the exclusions, so
    # the arrows of a draft diagram add up (screened = excluded + awaiting + sought)
    stacked = {}
    if scr.get("records_pending"):
        boxes["pending_ta"] = _box("pending_ta", [(f"Awaiting a title/abstract decision (n = {_n(scr['records_pending'])})",
                                                   False)], right, BOX_W, "#fafafa", dashed=True)
        stacked["excluded"] = "pending_ta"
    boxes["sought"] = _box("sought", [(f"Reports sought for retrieval (n = {_n(scr['reports_sought'])})", False)], left, BOX_W)
    boxes["not_retrieved"] = _box("not_retrieved", [(f"Reports not retrieved (n = {_n(scr['reports_not_retrieved'])})", False)], right, BOX_W)
    boxes["assessed"] = _box("assessed", [(f"Reports assessed for eligibility (n = {_n(scr['reports_assessed'])})", False)], left, BOX_W)
    ft = [("Reports excluded:", True)]
    ft += [(f"{reason} (n = {_n(n)})", False) for reason, n in scr["reports_excluded"].items()] or [("none (n = 0)", False)]
    boxes["reports_excluded"] = _box("reports_excluded", ft, right, BOX_W)
    if scr.get("reports_pending"):
        boxes["pending_ft"] = _box("pending_ft", [(f"Awaiting a full-text decision (n = {_n(scr['reports_pending'])})",
                                                   False)], right, BOX_W, "#fafafa", dashed=True)
        stacked["reports_excluded"] = "pending_ft"
    new = "New studies" if previous else "Studies"
    boxes["included"] = _box("included", [(f"{new} included in review (n = {_n(inc['studies'])})", False),
                                          (f"Reports of {new.lower()} included (n = {_n(inc['reports'])})", False)],
                             left, BOX_W)
    edges = [("identified", "screened", "down"), ("identified", "removed", "right"), ("screened", "sought", "down"),
             ("screened", "excluded", "right"), ("sought", "assessed", "down"), ("sought", "not_retrieved", "right"),
             ("assessed", "included", "down"), ("assessed", "reports_excluded", "right")]
    if "pending_ta" in boxes:
        edges.append(("screened", "pending_ta", "branch"))
    if "pending_ft" in boxes:
        edges.append(("assessed", "pending_ft", "branch"))
    if previous:
        x0 = LABEL_W + 20
        prev_parts = [(f"Studies included in previous version of review (n = {_n(previous.get('studies'))})", False)]
        if previous.get("reports") is not None:
            prev_parts.append((f"Reports of studies included in previous version of review "
                               f"(n = {_n(previous['reports'])})", False))
        if previous.get("source"):
            prev_parts.append((f"{previous['source']}", False))
        boxes["previous"] = _box("previous", prev_parts, x0, BOX_W, "#f2f2f2")
        tot = p.get("total") or {}
        total = tot.get("studies")
        if total is None and previous.get("studies") is not None:
            total = previous["studies"] + inc["studies"]
        total_reports = tot.get("reports")
        if total_reports is None and previous.get("reports") is not None:
            total_reports = previous["reports"] + inc["reports"]
        total_parts = [(f"Total studies included in review (n = {_n(total)})", False),
                       (f"({_n(previous.get('studies'))} previous + {_n(inc['studies'])} new)", False)]
        if total_reports is not None:
            total_parts.append((f"Reports of total included studies (n = {_n(total_reports)})", False))
        boxes["total"] = _box("total", total_parts, x0, BOX_W)
        edges += [("previous", "total", "down"), ("included", "total", "left")]

    # rows: place boxes top to bottom; boxes in a row share the row's height
    header_h = 44
    rows = [["identified", "removed"] + (["previous"] if previous else []), ["screened", "excluded"],
            ["sought", "not_retrieved"], ["assessed", "reports_excluded"], ["included"],
            (["total"] if previous else [])]
    phase_of_row = {0: "Identification", 1: "Screening", 2: "Screening", 3: "Screening", 4: "Included",
                    5: "Included"}
    heights = {}
    for i, row in enumerate(rows):
        if row:
            heights[i] = max(boxes[k].h + (STACK_GAP + boxes[stacked[k]].h if k in stacked else 0) for k in row)
    # a phase whose rows are shorter than its label grows its last row (e.g. "Included" beside
    # one box in a first review)
    for name in ("Identification", "Screening", "Included"):
        idx = [i for i in heights if phase_of_row[i] == name]
        span = sum(heights[i] for i in idx) + GAP_Y * (len(idx) - 1)
        if idx and span < _phase_len(name):
            heights[idx[-1]] += _phase_len(name) - span
    y = header_h + GAP_Y / 2
    phase_rows = {}
    for i, row in enumerate(rows):
        if not row:
            continue
        h = heights[i]
        for k in row:
            boxes[k].y = y
            if k in stacked:
                below = boxes[stacked[k]]
                boxes[k].h = h - STACK_GAP - below.h
                below.y = boxes[k].y + boxes[k].h + STACK_GAP
            else:
                boxes[k].h = h
        phase_rows[i] = (y, y + h)
        y += h + GAP_Y
    phases = {
        "Identification": (phase_rows[0][0], phase_rows[0][1]),
        "Screening": (phase_rows[1][0], phase_rows[3][1]),
        "Included": (phase_rows[4][0], phase_rows[max(phase_rows)][1]),
    }
    width = right + BOX_W + 20
    height = y - GAP_Y + 20
    return list(boxes.values()), edges, {"width": width, "height": height, "phases": phases, "left": left,
                                         "right": right, "previous": bool(previous), "header_h": header_h,
                                         "stacked": stacked}


def render_prisma_svg(counts: dict) -> str:
    boxes, edges, geo = prisma_boxes(counts)
    by_key = {b.key: b for b in boxes}
    W, H = int(geo["width"]), int(geo["height"])
    title = f"PRISMA 2020 flow diagram: {counts.get('protocol_id', '')}"
    ident = counts["prisma"]["identification"]
    desc = (f"{ident['records_identified']} records identified, {ident['duplicates_removed']} duplicates removed, "
            f"{counts['prisma']['screening']['records_screened']} records screened, "
            f"{counts['prisma']['included']['studies']} studies included.")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
           f'role="img" aria-labelledby="prisma-title prisma-desc" font-family="Helvetica, Arial, sans-serif" '
           f'font-size="{FONT}">',
           f'<title id="prisma-title">{escape(title)}</title>',
           f'<desc id="prisma-desc">{escape(desc)}</desc>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker></defs>']
    # column headers
    heads = []
    if geo["previous"]:
        heads.append((LABEL_W + 20, "Previous studies", "#d9d9d9"))
    heads.append((geo["left"], "Identification of new studies via databases and registers" if geo["previous"]
                  else "Identification of studies via databases and registers", "#ffd966"))
    for x, text, fill in heads:
        span = BOX_W if text == "Previous studies" else 2 * BOX_W + GAP_X
        out.append(f'<rect x="{x}" y="8" width="{span}" height="{geo["header_h"] - 14}" rx="6" fill="{fill}" stroke="#555"/>')
        out.append(f'<text x="{x + span / 2}" y="{8 + (geo["header_h"] - 14) / 2 + 5}" text-anchor="middle" '
                   f'font-weight="bold">{escape(text)}</text>')
    # phase labels (vertical bars on the left)
    for name, (y0, y1) in geo["phases"].items():
        out.append(f'<g class="prisma-phase" data-phase="{escape(name)}">')
        out.append(f'<rect x="6" y="{y0:.1f}" width="{LABEL_W}" height="{y1 - y0:.1f}" rx="6" fill="#9dc3e6" stroke="#555"/>')
        cx, cy = 6 + LABEL_W / 2, (y0 + y1) / 2
        out.append(f'<text x="{cx}" y="{cy:.1f}" text-anchor="middle" dominant-baseline="middle" font-weight="bold" '
                   f'transform="rotate(-90 {cx} {cy:.1f})">{escape(name)}</text>')
        out.append("</g>")
    for a, b, way in edges:
        s, t = by_key[a], by_key[b]
        if way == "down":
            x = s.cx
            out.append(f'<line x1="{x:.1f}" y1="{s.y + s.h:.1f}" x2="{x:.1f}" y2="{t.y - 2:.1f}" stroke="#333" '
                       f'stroke-width="1.5" marker-end="url(#arrow)"/>')
        elif way == "branch":  # from the flow box's arrow to the box stacked under its exclusions
            bus = s.x + s.w + GAP_X / 2
            y0 = s.y + min(s.h, by_key[[k for k, v in geo["stacked"].items() if v == b][0]].h) / 2
            out.append(f'<path d="M {bus:.1f} {y0:.1f} V {t.cy:.1f} H {t.x - 2:.1f}" fill="none" stroke="#333" '
                       f'stroke-width="1.5" marker-end="url(#arrow)"/>')
        elif way == "right":
            y = s.y + min(s.h, t.h) / 2 if b in geo["stacked"] else (s.cy if abs(s.y - t.y) < 1 else t.cy)
            out.append(f'<line x1="{s.x + s.w:.1f}" y1="{y:.1f}" x2="{t.x - 2:.1f}" y2="{y:.1f}" stroke="#333" '
                       f'stroke-width="1.5" marker-end="url(#arrow)"/>')
        else:  # left, into the total box
            out.append(f'<path d="M {s.x:.1f} {s.cy:.1f} H {t.cx:.1f} V {t.y - 2:.1f}" fill="none" stroke="#333" '
                       f'stroke-width="1.5" marker-end="url(#arrow)"/>')
    for b in boxes:
        href = f' data-list="{escape(b.href)}"' if b.href else ""
        out.append(f'<g class="prisma-box" data-box="{b.key}"{href}>')
        dash = ' stroke-dasharray="5 3"' if b.dashed else ""
        rect = f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" fill="{b.fill}" stroke="#333"{dash}/>'
        out.append(f'<a href="{escape(b.href)}">{rect}</a>' if b.href else rect)
        for i, (text, bold, line_href) in enumerate(b.lines):
            weight = ' font-weight="bold"' if bold else ""
            t = f'<text x="{b.x + PAD:.1f}" y="{b.y + PAD + LINE * (i + 1) - 4:.1f}"{weight}>{escape(text)}</text>'
            link = line_href or b.href
            out.append(f'<a href="{escape(link)}">{t}</a>' if link else t)
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
