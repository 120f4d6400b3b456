"""A store of many changes for the review page benchmark, filled fast by direct SQL (COPY on PostgreSQL).

The records are those :mod:`tests.support.queue_sample` makes (its field changes: descriptions, titles,
dates, categories, captions and statements, in five languages, 5 % maintenance), written as the
watcher's own ``insert_changes`` writes them (the same columns, ``unique_key`` and JSON), only many at
a time: 1,000,000 changes by default, about three an edit, over 200,000 files in
:data:`COLLECTIONS` collections of unequal size, a year of edits by 2,000 accounts and some IP
addresses. The newest edits are the queue: :data:`PENDING_SHARE` of the records pending, nearly all
of them the newest; the older ones reviewed (85 % accepted, half of those exported; 15 % rejected),
with a few stragglers left pending; a fifth found by history mode.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.memory_daemon import collection_name
from tests.support.queue_sample import _change
from watcher.store.db import iso_utc
from watcher.store.editors import encode
from watcher.store.open import connect_store
from watcher.store.pg_schema import advance_identities
from watcher.store.queue import unique_key

COLLECTIONS = 5
COLLECTION_WEIGHTS = (40, 25, 15, 12, 8)  # a large museum, a few smaller ones
PENDING_SHARE = 0.10
POOL = 20_000
START = datetime(2025, 12, 1, tzinfo=UTC)
COLUMNS = (
    "id", "wiki", "file", "object_id", "revision", "old_revision", "timestamp", "user", "comment", "field",
    "template", "property", "language", "action", "kind", "old", "new", "detail", "status", "source",
    "queued_at", "reviewer", "reviewed_at", "exported_at", "unique_key", "tags", "editor", "tools",
    "collection",
)  # fmt: skip
_REVIEWERS = ("curator-anna", "curator-ben", "curator-chidi")
_TAGS = ((), (), ("mobile edit", "mobile web edit"), ("visualeditor",), ("uploadwizard",))


def _users(rng: random.Random) -> list[tuple[str, str | None]]:
    """(user name, editor JSON): 2,000 accounts with their facts, 200 IP addresses without."""
    accounts = [
        (
            f"Editor {n}",
            encode({"edits": rng.choice((3, 40, 900, 25_000)), "registered": iso_utc(START - timedelta(days=rng.randint(1, 4000)))}),
        )
        for n in range(2000)
    ]  # fmt: skip
    ips: list[tuple[str, str | None]] = [(f"203.0.113.{n % 250}", None) for n in range(200)]
    return accounts + ips


def rows(
    count: int, *, files: int | None = None, pending: float = PENDING_SHARE, seed: int = 20
) -> list[tuple[Any, ...]]:
    """``count`` change records in :data:`COLUMNS` order, ids 1..count, oldest first."""
    rng = random.Random(seed)
    files = files or max(1, count // 5)
    users = _users(rng)
    names = [collection_name(i) for i in range(COLLECTIONS)]
    owner = rng.choices(range(COLLECTIONS), COLLECTION_WEIGHTS, k=files)
    seconds = 365 * 86400 / max(1, count // 3)  # a year of edits, about three records each
    # Distinct field changes to draw each edit's from (making one per record costs 10x the rest).
    made = {change.key(): change for change in (_change(rng, False) for _ in range(POOL))}  # distinct
    pool = [(change, change.detail_json()) for change in made.values()]
    out: list[tuple[Any, ...]] = []
    revision = 900_000_000
    moment = START
    queue_from = int(count * (1 - pending * 0.95))  # the newest records, nearly all pending
    while len(out) < count:
        number = rng.randrange(files)
        collection = names[owner[number]]
        revision += rng.randint(1, 40)
        moment += timedelta(seconds=rng.expovariate(1 / seconds))
        stamp = iso_utc(moment)
        queued = iso_utc(moment + timedelta(seconds=rng.randint(2, 90)))
        user, editor = rng.choice(users)
        source = "history" if rng.random() < 0.2 else "live"
        newest = len(out) >= queue_from
        straggler = rng.random() < pending * 0.05 / (1 - pending * 0.95)
        status = "pending" if newest or straggler else ("accepted" if rng.random() < 0.85 else "rejected")
        reviewer = reviewed = exported = None
        if status != "pending":
            reviewer = rng.choice(_REVIEWERS)
            reviewed = iso_utc(moment + timedelta(days=rng.randint(1, 20)))
            if status == "accepted" and rng.random() < 0.5:
                exported = iso_utc(moment + timedelta(days=rng.randint(21, 40)))
        tags = encode(rng.choice(_TAGS))
        for change, detail in rng.sample(pool, min(rng.randint(1, 5), count - len(out))):
            out.append(
                (
                    len(out) + 1, "commonswiki", f"File:Museum object {number:06d} - EXM {number}.jpg",
                    f"EXM-{number}" if number % 9 else None, revision, revision - rng.randint(1, 400), stamp,
                    user, f"{change.field} of object {number}", change.field, change.template,
                    change.property, change.language, change.action, change.kind, change.old, change.new,
                    detail, status, source, queued, reviewer, reviewed, exported,
                    unique_key("commonswiki", revision, change, collection), tags, editor, "[]", collection,
                )
            )  # fmt: skip
    return out


def _insert_sql() -> str:
    return f"INSERT INTO changes ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


async def _migrate(location: str) -> None:
    db = await connect_store(location)
    await db.close()


def fill_sqlite(path: Path, records: Sequence[tuple[Any, ...]]) -> None:
    """A fresh watcher database at ``path`` holding ``records``: migrated by the watcher, then one
    transaction of plain inserts (the indexes kept up as the daemon keeps them), no ANALYZE (the
    watcher runs none)."""
    asyncio.run(_migrate(str(path)))
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB for the fill only
        with conn:
            conn.executemany(_insert_sql(), records)
    finally:
        conn.close()


async def fill_postgres(dsn: str, records: Sequence[tuple[Any, ...]]) -> None:
    """The same on PostgreSQL: migrated by the watcher, then COPY, the identity counter advanced as
    ``watcher db copy`` leaves it, and ``VACUUM ANALYZE`` (what autovacuum does to a table that grew)."""
    await _migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        for start in range(0, len(records), 100_000):
            await conn.copy_records_to_table(
                "changes", records=records[start : start + 100_000], columns=COLUMNS
            )
        await advance_identities(conn)
        await conn.execute("VACUUM ANALYZE changes")
    finally:
        await conn.close()


def check(records: Sequence[tuple[Any, ...]]) -> dict[str, int]:
    """How many records of each status (what the benchmark prints about its store)."""
    status = COLUMNS.index("status")
    counts: dict[str, int] = {}
    for record in records:
        counts[record[status]] = counts.get(record[status], 0) + 1
    return counts
