"""One page of the queue grouped by file (or by edit), read from the newest changes down.

The page orders groups by their newest matching change and cuts the ordered changes into pages of
``limit``: page 3 is changes 101 to 150 of that order, so a group may run over two pages. Reading it
as one statement needs every matching change's group first (a window over the whole selection: 100,000
pending changes read and sorted for 50 shown). The first pages, what curators open, are read instead
by walking the selection newest first on the ``(status, kind, timestamp)`` index until the groups
found cover the page: a group whose newest change is newer than the walk's position can no longer be
passed by one not yet found, so its place is known once its size is counted. That reads about as many
changes as the page shows, plus the ties at the walk's position. Deeper pages (beyond
:data:`WALK_ROWS` changes) use the window statement; both give the same page, which a test checks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from watcher.base.values import STATUSES
from watcher.config_collections import DEFAULT_COLLECTION
from watcher.store.engine import Row, Store
from watcher.store.queue import ChangeFilter, ChangeRecord, record_columns
from watcher.web.queries import IN_CHUNK, Grouping, edit_conditions

# Pages that end within this many changes of the top are walked; deeper ones use the window.
WALK_ROWS = 5000
_FIRST_BATCH = 200  # changes read by the walk's first step (then twice as many each step)

# (collection, file) by file; (collection, wiki, revision, file) by edit (an edit is of one file: the
# file lets the (status, kind, file) index find an edit's changes).
GroupKey = tuple[Any, ...]


@dataclass(frozen=True)
class FileGroup:
    """The changes of one file in one collection on a page (a file in two collections is two groups,
    each with its own object id); grouped by edit, of one file's edit (``revision`` set)."""

    file: str
    object_id: str | None
    total: int  # matching changes of this file (or edit) in the whole selection, not just on this page
    changes: list[ChangeRecord]
    revision: int | None = None
    collection: str = DEFAULT_COLLECTION


async def grouped_page(
    db: Store, selection: ChangeFilter, *, limit: int, offset: int, by: Grouping = "file"
) -> list[FileGroup]:
    """One page of the selection, grouped by file (files by newest matching change, changes by time)
    or by edit (newest edit first, its changes in the order they were found)."""
    if offset + limit <= WALK_ROWS:
        records, totals = await _walked_page(db, selection, limit, offset, by)
    else:
        records, totals = await window_page(db, selection, limit, offset, by)
    return _groups(records, totals, by)


def _key(by: Grouping, collection: str, file: str, wiki: str, revision: int) -> GroupKey:
    return (collection, wiki, int(revision), file) if by == "edit" else (collection, file)


def _row_key(row: Row, by: Grouping) -> GroupKey:
    return _key(by, row["collection"], row["file"], row["wiki"], row["revision"])


def _record_key(record: ChangeRecord, by: Grouping) -> GroupKey:
    return _key(by, record.collection, record.file, record.wiki, record.revision)


def _in_page_order(keys: list[GroupKey], latest: dict[GroupKey, str], by: Grouping) -> list[GroupKey]:
    """The window statement's order of groups: newest first, ties as its ORDER BY breaks them (by
    file: file, then collection; by edit: the newer revision, then collection). Two stable sorts."""
    if by == "edit":
        ordered = sorted(keys, key=lambda k: (-k[2], k[0]))
    else:
        ordered = sorted(keys, key=lambda k: (k[1], k[0]))
    ordered.sort(key=lambda k: latest[k], reverse=True)  # stable: ties keep the order above
    return ordered


def _change_order(record: ChangeRecord, by: Grouping) -> tuple[Any, ...]:
    return (record.id,) if by == "edit" else (record.timestamp, record.id)


async def _walked_page(
    db: Store, selection: ChangeFilter, limit: int, offset: int, by: Grouping
) -> tuple[list[ChangeRecord], dict[GroupKey, int]]:
    # The groups' own look-ups leave the collections out: each key names its collection and only the
    # keys' rows are kept, and without it SQLite (which has no statistics) takes the (status, kind,
    # file) index rather than the collection's, which reads every pending change of the collection.
    by_key, by_key_params = replace(selection, collections=None).where()
    needed = offset + limit
    latest: dict[GroupKey, str] = {}  # each group found, with its newest matching change's time
    sizes: dict[GroupKey, int] = {}
    position: tuple[str, int] | None = None  # (timestamp, id) of the last change read
    batch = _FIRST_BATCH
    while True:
        rows = await _newest(db, selection, position, batch)
        for row in rows:
            latest.setdefault(_row_key(row, by), str(row["timestamp"]))
        done = len(rows) < batch
        if rows:
            position = (str(rows[-1]["timestamp"]), int(rows[-1]["id"]))
        # Groups newer than the position keep their place whatever the walk finds next.
        frontier = "" if done or position is None else position[0]
        settled = [key for key, stamp in latest.items() if stamp > frontier]
        await _count_groups(
            db, by_key, by_key_params, [key for key in settled if key not in sizes], by, sizes
        )
        if done or sum(sizes.get(key, 0) for key in settled) >= needed:
            break
        batch *= 2
    shown: list[GroupKey] = []
    before = covered = 0  # changes in the groups before the page; in those on it so far
    for key in _in_page_order(settled, latest, by):
        size = sizes.get(key, 0)  # 0: decided between the walk and the count
        if size == 0 or (not shown and before + size <= offset):
            before += size
            continue
        shown.append(key)
        covered += size
        if before + covered >= needed:
            break
    records = await _group_changes(db, by_key, by_key_params, shown, by)
    place = {key: i for i, key in enumerate(shown)}
    records.sort(key=lambda r: (place[_record_key(r, by)], *_change_order(r, by)))
    begin = offset - before
    return records[begin : begin + limit], {key: sizes[key] for key in shown}


