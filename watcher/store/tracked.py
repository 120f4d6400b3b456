"""The tracked set in the database: which files are the museum's, and why each one is."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiosqlite

from watcher.base.values import TrackedReason
from watcher.store.db import Database, utcnow

# The `tracked_reasons.source` of each reason `watcher tracked` names: files from the config's own
# list (`files`, `files_from`) are stored as source "file", detail "config".
REASON_OF_SOURCE: dict[str, TrackedReason] = {
    "category": "category",
    "uploader": "uploader",
    "template": "template",
    "file": "list",
}


async def add_file(
    conn: aiosqlite.Connection, title: str, source: str, detail: str, pageid: int | None = None
) -> bool:
    """Track a file for a reason; True when the file was not tracked (or was deleted) before."""
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
        "INSERT INTO tracked_reasons (title, source, detail, added_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (title, source, detail, now),
    )
    return is_new


async def add_files(
    conn: aiosqlite.Connection, rows: Iterable[tuple[str, int | None]], source: str, detail: str
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
        "INSERT INTO tracked_reasons (title, source, detail, added_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(title, source, detail, now) for title, _ in batch],
    )


async def remove_reason(conn: aiosqlite.Connection, title: str, source: str, detail: str) -> bool:
    """Drop one reason; the file stops being tracked when it has none left. True when it stopped.

    The row stays (state 'left', or 'deleted' where the page was deleted) so that later events about
    the file — its deletion, a return to the category — still find it.
    """
    await conn.execute(
        "DELETE FROM tracked_reasons WHERE title = ? AND source = ? AND detail = ?", (title, source, detail)
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
    conn: aiosqlite.Connection, source: str, detail: str, titles: set[str]
) -> list[str]:
    """After a full resolution: drop the reason from files no longer listed; returns files that left."""
    cursor = await conn.execute(
        "SELECT title FROM tracked_reasons WHERE source = ? AND detail = ?", (source, detail)
    )
    gone = [row[0] for row in await cursor.fetchall() if row[0] not in titles]
    left: list[str] = []
    for title in gone:
        if await remove_reason(conn, title, source, detail):
            left.append(title)
    return left


async def rename_file(conn: aiosqlite.Connection, old: str, new: str) -> bool:
    """Follow a page move. Reasons move with the file (ON UPDATE CASCADE)."""
    cursor = await conn.execute("SELECT 1 FROM tracked_files WHERE title = ?", (new,))
    if await cursor.fetchone() is not None:
        # Moved over an existing tracked title: merge the reasons, then drop the old row.
        await conn.execute(
            "INSERT INTO tracked_reasons (title, source, detail, added_at) "
            "SELECT ?, source, detail, added_at FROM tracked_reasons WHERE title = ? ON CONFLICT DO NOTHING",
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


async def set_deleted(conn: aiosqlite.Connection, title: str, deleted: bool) -> bool:
    """Mark a known file deleted, or restored (tracked again where it still has a reason)."""
    if deleted:
        state_sql = "'deleted'"
    else:
        state_sql = "CASE WHEN EXISTS (SELECT 1 FROM tracked_reasons r WHERE r.title = tracked_files.title) THEN 'active' ELSE 'left' END"
    cursor = await conn.execute(
        f"UPDATE tracked_files SET state = {state_sql}, updated_at = ? WHERE title = ?", (utcnow(), title)
    )
    return cursor.rowcount > 0


async def is_tracked(conn: aiosqlite.Connection, title: str) -> bool:
    """Whether edits of this file make change records (it is the museum's and exists)."""
    cursor = await conn.execute("SELECT 1 FROM tracked_files WHERE title = ? AND state = 'active'", (title,))
    return await cursor.fetchone() is not None


async def is_known(conn: aiosqlite.Connection, title: str) -> bool:
    """Whether the file is or was tracked (moves and deletions of such files are followed)."""
    cursor = await conn.execute("SELECT 1 FROM tracked_files WHERE title = ?", (title,))
    return await cursor.fetchone() is not None


async def tracked_state(db: Database, title: str) -> str | None:
    value = await db.scalar("SELECT state FROM tracked_files WHERE title = ?", (title,))
    return None if value is None else str(value)


async def all_titles(db: Database) -> list[str]:
    return [row[0] for row in await db.fetchall("SELECT title FROM tracked_files")]


async def count_files(db: Database) -> dict[str, int]:
    counts = {"active": 0, "deleted": 0, "left": 0}
    for row in await db.fetchall("SELECT state, count(*) FROM tracked_files GROUP BY state"):
        counts[row[0]] = row[1]
    return counts


async def reasons(db: Database, title: str) -> list[tuple[str, str]]:
    rows = await db.fetchall(
        "SELECT source, detail FROM tracked_reasons WHERE title = ? ORDER BY source", (title,)
    )
    return [(row[0], row[1]) for row in rows]


async def set_categories(
    conn: aiosqlite.Connection, root: str, categories: Sequence[tuple[str, str, int]]
) -> list[str]:
    """Replace the expanded categories of one configured root; returns the ones that are gone."""
    cursor = await conn.execute("SELECT title FROM tracked_categories WHERE root = ?", (root,))
    keep = {row[0] for row in categories}
    gone = [row[0] for row in await cursor.fetchall() if row[0] not in keep]
    await conn.execute("DELETE FROM tracked_categories WHERE root = ?", (root,))
    await conn.executemany(
        "INSERT INTO tracked_categories (title, root, depth) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        categories,
    )
    return gone


async def categories(db: Database) -> list[str]:
    return [row[0] for row in await db.fetchall("SELECT title FROM tracked_categories")]


async def category_root(conn: aiosqlite.Connection, category: str) -> str | None:
    """The configured category that a tracked (sub)category was reached from."""
    cursor = await conn.execute("SELECT root FROM tracked_categories WHERE title = ?", (category,))
    row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def drop_unconfigured(conn: aiosqlite.Connection, configured: dict[str, set[str]]) -> list[str]:
    """Forget reasons whose source the config no longer names; returns the files that left.

    ``configured["category"]`` holds the configured roots; a file's category reason names the
    (sub)category it is in, which counts while that category is still tracked under a configured root.
    """
    roots = configured.get("category", set())
    cursor = await conn.execute("SELECT DISTINCT root FROM tracked_categories")
    for row in await cursor.fetchall():
        if row[0] not in roots:
            await conn.execute("DELETE FROM tracked_categories WHERE root = ?", (row[0],))
    cursor = await conn.execute("SELECT title FROM tracked_categories")
    keep = {**configured, "category": roots | {row[0] for row in await cursor.fetchall()}}
    cursor = await conn.execute("SELECT DISTINCT source, detail FROM tracked_reasons")
    stale = [(row[0], row[1]) for row in await cursor.fetchall() if row[1] not in keep.get(row[0], set())]
    left: list[str] = []
    for source, detail in stale:
        left += await replace_reasons(conn, source, detail, set())
    return left


async def newer_categorisation(
    conn: aiosqlite.Connection, title: str, category: str, timestamp: str, added: bool
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
    """One tracked file, why it is tracked, and its object id as last looked up (migration 7)."""

    title: str
    pageid: int | None
    reasons: tuple[tuple[TrackedReason, str], ...]  # (reason, detail): ("category", "Category:X")
    object_id: str | None
    object_id_rule: str | None  # the rule that found it, as text; None where none matched
    object_id_revision: int | None  # the revision read; None where the file name alone decided
    object_id_checked_at: str | None  # None: never looked up


@dataclass(frozen=True, slots=True)
class ObjectIdLookup:
    """What a look-up found for one file, to store (:func:`set_object_ids`)."""

    title: str
    object_id: str | None
    rule: str | None
    revision: int | None


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


async def tracked_files(db: Database, titles: Sequence[str] | None = None) -> list[TrackedFile]:
    """The active files (or those of ``titles`` that are active) in title order, with their reasons."""
    rows = await db.fetchall(
        "SELECT title, pageid, object_id, object_id_rule, object_id_revision, object_id_checked_at "
        "FROM tracked_files WHERE state = 'active' ORDER BY title"
    )
    wanted = None if titles is None else set(titles)
    reasons: dict[str, list[tuple[TrackedReason, str]]] = {}
    for row in await db.fetchall(
        "SELECT r.title, r.source, r.detail FROM tracked_reasons r JOIN tracked_files f ON f.title = r.title "
        "WHERE f.state = 'active' ORDER BY r.source, r.detail"
    ):
        reasons.setdefault(row[0], []).append((_reason(row[1]), row[2]))
    return [
        TrackedFile(
            title=row[0],
            pageid=row[1],
            reasons=tuple(reasons.get(row[0], ())),
            object_id=row[2],
            object_id_rule=row[3],
            object_id_revision=row[4],
            object_id_checked_at=row[5],
        )
        for row in rows
        if wanted is None or row[0] in wanted
    ]


async def set_object_ids(conn: aiosqlite.Connection, found: Iterable[ObjectIdLookup]) -> int:
    """Store what a look-up found (a file moved or dropped meanwhile is skipped); returns rows written."""
    now = utcnow()
    written = 0
    for item in found:
        cursor = await conn.execute(
            "UPDATE tracked_files SET object_id = ?, object_id_rule = ?, object_id_revision = ?, "
            "object_id_checked_at = ? WHERE title = ?",
            (item.object_id, item.rule, item.revision, now, item.title),
        )
        written += cursor.rowcount
    return written


async def tracked_summary(db: Database) -> TrackedSummary:
    """Files per reason and per configured source, and how many have an object id by which rule."""
    by_detail: list[tuple[TrackedReason, str, int]] = []
    by_reason: dict[TrackedReason, int] = {}
    for row in await db.fetchall(
        "SELECT r.source, r.detail, count(*) FROM tracked_reasons r JOIN tracked_files f ON f.title = r.title "
        "WHERE f.state = 'active' GROUP BY r.source, r.detail ORDER BY r.source, r.detail"
    ):
        by_detail.append((_reason(row[0]), row[1], row[2]))
    for row in await db.fetchall(
        "SELECT r.source, count(DISTINCT r.title) FROM tracked_reasons r "
        "JOIN tracked_files f ON f.title = r.title WHERE f.state = 'active' GROUP BY r.source"
    ):
        reason = _reason(row[0])
        by_reason[reason] = by_reason.get(reason, 0) + row[1]
    by_rule = {
        row[0]: row[1]
        for row in await db.fetchall(
            "SELECT object_id_rule, count(*) FROM tracked_files WHERE state = 'active' "
            "AND object_id IS NOT NULL GROUP BY object_id_rule ORDER BY count(*) DESC, object_id_rule"
        )
    }
    totals = await db.fetchone(
        "SELECT count(*), count(object_id), "
        "sum(CASE WHEN object_id_checked_at IS NOT NULL AND object_id IS NULL THEN 1 ELSE 0 END), "
        "sum(CASE WHEN object_id_checked_at IS NULL THEN 1 ELSE 0 END), "
        "min(object_id_checked_at), max(object_id_checked_at) FROM tracked_files WHERE state = 'active'"
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
