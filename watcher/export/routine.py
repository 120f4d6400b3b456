"""The routine export, the only one that marks what it wrote (contract, "Handing back").

The routine export is what a museum runs every week: every accepted change, of every kind, not
exported before. It marks what it wrote, so that the next one holds only what is new. Any other
selection (``--all``, another status, ``--since``, ``--file``, ``--collection``, a filter of the review
page) writes what matches and marks nothing: a wider one would mark pending changes that are accepted
later, a narrower one changes the routine export never sees again, and either way the collection
system would never get them. One function decides it for `watcher export` and the page's download.

The routine export also carries **retractions**: a change it sent whose decision then moved away from
"accepted" (rejected, undone, put back to pending) comes once more, as a row with status "rejected" and
``retracts`` = when the export that sent it was made, for the collection system to act on. Marking
it clears the change's export mark: accepted again, it is sent again.
"""

from __future__ import annotations

from dataclasses import dataclass

from watcher.export.formats import BY_NAME, DEFAULT_EXPORT, DEFAULT_EXPORT_STATUS
from watcher.store import queue as store_queue
from watcher.store.engine import Store
from watcher.store.queue import ChangeFilter, ChangeRecord

# The routine selection exactly: any field of the filter set to something else narrows or widens it.
ROUTINE_SELECTION = ChangeFilter(status=DEFAULT_EXPORT_STATUS, kind="all", not_exported=True)
RETRACTIONS_DUE = ChangeFilter(status="all", kind="all", retraction_due=True)


@dataclass(frozen=True)
class Batch:
    """What one export writes, and what writing it marks (nothing, unless it is the routine one)."""

    records: list[ChangeRecord]
    exported: list[int]
    retracted: list[int]

    @property
    def marks(self) -> bool:
        return bool(self.exported or self.retracted)


async def select(db: Store, selection: ChangeFilter, fmt: str = DEFAULT_EXPORT) -> Batch:
    """The records an export of ``selection`` writes: for the routine selection, the new accepted
    changes and the retractions due, in edit order; for any other, what matches, marking nothing."""
    records = await store_queue.list_changes(db, selection)
    if not marks_exported(selection, fmt):
        return Batch(records, [], [])
    retractions = [r.as_retraction() for r in await store_queue.list_changes(db, RETRACTIONS_DUE)]
    both = sorted([*records, *retractions], key=lambda r: (r.timestamp, r.id))
    return Batch(both, [r.id for r in records], [r.id for r in retractions])


async def mark(db: Store, batch: Batch) -> str | None:
    """Mark what the routine export wrote; the stamp (for :func:`unmark`), None where nothing marks."""
    if not batch.marks:
        return None
    return await store_queue.mark_exported(db, batch.exported, retracted=batch.retracted)


async def unmark(db: Store, batch: Batch, stamp: str) -> None:
    """Take back :func:`mark` of ``stamp`` (a download that never reached its end)."""
    await store_queue.unmark_exported(db, batch.exported, stamp, retracted=batch.retracted)


def marks_exported(selection: ChangeFilter, fmt: str = DEFAULT_EXPORT) -> bool:
    """Whether an export of ``selection`` in ``fmt`` marks what it wrote: only the routine selection
    does, in a format that writes every record (not the annotations, which state accepted values)."""
    spec = BY_NAME.get(fmt)
    return selection == ROUTINE_SELECTION and spec is not None and spec.complete


async def last_export_time(db: Store) -> str | None:
    """When the collection system was last sent a change (ISO UTC with Z); None if never."""
    value = await db.scalar(
        "SELECT max(at) FROM (SELECT max(exported_at) AS at FROM changes"
        " UNION ALL SELECT max(retracted_at) FROM changes) AS exports"
    )
    return None if value is None else str(value)


def nothing_new(last_export: str | None) -> str:
    """What an empty routine export says instead of writing a file that only holds a header."""
    if last_export is None:
        return "nothing accepted to export yet"
    return f"nothing new since {last_export}"


NOT_MARKED = "nothing marked exported (not the routine selection)"  # said by every other export
NOT_MARKED_FORMAT = "nothing marked exported (this format leaves some changes out; CSV or JSON lines mark)"
