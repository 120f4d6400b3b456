"""Per-channel filters of ``[[notify]]`` as SQL conditions on ``changes``: one function a filter.

A filter takes the channel's settings and returns ``(condition, params)``, or None where the channel
does not use it. Adding a filter is one function here, its name in :data:`FILTERS`, and its key in
``watcher.config.NotifyChannel``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from watcher.config import Config, NotifyChannel
from watcher.store.queue import NO_LANGUAGE_VALUES
from watcher.tracking.resolver import canonical_title

Condition = tuple[str, list[Any]]


def _placeholders(values: tuple[Any, ...] | list[Any]) -> str:
    return ",".join("?" * len(values))


def by_kind(channel: NotifyChannel) -> Condition | None:
    return ("kind = ?", [channel.kind]) if channel.kind != "all" else None


def by_field(channel: NotifyChannel) -> Condition | None:
    if not channel.fields:
        return None
    return f"field IN ({_placeholders(channel.fields)})", [
        f.strip().lower().replace("_", " ") for f in channel.fields
    ]


def by_language(channel: NotifyChannel) -> Condition | None:
    """``languages`` may name ``"none"`` (or ``""``) for values without a language."""
    if not channel.languages:
        return None
    codes = [code.strip() for code in channel.languages if code.strip().lower() not in NO_LANGUAGE_VALUES]
    parts = [f"language IN ({_placeholders(codes)})"] if codes else []
    if len(codes) < len(channel.languages):
        parts.append("language IS NULL")
    return "(" + " OR ".join(parts) + ")", list(codes)


def by_file(channel: NotifyChannel) -> Condition | None:
    if not channel.files:
        return None
    return f"file IN ({_placeholders(channel.files)})", [canonical_title(f, "File") for f in channel.files]


def by_category(channel: NotifyChannel) -> Condition | None:
    """Changes of files a collection tracks because of that configured category (or one of its
    subcategories, as ``category_depth`` expanded it), in that collection: a file tracked by one
    collection for the category and by another for its uploader gives this channel only the first's."""
    if not channel.categories:
        return None
    names = [canonical_title(c, "Category") for c in channel.categories]
    marks = _placeholders(names)
    return (
        "EXISTS (SELECT 1 FROM tracked_reasons r WHERE r.title = changes.file"
        " AND r.collection = changes.collection AND r.source = 'category'"
        f" AND (r.detail IN ({marks}) OR r.detail IN (SELECT c.title FROM tracked_categories c"
        f" WHERE c.collection = changes.collection AND c.root IN ({marks}))))",
        [*names, *names],
    )


def by_editor_edits(channel: NotifyChannel) -> Condition | None:
    """``min_editor_edits``: accounts with at least that many edits when the change was queued; IP
    addresses, temporary accounts and records without editor facts count as 0."""
    if channel.min_editor_edits <= 0:
        return None
    return "coalesce(CAST(json_extract(editor, '$.edits') AS INTEGER), 0) >= ?", [channel.min_editor_edits]


def by_reverted(channel: NotifyChannel) -> Condition | None:
    """``exclude_reverted``: leave out what Commons undid (withdrawn, or reverted after a decision)."""
    if not channel.exclude_reverted:
        return None
    return "(status != 'withdrawn' AND reverted_by IS NULL)", []


def by_collection(channel: NotifyChannel) -> Condition | None:
    """``collections``: only those collections' changes (a file in two has its records in each)."""
    if not channel.collections:
        return None
    return f"collection IN ({_placeholders(channel.collections)})", list(channel.collections)


FILTERS: tuple[Callable[[NotifyChannel], Condition | None], ...] = (
    by_collection,
    by_kind,
    by_field,
    by_language,
    by_file,
    by_category,
    by_editor_edits,
    by_reverted,
)


def filter_sql(channel: NotifyChannel) -> Condition:
    """The channel's filters joined with AND (``"1 = 1"`` when it takes everything)."""
    clauses: list[str] = []
    params: list[Any] = []
    for build in FILTERS:
        condition = build(channel)
        if condition is not None:
            clauses.append(condition[0])
            params.extend(condition[1])
    return (" AND ".join(clauses) or "1 = 1"), params


def channel_collections(channel: NotifyChannel, config: Config) -> tuple[str, ...]:
    """The collections whose changes the channel sends, in config order (empty ``collections``: all)."""
    return tuple(n for n in config.collection_names if not channel.collections or n in channel.collections)


def narrowed(channel: NotifyChannel, collections: Sequence[str] | None) -> NotifyChannel | None:
    """The channel limited to ``collections`` too (`watcher digest --collection`); None where it takes
    none of them (an empty ``collections`` would mean every collection, not none)."""
    if collections is None:
        return channel
    taken = tuple(c for c in collections if not channel.collections or c in channel.collections)
    return replace(channel, collections=taken) if taken else None
