"""Changes per week by kind as a small SVG bar chart, rendered on the server.

The same markup goes into the review page's overview and the monthly summary (an e-mail client or a
browser without JavaScript shows it as is). It uses presentation attributes only, no ``style``, so the
page's Content-Security-Policy (``style-src 'self'``) lets it through; the figures are in the chart's
``<desc>`` and in each bar's ``<title>``, so a screen reader and a hover both read them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from watcher.base.text import plural
from watcher.base.values import KINDS, Kind
from watcher.export.overview import WeekBar

# Colours with at least 3:1 contrast against white and against each other's edge (WCAG 1.4.11).
KIND_COLOURS: dict[Kind, str] = {"content": "#1d5b8f", "maintenance": "#8a6d1f"}
WIDTH, HEIGHT = 360, 150
_LEFT, _RIGHT, _TOP, _BOTTOM = 34, 8, 22, 30
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def day_month(week: WeekBar) -> str:
    """``3 Nov``: a week by its Monday, as the axis and the descriptions name it."""
    return f"{week.start.day} {week.start.strftime('%b')}"


def _top_of_scale(largest: int) -> int:
    """A round number at least ``largest`` (1, 2, 5 × a power of ten), so the one axis label reads well."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= largest:
                return step * factor
        step *= 10


def describe(weeks: Sequence[WeekBar]) -> str:
    """The chart in words (its ``<desc>``): each week's figures, quiet weeks said once."""
    if not weeks:
        return "No weeks to show."
    busy = [w for w in weeks if w.total]
    span = f"{len(weeks)} weeks from {day_month(weeks[0])} to {day_month(weeks[-1])}"
    if not busy:
        return f"No changes in the {span}."
    parts = [f"week of {day_month(w)}: " + ", ".join(_kind_counts(w)) for w in busy]
    quiet = len(weeks) - len(busy)
    tail = f"; no changes in the other {plural(quiet, 'week')}" if quiet else ""
    return f"Changes per week by kind, {span}: " + "; ".join(parts) + tail + "."


def _kind_counts(week: WeekBar) -> list[str]:
    return [f"{week.counts.get(k, 0):,} {k}" for k in KINDS if week.counts.get(k, 0)]


def weekly_chart_svg(weeks: Sequence[WeekBar], *, ident: str, heading: str) -> str:
    """An inline ``<svg>`` (no XML declaration) of ``weeks`` as stacked bars, one colour per kind.

    ``ident`` makes the element ids unique on a page that shows several charts (a collection's name);
    ``heading`` is the chart's title.
    """
    safe_id = "chart-" + _ID_UNSAFE.sub("_", ident)
    largest = max((w.total for w in weeks), default=0)
    top = _top_of_scale(max(largest, 1))
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    slot = plot_w / max(len(weeks), 1)
    bar_w = max(slot * 0.7, 1.0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-labelledby="{safe_id}-t {safe_id}-d" class="chart">',
        f'<title id="{safe_id}-t">{escape(heading)}</title>',
        f'<desc id="{safe_id}-d">{escape(describe(weeks))}</desc>',
        # The axis: a base line, the top of the scale and zero.
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{WIDTH - _RIGHT}" y2="{_TOP + plot_h}" '
        'stroke="#555" stroke-width="1"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{WIDTH - _RIGHT}" y2="{_TOP}" stroke="#ccc" '
        'stroke-width="1" stroke-dasharray="3 3"/>',
        f'<text x="{_LEFT - 4}" y="{_TOP + 4}" text-anchor="end" font-size="10" fill="#333">{top:,}</text>',
        f'<text x="{_LEFT - 4}" y="{_TOP + plot_h}" text-anchor="end" font-size="10" fill="#333">0</text>',
    ]
    for i, week in enumerate(weeks):
        x = _LEFT + i * slot + (slot - bar_w) / 2
        base = float(_TOP + plot_h)
        words = f"Week of {day_month(week)}: " + (", ".join(_kind_counts(week)) or "no changes")
        out.append(f"<g><title>{escape(words)}</title>")
        for kind in KINDS:
            count = week.counts.get(kind, 0)
            if not count:
                continue
            height = plot_h * count / top
            base -= height
            out.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
                f'fill="{KIND_COLOURS[kind]}"/>'
            )
        if not week.total:  # a quiet week still has its place on the axis
            out.append(f'<rect x="{x:.1f}" y="{base - 1:.1f}" width="{bar_w:.1f}" height="1" fill="#bbb"/>')
        out.append("</g>")
        if i % 4 == 0 or i == len(weeks) - 1:
            out.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - _BOTTOM + 13}" text-anchor="middle" '
                f'font-size="10" fill="#333">{escape(day_month(week))}</text>'
            )
    legend_x = _LEFT
    for kind in KINDS:
        out.append(f'<rect x="{legend_x}" y="6" width="10" height="10" fill="{KIND_COLOURS[kind]}"/>')
        out.append(f'<text x="{legend_x + 14}" y="15" font-size="11" fill="#222">{kind}</text>')
        legend_x += 14 + 8 * len(kind) + 12
    out.append("</svg>")
    return "\n".join(out)
