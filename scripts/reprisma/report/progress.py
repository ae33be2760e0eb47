"""Screening progress as a small SVG line chart: records decided over time, and of them how many
went on to full text, against the number of records to screen."""

from __future__ import annotations

from xml.sax.saxutils import escape

W, H, L, R, T, B = 640, 260, 60, 20, 20, 50


def render_progress_svg(progress: list[dict], to_screen: int) -> str:
    """``progress``: cumulative rows {date, decided, to_full_text}; ``to_screen``: records screened."""
    if not progress:
        return ""
    top = max(to_screen, progress[-1]["decided"], 1)
    n = len(progress)

    def x(i):
        return L + (W - L - R) * (i / (n - 1) if n > 1 else 0.5)

    def y(v):
        return H - B - (H - T - B) * v / top

    def line(key, colour, label):
        pts = " ".join(f"{x(i):.1f},{y(p[key]):.1f}" for i, p in enumerate(progress))
        dots = "".join(f'<circle cx="{x(i):.1f}" cy="{y(p[key]):.1f}" r="3" fill="{colour}"/>' for i, p in enumerate(progress))
        return f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>{dots}<title>{escape(label)}</title>'

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
           f'aria-label="Screening progress" font-family="Helvetica, Arial, sans-serif" font-size="12">',
           f'<line x1="{L}" y1="{y(0):.1f}" x2="{W - R}" y2="{y(0):.1f}" stroke="#333"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{y(0):.1f}" stroke="#333"/>',
           f'<line x1="{L}" y1="{y(to_screen):.1f}" x2="{W - R}" y2="{y(to_screen):.1f}" stroke="#999" stroke-dasharray="4 3"/>',
           f'<text x="{W - R}" y="{y(to_screen) - 4:.1f}" text-anchor="end" fill="#666">records to screen: {to_screen:,}</text>',
           f'<text x="{L - 6}" y="{y(0):.1f}" text-anchor="end">0</text>',
           f'<text x="{L - 6}" y="{y(top) + 4:.1f}" text-anchor="end">{top:,}</text>',
           line("decided", "#1f77b4", "records with a title/abstract decision"),
           line("to_full_text", "#2ca02c", "records sent on to full text")]
    for i in sorted({0, n - 1}):
        # the first and last dates are anchored inward so the axis never clips them
        anchor = "middle" if n == 1 else ("start" if i == 0 else "end")
        out.append(f'<text x="{x(i):.1f}" y="{H - B + 18}" text-anchor="{anchor}">{escape(progress[i]["date"])}</text>')
    out.append(f'<text x="{L}" y="{H - 8}" fill="#1f77b4">— decided ({progress[-1]["decided"]:,})</text>')
    out.append(f'<text x="{L + 170}" y="{H - 8}" fill="#2ca02c">— sent on to full text ({progress[-1]["to_full_text"]:,})</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
