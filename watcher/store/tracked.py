"""The tracked set in the database: which files are the museum's, and why each one is.

One row per file for the whole deployment; each reason, expanded category and object id names the
collection it is of (:mod:`watcher.store.collection_tables`). A file is tracked while it has a reason
of any collection, and is a collection's while it has one of that collection's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass

from watcher.base.values import TrackedReason
from watcher.config_collections import DEFAULT_COLLECTION
from watcher.store.db import utcnow
from watcher.store.engine import Connection, Store

# The `tracked_reasons.source` of each reason `watcher tracked` names: files from the config's own
# list (`files`, `files_from`) are stored as source "file", detail "config".
REASON_OF_SOURCE: dict[str, TrackedReason] = {
    "category": "category",
    "uploader": "uploader",
    "template": "template",
    "file": "list",
}


async def add_file(
    conn: Connection,
    title: str,
    source: str,
    detail: str,
    pageid: int | None = None,
    collection: str = DEFAULT_COLLECTION,
) -> bool:
    """Track a file for a reason of a collection; True when the file was not tracked (or was deleted)
    before (by any collection: the stream's matcher and the fetch worker are one for all)."""
    now = utcnow()
    cursor = await conn.execute("SELECT state FROM tracked_files WHERE title = ?", (title,))
    row = await cursor.fetchone()
    if row is None:
        await conn.execute(
            "INSERT INTO tracked_files (title, pageid, state, added_at, updated_at) VALUES (?, ?, 'active', ?, ?)",
            (title, pageid, now, now),
        )
        is_new = True
    else:
        is_new = row[0] != "active"
        await conn.execute(
            "UPDATE tracked_files SET state = 'active', pageid = coalesce(?, pageid), updated_at = ? WHERE title = ?",
            (pageid, now, title),
        )
    await conn.execute(
        "INSERT INTO tracked_reasons (title, source, detail, collection, added_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (title, source, detail, collection, now),
    )
    return is_new


async def add_files(
    conn: Connection,
    rows: Iterable[tuple[str, int | None]],
    source: str,
    detail: str,
    collection: str = DEFAULT_COLLECTION,
) -> None:
    """Bulk form of :func:`add_file` for resolving large categories."""
    now = utcnow()
    batch = list(rows)
    await conn.executemany(
        "INSERT INTO tracked_files (title, pageid, state, added_at, updated_at) VALUES (?, ?, 'active', ?, ?) "
        "ON CONFLICT(title) DO UPDATE SET state = 'active', pageid = coalesce(excluded.pageid, pageid), "
        "updated_at = excluded.updated_at",
        [(title, pageid, now, now) for title, pageid in batch],
    )
    await conn.executemany(
        "INSERT INTO tracked_reasons (title, source, detail, collection, added_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [(title, source, detail, collection, now) for title, _ in batch],
    )


async def remove_reason(
    conn: Connection, title: str, source: str, detail: str, collection: str | None = None
) -> bool:
    """Drop one reason, of one collection or (None) of every collection that has it (a file that left
    a category left it for all); the file stops being tracked when it has none left. True when it
    stopped.

    The row stays (state 'left', or 'deleted' where the page was deleted) so that later events about
    the file — its deletion, a return to the category — still find it.
    """
    if collection is None:
        await conn.execute(
            "DELETE FROM tracked_reasons WHERE title = ? AND source = ? AND detail = ?",
            (title, source, detail),
        )
    else:
        await conn.execute(
            "DELETE FROM tracked_reasons WHERE title = ? AND source = ? AND detail = ? AND collection = ?",
            (title, source, detail, collection),
        )
    cursor = await conn.execute("SELECT count(*) FROM tracked_reasons WHERE title = ?", (title,))
    row = await cursor.fetchone()
    if row is not None and row[0] == 0:
        cursor = await conn.execute(
            "UPDATE tracked_files SET state = 'left', updated_at = ? WHERE title = ? AND state = 'active'",
            (utcnow(), title),
        )
        return cursor.rowcount > 0
    return False


async def replace_reasons(
    conn: Connection,
    source: str,
    detail: str,
    titles: set[str],
    collection: str = DEFAULT_COLLECTION,
) -> list[str]:
    """After a full resolution of one collection's source: drop its reason from files no longer listed;
    returns the files that left the tracked set (not those another reason keeps)."""
    cursor = await conn.execute(
        "SELECT title FROM tracked_reasons WHERE source = ? AND detail = ? AND collection = ?",
        (source, detail, collection),
    )
    gone = [row[0] for row in await cursor.fetchall() if row[0] not in titles]
    left: list[str] = []
    for title in gone:
        if await remove_reason(conn, title, source, detail, collection):
            left.append(title)
    return left


async def source_files(
    db: Store, source: str, detail: str, collection: str, *, page: int = 5000
) -> AsyncIterator[tuple[str, int | None]]:
    """The active files one source of a collection holds (title, pageid), in title order, a page of
    short reads at a time: what another collection tracking the same source takes instead of asking
    the API again, while writes go on between the pages."""
    after = ""
    while True:
        rows = await db.fetchall(
            "SELECT r.title, f.pageid FROM tracked_reasons r JOIN tracked_files f ON f.title = r.title "
            "WHERE r.source = ? AND r.detail = ? AND r.collection = ? AND r.title > ? AND f.state = 'active' "
            "ORDER BY r.title LIMIT ?",
            (source, detail, collection, after, page),
        )
        for row in rows:
            yield str(row[0]), None if row[1] is None else int(row[1])
        if len(rows) < page:
            return
        after = str(rows[-1][0])


async def rename_file(conn: Connection, old: str, new: str) -> bool:
    """Follow a page move. Reasons move with the file (ON UPDATE CASCADE)."""
    cursor = await conn.execute("SELECT 1 FROM tracked_files WHERE title = ?", (new,))
    if await cursor.fetchone() is not None:
        # Moved over an existing tracked title: merge the reasons, then drop the old row.
        await conn.execute(
            "INSERT INTO tracked_reasons (title, source, detail, collection, added_at) "
            "SELECT ?, source, detail, collection, added_at FROM tracked_reasons WHERE title = ? "
            "ON CONFLICT DO NOTHING",
            (new, old),
        )
        await conn.execute(
            "INSERT INTO tracked_object_ids (title, collection, object_id, object_id_rule, "
            "object_id_revision, object_id_checked_at) SELECT ?, collection, object_id, object_id_rule, "
            "object_id_revision, object_id_checked_at FROM tracked_object_ids WHERE title = ? "
            "ON CONFLICT DO NOTHING",
            (new, old),
        )
        await conn.execute("DELETE FROM tracked_files WHERE title = ?", (old,))
        await conn.execute(
            "UPDATE tracked_files SET state = 'active', updated_at = ? WHERE title = ?", (utcnow(), new)
        )
        return True
    cursor = await conn.execute(
        "UPDATE tracked_files SET title = ?, updated_at = ? WHERE title = ?", (new, utcnow(), old)
    )
    return cursor.rowcount > 0


async def set_deleted(conn: Connection, title: str, deleted: bool) -> bool:
    """Mark a known file deleted, or restored (tracked again where it still has a reason)."""
    if deleted:
        state_sql = "'deleted'"
    else:
        state_sql = "CASE WHEN EXISTS (SELECT 1 FROM tracked_reasons r WHERE r.title = tracked_files.title) THEN 'active' ELSE 'left' END"
    cursor = await conn.execute(
        f"UPDATE tracked_files SET state = {state_sql}, updated_at = ? WHERE title = ?", (utcnow(), title)
    )
    return cursor.rowcount > 0


async def is_tracked(conn: Connection, title: str) -> bool:
    """Whether edits of this file make change records (it is the museum's and exists)."""
    cursor = await conn.execute("SELECT 1 FROM tracked_files WHERE title = ? AND state = 'active'", (title,))
    return await cursor.fetchone() is not None


async def is_known(conn: Connection, title: str) -> bool:
    """Whether the file is or was tracked (moves and deletions of such files are followed)."""
    cursor = await conn.execute("SELECT 1 FROM tracked_files WHERE title = ?", (title,))
    return await cursor.fetchone() is not None


async def tracked_state(db: Store, title: str) -> str | None:
    value = await db.scalar("SELECT state FROM tracked_files WHERE title = ?", (title,))
    return None if value is None else str(value)


async def all_titles(db: Store) -> list[str]:
    return [row[0] for row in await db.fetchall("SELECT title FROM tracked_files")]


async def count_files(db: Store) -> dict[str, int]:
    counts = {"active": 0, "deleted": 0, "left": 0}
    for row in await db.fetchall("SELECT state, count(*) FROM tracked_files GROUP BY state"):
        counts[row[0]] = row[1]
    return counts


async def collection_file_count(db: Store, collection: str) -> int:
    """The active files that are the collection's (have a reason of it)."""
    value = await db.scalar(
        "SELECT count(DISTINCT r.title) FROM tracked_reasons r JOIN tracked_files f ON f.title = r.title "
        "WHERE f.state = 'active' AND r.collection = ?",
        (collection,),
    )
    return int(value or 0)


async def reasons(db: Store, title: str) -> list[tuple[str, str]]:
    rows = await db.fetchall(
        "SELECT DISTINCT source, detail FROM tracked_reasons WHERE title = ? ORDER BY source, detail",
        (title,),
    )
    return [(row[0], row[1]) for row in rows]


async def collections_of(conn: Connection, title: str) -> list[str]:
    """The collections the file is in (those with a reason for it), by name."""
    cursor = await conn.execute(
        "SELECT DISTINCT collection FROM tracked_reasons WHERE title = ? ORDER BY collection", (title,)
    )
    return [str(row[0]) for row in await cursor.fetchall()]


async def set_categories(
    conn: Connection,
    root: str,
    categories: Sequence[tuple[str, str, int]],
    collection: str = DEFAULT_COLLECTION,
) -> list[str]:
    """Replace the expanded categories of one configured root of a collection; returns the ones gone."""
    cursor = await conn.execute(
        "SELECT title FROM tracked_categories WHERE root = ? AND collection = ?", (root, collection)
    )
    keep = {row[0] for row in categories}
    gone = [row[0] for row in await cursor.fetchall() if row[0] not in keep]
    await conn.execute("DELETE FROM tracked_categories WHERE root = ? AND collection = ?", (root, collection))
    await conn.executemany(
        "INSERT INTO tracked_categories (title, root, depth, collection) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(*row, collection) for row in categories],
    )
    return gone


async def categories(db: Store) -> list[str]:
    """Every tracked category, of whichever collection: what the stream's matcher looks for."""
    return [row[0] for row in await db.fetchall("SELECT DISTINCT title FROM tracked_categories")]


async def category_roots(conn: Connection, category: str) -> list[tuple[str, str]]:
    """(collection, configured root) of each collection that tracks a (sub)category: a file joining
    it joins each of them; a refresh of it resolves each root again."""
    cursor = await conn.execute(
        "SELECT collection, root FROM tracked_categories WHERE title = ? ORDER BY collection", (category,)
    )
    return [(str(row[0]), str(row[1])) for row in await cursor.fetchall()]


async def drop_unconfigured(
    conn: Connection, configured: dict[str, set[str]], collection: str = DEFAULT_COLLECTION
) -> list[str]:
    """Forget one collection's reasons whose source its config no longer names; returns the files that
    left the tracked set.

    ``configured["category"]`` holds the configured roots; a file's category reason names the
    (sub)category it is in, which counts while that category is still tracked under a configured root.
    """
    roots = configured.get("category", set())
    cursor = await conn.execute(
        "SELECT DISTINCT root FROM tracked_categories WHERE collection = ?", (collection,)
    )
    for row in await cursor.fetchall():
        if row[0] not in roots:
            await conn.execute(
                "DELETE FROM tracked_categories WHERE root = ? AND collection = ?", (row[0], collection)
            )
    cursor = await conn.execute("SELECT title FROM tracked_categories WHERE collection = ?", (collection,))
    keep = {**configured, "category": roots | {row[0] for row in await cursor.fetchall()}}
    cursor = await conn.execute(
        "SELECT DISTINCT source, detail FROM tracked_reasons WHERE collection = ?", (collection,)
    )
    stale = [(row[0], row[1]) for row in await cursor.fetchall() if row[1] not in keep.get(row[0], set())]
    left: list[str] = []
    for source, detail in stale:
        left += await replace_reasons(conn, source, detail, set(), collection)
    return left


async def drop_other_collections(conn: Connection, names: Sequence[str]) -> list[str]:
    """Forget the reasons, categories and object ids of collections the config no longer has (the
    operator's decision, like a source taken out of a collection); returns the files that left."""
    marks = ",".join("?" * len(names))
    cursor = await conn.execute(
        f"SELECT DISTINCT title FROM tracked_reasons WHERE collection NOT IN ({marks})", tuple(names)
    )
    touched = [str(row[0]) for row in await cursor.fetchall()]
    for table in ("tracked_reasons", "tracked_categories", "tracked_object_ids"):
        await conn.execute(f"DELETE FROM {table} WHERE collection NOT IN ({marks})", tuple(names))
    left: list[str] = []
    for title in touched:
        cursor = await conn.execute(
            "UPDATE tracked_files SET state = 'left', updated_at = ? WHERE title = ? AND state = 'active' "
            "AND NOT EXISTS (SELECT 1 FROM tracked_reasons r WHERE r.title = tracked_files.title)",
            (utcnow(), title),
        )
        if cursor.rowcount > 0:
            left.append(title)
    return left


async def newer_categorisation(
    conn: Connection, title: str, category: str, timestamp: str, added: bool
) -> bool:
    """Record a categorisation event unless a later one for the same file and category was applied."""
    cursor = await conn.execute(
        "SELECT at FROM categorisations WHERE title = ? AND category = ?", (title, category)
    )
    row = await cursor.fetchone()
    if row is not None and row[0] > timestamp:
        return False
    await conn.execute(
        "INSERT INTO categorisations (title, category, at, added) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(title, category) DO UPDATE SET at = excluded.at, added = excluded.added",
        (title, category, timestamp, int(added)),
    )
    return True


# -- what `watcher tracked` and `watcher status` show ------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrackedFile:
    """One tracked file in one collection, why it is that collection's, and its object id by that
    collection's rules as last looked up (a file in two collections is two of these)."""

    title: str
    pageid: int | None
    reasons: tuple[tuple[TrackedReason, str], ...]  # (reason, detail): ("category", "Category:X")
    object_id: str | None
    object_id_rule: str | None  # the rule that found it, as text; None where none matched
    object_id_revision: int | None  # the revision read; None where the file name alone decided
    object_id_checked_at: str | None  # None: never looked up
    collection: str = DEFAULT_COLLECTION


@dataclass(frozen=True, slots=True)
class ObjectIdLookup:
    """What a look-up found for one file in one collection, to store (:func:`set_object_ids`)."""

    title: str
    object_id: str | None
    rule: str | None
    revision: int | None
    collection: str = DEFAULT_COLLECTION


@dataclass(frozen=True, slots=True)
class TrackedSummary:
    """Counts for the summary lines of `watcher tracked` and for `watcher status`."""

    files: int
    by_reason: dict[TrackedReason, int]  # files per kind of reason (a file may have several)
    by_detail: tuple[tuple[TrackedReason, str, int], ...]  # files per configured source
    with_object_id: int
    by_rule: dict[str, int]  # files per rule (as text) that found their object id
    without_object_id: int  # looked up, no rule matched
    never_checked: int
    oldest_check: str | None
    newest_check: str | None


def _reason(source: str) -> TrackedReason:
    return REASON_OF_SOURCE.get(source, "list")


def _in_collection(collection: str | Sequence[str] | None, alias: str = "r") -> tuple[str, tuple[str, ...]]:
    """The SQL condition (and its parameters) that keeps the rows of one collection or of several;
    none for every one."""
    if collection is None:
        return "", ()
    names = (collection,) if isinstance(collection, str) else tuple(collection)
    return f" AND {alias}.collection IN ({','.join('?' * len(names)) or 'NULL'})", names


async def tracked_files(
    db: Store, titles: Sequence[str] | None = None, collection: str | None = None
) -> list[TrackedFile]:
    """The active files (or those of ``titles`` that are active) of one collection or of all, in title
    and then collection order, with that collection's reasons and object id."""
    where, args = _in_collection(collection)
    wanted = None if titles is None else set(titles)
    reasons: dict[tuple[str, str], list[tuple[TrackedReason, str]]] = {}
    pageids: dict[str, int | None] = {}
    for row in await db.fetchall(
        "SELECT r.title, r.collection, r.source, r.detail, f.pageid FROM tracked_reasons r "
        f"JOIN tracked_files f ON f.title = r.title WHERE f.state = 'active'{where} "
        "ORDER BY r.title, r.collection, r.source, r.detail",
        args,
    ):
        if wanted is None or row[0] in wanted:
            reasons.setdefault((row[0], row[1]), []).append((_reason(row[2]), row[3]))
            pageids[row[0]] = row[4]
    where, args = _in_collection(collection, "o")
    found = {
        (row[0], row[1]): (row[2], row[3], row[4], row[5])
        for row in await db.fetchall(
            "SELECT o.title, o.collection, o.object_id, o.object_id_rule, o.object_id_revision, "
            f"o.object_id_checked_at FROM tracked_object_ids o WHERE 1 = 1{where}",
            args,
        )
    }
    listed: list[TrackedFile] = []
    for (title, name), why in reasons.items():
        object_id, rule, revision, checked = found.get((title, name), (None, None, None, None))
        listed.append(
            TrackedFile(title, pageids[title], tuple(why), object_id, rule, revision, checked, name)
        )
    return listed


async def set_object_ids(conn: Connection, found: Iterable[ObjectIdLookup]) -> int:
    """Store what a look-up found (a file moved or dropped meanwhile is skipped); returns rows written."""
    now = utcnow()
    written = 0
    for item in found:
        cursor = await conn.execute(
            "INSERT INTO tracked_object_ids (title, collection, object_id, object_id_rule, object_id_revision, "
            "object_id_checked_at) SELECT title, ?, ?, ?, ?, ? FROM tracked_files WHERE title = ? "
            "ON CONFLICT(title, collection) DO UPDATE SET object_id = excluded.object_id, "
            "object_id_rule = excluded.object_id_rule, object_id_revision = excluded.object_id_revision, "
            "object_id_checked_at = excluded.object_id_checked_at",
            (item.collection, item.object_id, item.rule, item.revision, now, item.title),
        )
        written += cursor.rowcount
    return written


async def tracked_summary(db: Store, collection: str | Sequence[str] | None = None) -> TrackedSummary:
    """Files per reason and per configured source, and how many have an object id by which rule, of
    one collection, of several or of all (a file in two collections counts in each, and once in ``files``)."""
    where, args = _in_collection(collection)
    by_detail: list[tuple[TrackedReason, str, int]] = []
    by_reason: dict[TrackedReason, int] = {}
    for row in await db.fetchall(
        "SELECT r.source, r.detail, count(DISTINCT r.title) FROM tracked_reasons r "
        f"JOIN tracked_files f ON f.title = r.title WHERE f.state = 'active'{where} "
        "GROUP BY r.source, r.detail ORDER BY r.source, r.detail",
        args,
    ):
        by_detail.append((_reason(row[0]), row[1], row[2]))
    for row in await db.fetchall(
        "SELECT r.source, count(DISTINCT r.title) FROM tracked_reasons r "
        f"JOIN tracked_files f ON f.title = r.title WHERE f.state = 'active'{where} GROUP BY r.source",
        args,
    ):
        reason = _reason(row[0])
        by_reason[reason] = by_reason.get(reason, 0) + row[1]
    # One row per file and collection it is active in, with that collection's object id (if looked up).
    # Across collections, from the files themselves: an active file is counted even without a reason.
    members = (
        "SELECT DISTINCT r.title, r.collection FROM tracked_reasons r JOIN tracked_files f "
        f"ON f.title = r.title WHERE f.state = 'active'{where}"
        if collection is not None
        else "SELECT DISTINCT f.title, r.collection FROM tracked_files f LEFT JOIN tracked_reasons r "
        "ON r.title = f.title WHERE f.state = 'active'"
    )
    joined = f"FROM ({members}) m LEFT JOIN tracked_object_ids o ON o.title = m.title AND o.collection = m.collection"
    by_rule = {
        row[0]: row[1]
        for row in await db.fetchall(
            f"SELECT o.object_id_rule, count(*) {joined} WHERE o.object_id IS NOT NULL "
            "GROUP BY o.object_id_rule ORDER BY count(*) DESC, o.object_id_rule",
            args,
        )
    }
    totals = await db.fetchone(
        "SELECT count(DISTINCT m.title), count(o.object_id), "
        "sum(CASE WHEN o.object_id_checked_at IS NOT NULL AND o.object_id IS NULL THEN 1 ELSE 0 END), "
        "sum(CASE WHEN o.object_id_checked_at IS NULL THEN 1 ELSE 0 END), "
        f"min(o.object_id_checked_at), max(o.object_id_checked_at) {joined}",
        args,
    )
    assert totals is not None
    return TrackedSummary(
        files=int(totals[0]),
        by_reason=by_reason,
        by_detail=tuple(by_detail),
        with_object_id=int(totals[1]),
        by_rule=by_rule,
        without_object_id=int(totals[2] or 0),
        never_checked=int(totals[3] or 0),
        oldest_check=totals[4],
        newest_check=totals[5],
    )
