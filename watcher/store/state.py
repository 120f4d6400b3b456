"""Daemon state in the database: the stream cursor, counters, and the inbox of pending stream work."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite

from watcher.base.retry import Backoff
from watcher.store.db import Database, iso_utc, utcnow

CURSOR_ID = "last_event_id"
CURSOR_TIME = "last_event_time"
FIRST_START = "first_start_at"

# An inbox item that failed waits 30 s, doubling up to 6 h, before its next attempt.
INBOX_BACKOFF = Backoff(30.0, 6 * 3600.0)


async def get_state(db: Database, key: str) -> str | None:
    value = await db.scalar("SELECT value FROM state WHERE key = ?", (key,))
    return None if value is None else str(value)


async def set_state(conn: aiosqlite.Connection, key: str, value: str | None) -> None:
    await conn.execute(
        "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


async def set_cursor(conn: aiosqlite.Connection, event_id: str, event_time: str | None) -> None:
    """Store the stream position; call inside the transaction that stores the work it covers."""
    await set_state(conn, CURSOR_ID, event_id)
    if event_time:
        await set_state(conn, CURSOR_TIME, event_time)


async def add_counters(conn: aiosqlite.Connection, increments: Mapping[str, int]) -> None:
    for name, amount in increments.items():
        if amount:
            await conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (name, amount),
            )


async def get_counters(db: Database) -> dict[str, int]:
    return {row[0]: int(row[1]) for row in await db.fetchall("SELECT name, value FROM counters")}


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    event_key: str
    kind: str
    title: str
    event: dict[str, Any]
    attempts: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> InboxItem:
        return cls(
            row["id"], row["event_key"], row["kind"], row["title"], json.loads(row["event"]), row["attempts"]
        )


async def seen_event(conn: aiosqlite.Connection, event_key: str) -> bool:
    cursor = await conn.execute("SELECT 1 FROM inbox WHERE event_key = ?", (event_key,))
    return await cursor.fetchone() is not None


async def enqueue(
    conn: aiosqlite.Connection, event_key: str, kind: str, title: str, event: dict[str, Any]
) -> bool:
    """Add stream work inside the caller's transaction; False when this event was already taken."""
    cursor = await conn.execute(
        "INSERT INTO inbox (event_key, kind, title, event, received_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(event_key) DO NOTHING",
        (event_key, kind, title, json.dumps(event, ensure_ascii=False), utcnow()),
    )
    return cursor.rowcount > 0


async def remember_event(conn: aiosqlite.Connection, event_key: str, title: str) -> bool:
    """Record an event handled at once (no API work) so a redelivery is recognised; False if seen."""
    cursor = await conn.execute(
        "INSERT INTO inbox (event_key, kind, title, event, received_at, state, done_at) "
        "VALUES (?, 'handled', ?, '{}', ?, 'done', ?) ON CONFLICT(event_key) DO NOTHING",
        (event_key, title, utcnow(), utcnow()),
    )
    return cursor.rowcount > 0


async def due_items(
    db: Database, limit: int, kinds: Sequence[str], now: datetime | None = None
) -> list[InboxItem]:
    stamp = iso_utc(now or datetime.now(UTC))
    rows = await db.fetchall(
        "SELECT * FROM inbox WHERE state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
        f"AND kind IN ({','.join('?' * len(kinds))}) ORDER BY id LIMIT ?",
        (stamp, *kinds, limit),
    )
    return [InboxItem.from_row(row) for row in rows]


async def pending_of_kind(conn: aiosqlite.Connection, kind: str, title: str) -> bool:
    """Whether work of this kind for this title is already waiting (to coalesce refresh requests)."""
    cursor = await conn.execute(
        "SELECT 1 FROM inbox WHERE kind = ? AND title = ? AND state = 'pending' LIMIT 1", (kind, title)
    )
    return await cursor.fetchone() is not None


async def pending_count(db: Database) -> int:
    return int(await db.scalar("SELECT count(*) FROM inbox WHERE state = 'pending'"))


async def next_due_time(db: Database) -> str | None:
    value = await db.scalar("SELECT min(next_attempt_at) FROM inbox WHERE state = 'pending'")
    return None if value is None else str(value)


async def finish_item(conn: aiosqlite.Connection, item_id: int, *, error: str | None = None) -> None:
    """Mark work done (or given up, with the reason) inside the transaction that stored its results."""
    await conn.execute(
        "UPDATE inbox SET state = ?, done_at = ?, last_error = ? WHERE id = ?",
        ("failed" if error else "done", utcnow(), error, item_id),
    )


async def retry_later(db: Database, item: InboxItem, error: str, *, max_attempts: int = 12) -> bool:
    """Schedule another attempt with exponential backoff; False (and failed) after max_attempts."""
    attempts = item.attempts + 1
    async with db.transaction() as conn:
        if attempts >= max_attempts:
            await conn.execute(
                "UPDATE inbox SET state = 'failed', attempts = ?, last_error = ?, done_at = ? WHERE id = ?",
                (attempts, error, utcnow(), item.id),
            )
            return False
        delay = INBOX_BACKOFF.delay(attempts - 1)
        due = iso_utc(datetime.now(UTC) + timedelta(seconds=delay))
        await conn.execute(
            "UPDATE inbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
            (attempts, error, due, item.id),
        )
    return True


async def prune_inbox(db: Database, keep_days: int = 14) -> int:
    """Forget finished work older than the stream's redelivery horizon (EventStreams keeps ~7 days)."""
    limit = iso_utc(datetime.now(UTC) - timedelta(days=keep_days))
    return await db.write("DELETE FROM inbox WHERE state = 'done' AND done_at < ?", (limit,))
