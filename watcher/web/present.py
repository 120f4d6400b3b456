"""What a card shows a curator: words instead of Wikimedia internals, times, the edit's other changes.

The words come from ``watcher.diff.readable`` with the labels ``watcher.export.words.labels_for``
reads from the cache (in the curator's language first); the raw value stays one click away. Word-level
highlighting runs on the words, so a changed template parameter does not light up its markup.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from markupsafe import Markup

from watcher.base.text import plural
from watcher.base.values import (
    EXPORT_LAYOUTS,
    KIND_CHOICES,
    SOURCES,
    STATUS_CHOICES,
    STATUSES,
    StatusChoice,
)
from watcher.diff.readable import field_words, qualifier_words, statement_value, summary_words, value_words
from watcher.export.formats import EXPORT_STATUS_CHOICES, EXPORTS
from watcher.export.profiles import REGISTRY as PROFILES
from watcher.export.trust import trust_signals
from watcher.export.words import labels_for, queued_labels
from watcher.store.engine import STORE_ERRORS, Store
from watcher.store.queue import ChangeFilter, ChangeRecord
from watcher.store.thumbnails import thumbnails
from watcher.web import queries
from watcher.web.worddiff import word_diff

log = logging.getLogger("watcher.web")

# The bulk bar's actions on each status tab (form action values): deciding what is pending, changing
# or reopening what was decided; never "accept all shown" where everything shown is accepted already.
BULK_ACTIONS: Mapping[StatusChoice, tuple[str, ...]] = {
    "pending": ("accept", "reject", "accept-shown"),
    "accepted": ("reject", "pending"),
    "rejected": ("accept", "pending"),
    "withdrawn": ("reject",),
    "all": ("accept", "reject", "pending"),
}
BULK_LABELS: Mapping[str, str] = {
    "accept": "Accept selected",
    "reject": "Reject selected",
    "pending": "Back to pending",
    "accept-shown": "Accept all shown",
}
# What each key of the page's shortcuts does (app.js binds them; the page lists them).
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("j", "next change"),
    ("k", "previous change"),
    ("a", "accept the change"),
    ("r", "reject the change"),
    ("u", "undo the last decision"),
    ("o or Enter", "open the change"),
    ("?", "show or hide this list"),
)


def when(stamp: str | None) -> str:
    """2026-03-01T07:30:12Z → 2026-03-01 07:30 UTC (the contract's times are UTC)."""
    if not stamp:
        return ""
    return stamp[:16].replace("T", " ") + " UTC"


def time_tag(stamp: str | None) -> Markup:
    """A <time> in UTC, its UTC text also in the title: app.js shows the curator's local time."""
    if not stamp:
        return Markup("")
    return Markup('<time datetime="{0}" title="{1}">{1}</time>').format(stamp, when(stamp))


def pretty_json(value: Any) -> str:
    """Readable JSON for a <pre>; a plain string, so autoescaping still applies."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


TEMPLATE_FILTERS: dict[str, Callable[..., Any]] = {
    "when": when, "time_tag": time_tag, "plural": plural, "pretty_json": pretty_json,
    "trust": trust_signals,
}  # fmt: skip
# The value lists the templates offer (status tabs, filter and export selects), from their one place.
TEMPLATE_GLOBALS: dict[str, Any] = {
    "statuses": STATUSES,
    "status_choices": STATUS_CHOICES,
    "kind_choices": KIND_CHOICES,
    "sources": SOURCES,
    "export_status_choices": EXPORT_STATUS_CHOICES,
    "export_formats": EXPORTS,
    "export_layouts": EXPORT_LAYOUTS,
    "export_profiles": PROFILES,
    "editor_choices": queries.EDITOR_LABELS,
    "groupings": queries.GROUPINGS,
    "bulk_actions": BULK_ACTIONS,
    "bulk_labels": BULK_LABELS,
    "shortcuts": SHORTCUTS,
}


@dataclass(frozen=True)
class Side:
    """One side of a change: the raw value, and the words shown for it (highlighted against the other)."""

    raw: str | None
    html: Markup  # the words, with <del>/<ins> against the other side
    differs: bool  # the words are not the raw value: the raw one is offered under "Wikitext"
    link: str | None = None  # where one click shows more (an item on Wikidata, a point on a map)
    link_label: str = ""
    qualifiers: str = ""  # a statement's qualifiers in words ("object has role: photographer (Q33231)")


@dataclass(frozen=True)
class Card:
    """Everything one change's card shows beside the record itself."""

    change: ChangeRecord
    field: str  # the field in words ("depicts", "camera location")
    old: Side
    new: Side
    summary: str | None  # the edit summary in words
    summary_differs: bool  # ... and it is not the summary as typed
    raw_label: str  # what the raw value is called ("Wikitext", or "Raw value" for a statement)
    edit_ids: tuple[int, ...] = ()  # the pending changes of the same edit this view shows
    then: int | None = None  # the change a no-script page lands on after deciding this one
    then_edit: int | None = None  # ... after deciding the whole edit


def _safe_link(url: str | None) -> str | None:
    if not url or any(ch.isspace() or ch in "\"'<>\\`" for ch in url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _link_label(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if host.endswith("wikidata.org"):
        return "on Wikidata"
    if host.endswith("openstreetmap.org"):
        return "on a map"
    return "open"


def _words(
    record: ChangeRecord, side: Literal["old", "new"], labels: Mapping[str, str]
) -> tuple[str | None, str | None]:
    raw = record.old if side == "old" else record.new
    value = statement_value(raw, record.detail, side) if record.field == "statement" else raw
    readable = value_words(record.field, record.property, value, labels)
    return (readable.text, readable.link) if readable is not None else (None, None)


def card(
    record: ChangeRecord,
    labels: Mapping[str, str],
    *,
    edit_ids: Sequence[int] = (),
    order: Sequence[int] = (),
) -> Card:
    merged = {**queued_labels(record), **labels}
    (old_text, old_link), (new_text, new_link) = _words(record, "old", merged), _words(record, "new", merged)
    old_html, new_html = word_diff(old_text, new_text)

    detail = record.detail or {}

    def side(raw: str | None, text: str | None, html: Markup, link: str | None, which: str) -> Side:
        safe = _safe_link(link)
        differs = raw is not None and text is not None and text.strip() != raw.strip()
        qualifiers = ""
        if record.field == "statement" and raw is not None:
            # A changed statement's detail has the new qualifiers, and the old ones where they differ.
            key = "old_qualifiers" if which == "old" and "old_qualifiers" in detail else "qualifiers"
            qualifiers = qualifier_words(detail.get(key), merged)
        return Side(raw, html, differs, safe, _link_label(safe) if safe else "", qualifiers)

    summary = summary_words(record.comment, merged) if record.comment else None
    return Card(
        change=record,
        field=field_words(record.field, record.property, record.template, merged),
        old=side(record.old, old_text, old_html, old_link, "old"),
        new=side(record.new, new_text, new_html, new_link, "new"),
        summary=summary,
        summary_differs=bool(summary and record.comment and summary.strip() != record.comment.strip()),
        raw_label="Raw value" if record.field == "statement" else "Wikitext",
        edit_ids=tuple(edit_ids),
        then=landing(order, record.id, ()),
        then_edit=landing(order, record.id, edit_ids),
    )


async def cards(
    db: Store,
    records: Iterable[ChangeRecord],
    languages: Sequence[str],
    selection: ChangeFilter | None = None,
    order: Sequence[int] = (),
) -> dict[int, Card]:
    """The cards of ``records`` (labels read once for all of them); with ``selection``, each pending
    change knows the other pending changes of its edit that the view matches; ``order`` is the page's
    order of changes, for where a page without script lands after a decision."""
    records = list({r.id: r for r in records}.values())
    labels = await labels_for(db, records, languages)
    edits = await queries.pending_in_edits(db, selection, records) if selection is not None else {}
    return {r.id: card(r, labels, edit_ids=edits.get(queries.edit_key(r), ()), order=order) for r in records}


async def thumbnail_urls(db: Store, titles: Iterable[str]) -> dict[str, str]:
    """Stored thumbnails of these files; none where the table cannot be read (links.thumbnail falls back)."""
    try:
        return await thumbnails(db, titles)
    except STORE_ERRORS as exc:
        log.warning("thumbnails not read (%s): the page links Special:FilePath instead", exc)
        return {}


def landing(order: Sequence[int], change_id: int, leaving: Iterable[int]) -> int | None:
    """The change a no-script page shows after ``leaving`` were decided from ``change_id``'s card: the
    next one on the page that stays, else the one before; None where none stays."""
    gone = {change_id, *leaving}
    if change_id not in order:
        return None
    index = order.index(change_id)
    after = [i for i in order[index + 1 :] if i not in gone]
    before = [i for i in order[:index] if i not in gone]
    return after[0] if after else (before[-1] if before else None)
