"""Bar charts drawn on the server as SVG: no script, no CDN, nothing fetched by the browser. Each chart is an image
with a title and a text alternative; the same figures are in the table beside it."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup
from ttct.papers import labels

BAR, GAP, LABEL, WIDTH = 22, 8, 170, 640
COLOURS = ("#1d4f91", "#00703c", "#a5161d", "#594d00", "#505a5f", "#6f3c97")  # contrast ≥ 4.5 on white


def _frame(chart_id: str, title: str, height: int, body: list[str], summary: str) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(summary)}</desc>'
        + "".join(body) + "</svg>")


def bars(chart_id: str, title: str, rows: Sequence[tuple[str, float | None]], *, percent: bool = False) -> Markup:
    """One bar per row (label, value); a value of None is drawn as no bar and said as "–"."""
    top = max([v for _, v in rows if v is not None] + [1.0 if percent else 0.0, 1e-9])
    span = WIDTH - LABEL - 70
    body, said = [], []
    for i, (label, value) in enumerate(rows):
        y = i * (BAR + GAP)
        shown = ("–" if value is None else labels.ratio(value)) if percent else ("–" if value is None else f"{value:g}")
        length = 0 if value is None else round(span * value / top)
        body.append(f'<text x="{LABEL - 6}" y="{y + 16}" text-anchor="end" font-size="13" fill="#0b0c0c">'
                    f'{escape(label[:26])}</text>'
                    f'<rect x="{LABEL}" y="{y + 2}" width="{length}" height="{BAR - 4}" fill="{COLOURS[0]}"/>'
                    f'<text x="{LABEL + length + 6}" y="{y + 16}" font-size="13" fill="#0b0c0c">{shown}</text>')
        said.append(f"{label}: {shown}")
    return _frame(chart_id, title, max(len(rows), 1) * (BAR + GAP), body, "; ".join(said))


def stacked(chart_id: str, title: str, rows: Sequence[tuple[str, Sequence[int]]], parts: Sequence[str]) -> Markup:
    """One bar per row split into its parts (e.g. the grade bands), each part's share of the row, with a legend."""
    span = WIDTH - LABEL - 20
    body, said = [], []
    for i, (label, values) in enumerate(rows):
        y, x, whole = i * (BAR + GAP), LABEL, sum(values) or 1
        body.append(f'<text x="{LABEL - 6}" y="{y + 16}" text-anchor="end" font-size="13" fill="#0b0c0c">'
                    f'{escape(label[:26])}</text>')
        for j, value in enumerate(values):
            length = round(span * value / whole)
            if length:
                body.append(f'<rect x="{x}" y="{y + 2}" width="{length}" height="{BAR - 4}" '
                            f'fill="{COLOURS[j % len(COLOURS)]}"/>')
            x += length
        said.append(f"{label}: " + ", ".join(f"{p} {v}" for p, v in zip(parts, values)))
    y = len(rows) * (BAR + GAP) + 6
    for j, part in enumerate(parts):
        x = LABEL + j * 95
        body.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{COLOURS[j % len(COLOURS)]}"/>'
                    f'<text x="{x + 16}" y="{y + 11}" font-size="12" fill="#0b0c0c">{escape(part)}</text>')
    return _frame(chart_id, title, y + 20, body, "; ".join(said))
