"""Counts and distinct values of the queue read from the change tallies (watcher.store.tally_tables).

A filter of collections, status, kind, field and language only (what the review page asks on every
load) is answered from ``change_tallies``: a few hundred rows, however many changes the store holds.
Any other filter (a file, an editor, a time range) returns None here and the caller counts ``changes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any, Literal

from watcher.base.values import STATUSES
from watcher.store.engine import Store
from watcher.store.queue import ChangeFilter
from watcher.store.tally_tables import NO_LANGUAGE, TALLY_TABLE

# The ChangeFilter attributes a tally can answer (every other one must filter nothing).
_ANSWERABLE = {"status", "kind", "field", "language", "collections"}


def answerable(selection: ChangeFilter) -> bool:
    """Whether the tallies can count ``selection``: nothing set beyond the tallies' keys."""
    empty = ChangeFilter()
    return all(
        getattr(selection, f.name) == getattr(empty, f.name)
        for f in fields(ChangeFilter)
        if f.name not in _ANSWERABLE
    )


def _where(selection: ChangeFilter) -> tuple[str, list[Any]]:
    """The filter's condition on the tallies: an answerable filter names only the tallies' keys."""
    return selection.where(no_language=NO_LANGUAGE)


async def tallied_count(db: Store, selection: ChangeFilter) -> int | None:
    """How many changes ``selection`` matches; None where the tallies cannot say."""
    if not answerable(selection):
        return None
    where, params = _where(selection)
    return int(await db.scalar(f"SELECT coalesce(sum(total), 0) FROM {TALLY_TABLE}{where}", params))


async def tallied_statuses(db: Store, selection: ChangeFilter) -> dict[str, int] | None:
    """How many changes of each status match ``selection`` bar its status; None where the tallies
    cannot say."""
    if not answerable(selection):
        return None
    where, params = _where(replace(selection, status="all"))
    counts: dict[str, int] = {status: 0 for status in STATUSES}
    rows = await db.fetchall(f"SELECT status, sum(total) FROM {TALLY_TABLE}{where} GROUP BY status", params)
    for status, total in rows:
        counts[str(status)] = int(total)
    return counts


async def tallied_values(
    db: Store, column: Literal["field", "language"], collections: Sequence[str] | None
) -> list[str]:
    """The distinct fields or languages of the changes in ``collections`` (None: every collection),
    of any status and kind, sorted; a change with no language adds none."""
    where, params = _where(ChangeFilter(status="all", kind="all", collections=collections))
    if column == "language":
        where += f"{' AND' if where else ' WHERE'} language <> ?"
        params.append(NO_LANGUAGE)
    rows = await db.fetchall(f"SELECT DISTINCT {column} FROM {TALLY_TABLE}{where} ORDER BY {column}", params)
    return [str(row[0]) for row in rows]
