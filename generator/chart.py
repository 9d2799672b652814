"""Small line charts drawn server-side as inline SVG, for a deal's history in the preview
(no script, nothing fetched).  The values are figures of the deal's statements; a chart only
places them (a float here is a pixel position, never an amount)."""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Sequence

#: The drawing's size in its own units: about the width a chart is shown at beside another on a
#: desktop screen, so its words are set near the page's own size there (the preview's CSS sets
#: them larger on a phone, where the chart is drawn smaller)
WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 440, 180, 60, 12, 28, 26
LEGEND_STEP = 18  # a legend line's height, room for its phone size; the plot starts below the last
COLOURS = ("#1f3a5f", "#b5651d", "#2e7d32", "#8e24aa")


def line_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[Decimal | None]]],
               percent: bool = False, chart_id: str = "") -> str:
    """An SVG chart of one or more series over the periods ``labels`` (none: a gap)."""
    values = [v for _, vs in series for v in vs if v is not None]
    top = max(values, default=Decimal(0))
    if top <= 0:  # nothing above zero (no losses yet): a scale of 1% or 1, not 100%
        top = Decimal("0.01") if percent else Decimal(1)
    drawn = [s for s in series if any(v is not None for v in s[1])]  # no legend for nothing
    pad_top = PAD_TOP + LEGEND_STEP * max(0, len(drawn) - 1)  # a legend's line each, above the plot
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - pad_top - PAD_BOTTOM
    step = plot_w / max(1, len(labels) - 1)

    def x(i: int) -> float:
        return PAD_LEFT + i * step

    def y(v: Decimal) -> float:
        return pad_top + plot_h - float(v / top) * plot_h

    def shown(v: Decimal) -> str:
        if percent:
            return f"{v * 100:.2f}%"
        return f"{v / 1_000_000:,.1f}M" if abs(v) >= 1_000_000 else f"{v:,.0f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{html.escape(chart_id)}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{html.escape(title)}">',
             f'<title>{html.escape(title)}</title>',
             f'<text x="{PAD_LEFT}" y="16" class="chart-title">{html.escape(title)}</text>',
             f'<line x1="{PAD_LEFT}" y1="{pad_top + plot_h}" x2="{WIDTH - PAD_RIGHT}" y2="{pad_top + plot_h}" '
             'stroke="#8a94a3"/>',
             f'<text x="{PAD_LEFT - 6}" y="{pad_top + 4}" text-anchor="end" class="axis">{shown(top)}</text>',
             f'<text x="{PAD_LEFT - 6}" y="{pad_top + plot_h}" text-anchor="end" class="axis">0</text>']
    if labels:
        parts.append(f'<text x="{x(0):.1f}" y="{HEIGHT - 6}" class="axis">{html.escape(labels[0])}</text>')
    if len(labels) > 1:
        parts.append(f'<text x="{x(len(labels) - 1):.1f}" y="{HEIGHT - 6}" text-anchor="end" class="axis">'
                     f'{html.escape(labels[-1])}</text>')
    for n, (name, vs) in enumerate(drawn):
        colour = COLOURS[n % len(COLOURS)]
        # the first series solid; each later one dashed, its dots rings: where two meet (OC at its
        # target), the one drawn last does not hide the other
        dash, stroke = (' stroke-dasharray="7 5"', "- -") if n else ("", "\u2014")
        runs, current = [], []
        for i, v in enumerate(vs):
            if v is None:
                runs, current = runs + [current] if current else runs, []
            else:
                current.append(f"{x(i):.1f},{y(v):.1f}")
        runs += [current] if current else []
        for points in runs:
            if len(points) == 1:  # a month alone (the only one, or between gaps): a dot, as a line has no length
                cx, cy = points[0].split(",")
                mark = f'r="5" fill="none" stroke="{colour}" stroke-width="2"' if n else f'r="3" fill="{colour}"'
                parts.append(f'<circle cx="{cx}" cy="{cy}" {mark}><title>{html.escape(name)}</title></circle>')
            else:
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{" ".join(points)}">'
                             f'<title>{html.escape(name)}</title></polyline>')
        parts.append(f'<text x="{WIDTH - PAD_RIGHT}" y="{16 + LEGEND_STEP * n}" text-anchor="end" fill="{colour}" '
                     f'class="legend">{stroke} {html.escape(name)}</text>')  # its stroke, and its name
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["line_chart"]