async def _newest(
    db: Store, selection: ChangeFilter, position: tuple[str, int] | None, batch: int
) -> list[Row]:
    """The next ``batch`` changes of the selection after ``position``, newest first (timestamp, then
    id, descending). Every status (the "all" tab) is one walk per status, merged: each keeps to its
    (status, kind, timestamp) index, which no walk over all statuses at once has."""
    statuses = STATUSES if selection.status == "all" else (selection.status,)
    found: list[Row] = []
    for status in statuses:
        where, params = replace(selection, status=status).where()
        keyset: list[Any] = []
        if position is not None:
            # Strictly after `position` in (timestamp DESC, id DESC); the range keeps to the index.
            where += " AND timestamp <= ? AND NOT (timestamp = ? AND id >= ?)"
            keyset = [position[0], position[0], position[1]]
        found += await db.fetchall(
            f"SELECT id, collection, file, wiki, revision, timestamp FROM changes{where}"
            " ORDER BY timestamp DESC, id DESC LIMIT ?",
            [*params, *keyset, batch],
        )
    if len(statuses) > 1:
        found.sort(key=lambda row: (str(row["timestamp"]), int(row["id"])), reverse=True)
    return found[:batch]


def _in_groups(keys: list[GroupKey], by: Grouping) -> list[tuple[str, list[Any]]]:
    """SQL conditions (with their values) that find the changes of ``keys``' groups, a chunk at a
    time: by file ``file IN (…)``, by edit :func:`watcher.web.queries.edit_conditions`."""
    if by == "edit":
        return edit_conditions((wiki, revision, file) for _collection, wiki, revision, file in keys)
    conditions: list[tuple[str, list[Any]]] = []
    titles = sorted({file for _collection, file in keys})
    for start in range(0, len(titles), IN_CHUNK):
        some = titles[start : start + IN_CHUNK]
        conditions.append((f"file IN ({','.join('?' * len(some))})", list(some)))
    return conditions


async def _count_groups(
    db: Store, where: str, params: list[Any], keys: list[GroupKey], by: Grouping, sizes: dict[GroupKey, int]
) -> None:
    """Each group's matching changes in the whole selection, into ``sizes``."""
    wanted = set(keys)
    also = " AND" if where else " WHERE"
    columns = "collection, file, wiki, revision" if by == "edit" else "collection, file"
    for condition, values in _in_groups(keys, by):
        rows = await db.fetchall(
            f"SELECT {columns}, count(*) FROM changes{where}{also} {condition} GROUP BY {columns}",
            [*params, *values],
        )
        for *grouped_by, size in rows:
            # The key's own columns, in its order (a revision as an int, as the walk keeps it).
            key = _key(by, *grouped_by) if by == "edit" else tuple(grouped_by)
            if key in wanted:
                sizes[key] = int(size)


async def _group_changes(
    db: Store, where: str, params: list[Any], keys: list[GroupKey], by: Grouping
) -> list[ChangeRecord]:
    wanted = set(keys)
    also = " AND" if where else " WHERE"
    records: list[ChangeRecord] = []
    for condition, values in _in_groups(keys, by):
        rows = await db.fetchall(
            f"SELECT {record_columns('changes')} FROM changes{where}{also} {condition}", [*params, *values]
        )
        records += [r for r in map(ChangeRecord.from_row, rows) if _record_key(r, by) in wanted]
    return records


async def window_page(
    db: Store, selection: ChangeFilter, limit: int, offset: int, by: Grouping
) -> tuple[list[ChangeRecord], dict[GroupKey, int]]:
    """The page in one statement: window functions give each change its group's newest time and
    size in one pass over the selection; only the page's ids are joined back to whole rows."""
    where, params = selection.where()
    if by == "edit":
        partition, order = "collection, wiki, revision", "latest DESC, revision DESC, collection, id"
    else:
        partition, order = "collection, file", "latest DESC, file, collection, timestamp, id"
    sql = f"""
        WITH sel AS (
            SELECT id, file, wiki, revision, timestamp, collection,
                   max(timestamp) OVER (PARTITION BY {partition}) AS latest,
                   count(*) OVER (PARTITION BY {partition}) AS total
            FROM changes{where}),
        page AS (
            SELECT id, file, wiki, revision, timestamp, collection, latest, total FROM sel
            ORDER BY {order} LIMIT ? OFFSET ?)
        SELECT {record_columns("c")}, page.total AS group_total
        FROM page JOIN changes c ON c.id = page.id
        ORDER BY {", ".join("page." + part for part in order.split(", "))}"""
    rows = await db.fetchall(sql, [*params, limit, offset])
    records = [ChangeRecord.from_row(row) for row in rows]
    totals = {_record_key(r, by): int(row["group_total"]) for r, row in zip(records, rows, strict=True)}
    return records, totals


def _groups(records: list[ChangeRecord], totals: dict[GroupKey, int], by: Grouping) -> list[FileGroup]:
    groups: list[FileGroup] = []
    for record in records:
        revision = record.revision if by == "edit" else None
        last = groups[-1] if groups else None
        if last is None or (last.file, last.revision, last.collection) != (
            record.file,
            revision,
            record.collection,
        ):
            total = totals.get(_record_key(record, by), 0)
            groups.append(FileGroup(record.file, record.object_id, total, [], revision, record.collection))
        groups[-1].changes.append(record)
        if groups[-1].object_id is None and record.object_id:
            groups[-1] = replace(groups[-1], object_id=record.object_id)
    return groups
