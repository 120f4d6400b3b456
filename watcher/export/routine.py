"""The routine export, the only one that marks what it wrote (contract, "Handing back").

The routine export is what a museum runs every week: every accepted change, of every kind, not
exported before. It marks what it wrote, so that the next one holds only what is new. Any other
selection (``--all``, another status, ``--since``, ``--file``, ``--collection``, a filter of the review
page) writes what matches and marks nothing: a wider one would mark pending changes that are accepted
later, a narrower one changes the routine export never sees again, and either way the collection
system would never get them. One function decides it for `watcher export` and the page's download.
"""

from __future__ import annotations

from watcher.export.formats import DEFAULT_EXPORT_STATUS
from watcher.store.db import Database
from watcher.store.queue import ChangeFilter

# The routine selection exactly: any field of the filter set to something else narrows or widens it.
ROUTINE_SELECTION = ChangeFilter(status=DEFAULT_EXPORT_STATUS, kind="all", not_exported=True)


def marks_exported(selection: ChangeFilter) -> bool:
    """Whether an export of ``selection`` marks what it wrote: only the routine selection does."""
    return selection == ROUTINE_SELECTION


async def last_export_time(db: Database) -> str | None:
    """When the collection system was last sent a change (ISO UTC with Z); None if never."""
    value = await db.scalar("SELECT max(exported_at) FROM changes")
    return None if value is None else str(value)


def nothing_new(last_export: str | None) -> str:
    """What an empty routine export says instead of writing a file that only holds a header."""
    if last_export is None:
        return "nothing accepted to export yet"
    return f"nothing new since {last_export}"


NOT_MARKED = "nothing marked exported (not the routine selection)"  # said by every other export
