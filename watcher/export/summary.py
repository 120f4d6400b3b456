"""The monthly summary an agency forwards: each collection's month, its weekly chart and busiest files.

One self-contained HTML document (its style inline, its charts inline SVG, no script and nothing
loaded from elsewhere), so it reads the same attached to an e-mail, opened from a disk or printed; and
a plain-text form of the same figures for a terminal or a text-only mail. Both come from one
:class:`~watcher.export.overview.Overview`, as the review page's overview does.
"""

from __future__ import annotations

from html import escape

from watcher.base.text import plural
from watcher.export.chart import weekly_chart_svg
from watcher.export.links import WikiLinks
from watcher.export.overview import CollectionMonth, Overview

_STYLE = """
body { font-family: system-ui, sans-serif; color: #1a1a1a; max-width: 46rem; margin: 1.5rem auto;
       padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-top: 1px solid #ccc;
     padding-top: 1rem; }
table.figures { border-collapse: collapse; margin: 0.5rem 0; }
table.figures th, table.figures td { text-align: left; padding: 0.15rem 1rem 0.15rem 0; }
table.figures td { font-variant-numeric: tabular-nums; }
.quiet { color: #555; }
"""


def figure_rows(month: CollectionMonth, label: str) -> list[tuple[str, str]]:
    """(what, how many) of one collection, in the order the page, the summary and status show them."""
    return [
        ("Tracked files", f"{month.tracked_files:,}"),
        (f"Changes in {label}", f"{month.changes:,}"),
        (f"Accepted in {label}", f"{month.accepted:,}"),
        (f"Rejected in {label}", f"{month.rejected:,}"),
        (f"Withdrawn (undone on Commons) in {label}", f"{month.withdrawn:,}"),
        ("Waiting for a decision now", f"{month.pending:,}"),
        ("Last export", month.last_export or "never"),
    ]


def summary_html(overview: Overview, links: WikiLinks) -> str:
    """The whole document."""
    label = overview.month.label
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Commons Watcher: {escape(label)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>What Wikimedia Commons volunteers added in {escape(label)}</h1>",
        f'<p class="quiet">Commons Watcher, {plural(len(overview.collections), "collection")}; '
        f"figures as of {overview.checked_at:%Y-%m-%d %H:%M} UTC. A change is one field of one edit "
        "(a description in one language, a category, a depicts statement); times are UTC.</p>",
    ]
    if not overview.collections:
        parts.append("<p>No collections to show.</p>")
    for month in overview.collections:
        parts.append(_collection_html(month, label, links))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _collection_html(month: CollectionMonth, label: str, links: WikiLinks) -> str:
    rows = "".join(
        f"<tr><th scope='row'>{escape(what)}</th><td>{escape(value)}</td></tr>"
        for what, value in figure_rows(month, label)
    )
    chart = weekly_chart_svg(month.weeks, ident=month.name, heading=f"{month.title}: changes per week")
    busy = (
        "<ol>"
        + "".join(
            f'<li><a href="{escape(links.file_page(b.file))}">{escape(b.file)}</a>: '
            f"{plural(b.changes, 'change')}" + (f", {b.pending:,} waiting" if b.pending else "") + "</li>"
            for b in month.busiest
        )
        + "</ol>"
        if month.busiest
        else f'<p class="quiet">No file was changed in {escape(label)}.</p>'
    )
    return (
        f"<section><h2>{escape(month.title)}</h2>"
        f'<table class="figures">{rows}</table>'
        f"<h3>Changes per week</h3>{chart}"
        f"<h3>Busiest files in {escape(label)}</h3>{busy}</section>"
    )


def summary_text(overview: Overview) -> str:
    """The same figures as lines of text (``watcher summary --format text``)."""
    label = overview.month.label
    lines = [f"Commons Watcher: {label} (as of {overview.checked_at:%Y-%m-%d %H:%M} UTC)"]
    for month in overview.collections:
        lines += ["", f"{month.title} ({month.name})"]
        lines += [f"  {what}: {value}" for what, value in figure_rows(month, label)]
        weekly = ", ".join(f"{w.start:%d %b} {w.total:,}" for w in month.weeks)
        lines.append(f"  Changes per week: {weekly}")
        for b in month.busiest:
            waiting = f", {b.pending:,} waiting" if b.pending else ""
            lines.append(f"  Busy: {b.file}: {plural(b.changes, 'change')}{waiting}")
    return "\n".join(lines) + "\n"
