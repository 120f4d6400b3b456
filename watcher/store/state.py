"""Daemon state in the database: the stream cursor, counters, and the inbox of pending stream work.

Inbox work the Action API cannot answer is tried again with capped backoff (30 s doubling to every
30 min) for as long as the stream keeps the events it came from (``[stream] retention_days``, 7 by
default), so an API outage shorter than that loses nothing. Only then is an item set aside
(``failed``), said loudly, shown by `watcher status`, and `watcher retry` (:func:`requeue_failed`)
puts it back. Every time here comes from :func:`inbox_now` or a ``now`` argument, so tests can move
the clock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from watcher.base.retry import Backoff
from watcher.config import StreamSection
from watcher.store.db import iso_utc
from watcher.store.engine import Connection, Row, Store

CURSOR_ID = "last_event_id"
CURSOR_TIME = "last_event_time"
FIRST_START = "first_start_at"

# An inbox item that failed waits 30 s, doubling up to 30 min, before its next attempt: short enough
# that the work catches up soon after the API is back, long enough to be no load on it meanwhile.
INBOX_RETRY_FIRST = 30.0
INBOX_RETRY_CAP = 30 * 60.0
INBOX_BACKOFF = Backoff(INBOX_RETRY_FIRST, INBOX_RETRY_CAP)
# How long the stream keeps its events, as the config has it by default (`[stream] retention_days`,
# the one place of the figure); the worker passes the configured value. Failing work is retried for
# this long after it was received.
DEFAULT_RETENTION = timedelta(days=StreamSection.retention_days)
# …and tried at least this often (about 3 h at the backoff above) before it is set aside, so work a
# daemon left pending while it was stopped for longer than the retention still gets its chances.
INBOX_MIN_ATTEMPTS = 12
# Work still failing this long after it was received is stuck: `watcher status` says so.
STUCK_AFTER = timedelta(hours=1)


def inbox_now() -> datetime:
    """Now, as the inbox schedules by: one function, so a test can move it (monkeypatch a ManualClock)."""
    return datetime.now(UTC)


def _now(now: datetime | None) -> datetime:
    return inbox_now() if now is None else now


def _parse_utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def get_state(db: Store, key: str) -> str | None:
    value = await db.scalar("SELECT value FROM state WHERE key = ?", (key,))
    return None if value is None else str(value)


async def set_state(conn: Connection, key: str, value: str | None) -> None:
    await conn.execute(
        "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


async def set_cursor(conn: Connection, event_id: str, event_time: str | None) -> None:
    """Store the stream position; call inside the transaction that stores the work it covers."""
    await set_state(conn, CURSOR_ID, event_id)
    if event_time:
        await set_state(conn, CURSOR_TIME, event_time)


async def add_counters(conn: Connection, increments: Mapping[str, int]) -> None:
    for name, amount in increments.items():
        if amount:
            await conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (name, amount),
            )


async def get_counters(db: Store) -> dict[str, int]:
    return {row[0]: int(row[1]) for row in await db.fetchall("SELECT name, value FROM counters")}


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    event_key: str
    kind: str
    title: str
    event: dict[str, Any]
    attempts: int
    received_at: str = ""  # empty: not known (an item made by hand); taken as received now

    @classmethod
    def from_row(cls, row: Row) -> InboxItem:
        return cls(
            row["id"],
            row["event_key"],
            row["kind"],
            row["title"],
            json.loads(row["event"]),
            row["attempts"],
            row["received_at"],
        )

    @property
    def revision(self) -> int | None:
        """The new revision of an edit's event, for messages; None for other work."""
        return event_revision(self.event)

    def describe(self) -> str:
        """The item for a log line: file, revision (or kind) and inbox id, which `watcher retry` takes."""
        return describe_work(self.id, self.title, self.kind, self.revision)


def event_revision(event: dict[str, Any]) -> int | None:
    raw = event.get("revision")
    new = raw.get("new") if isinstance(raw, dict) else None
    return new if isinstance(new, int) and not isinstance(new, bool) else None


def describe_work(item_id: int, title: str, kind: str, revision: int | None) -> str:
    what = f"r{revision}" if revision else {"file": "new file version"}.get(kind, kind)
    return f"{title} {what} (inbox item {item_id})"


async def seen_event(conn: Connection, event_key: str) -> bool:
    cursor = await conn.execute("SELECT 1 FROM inbox WHERE event_key = ?", (event_key,))
    return await cursor.fetchone() is not None


async def enqueue(
    conn: Connection,
    event_key: str,
    kind: str,
    title: str,
    event: dict[str, Any],
    *,
    now: datetime | None = None,
) -> bool:
    """Add stream work inside the caller's transaction; False when this event was already taken."""
    cursor = await conn.execute(
        "INSERT INTO inbox (event_key, kind, title, event, received_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(event_key) DO NOTHING",
        (event_key, kind, title, json.dumps(event, ensure_ascii=False), iso_utc(_now(now))),
    )
    return cursor.rowcount > 0


async def remember_event(
    conn: Connection, event_key: str, title: str, *, now: datetime | None = None
) -> bool:
    """Record an event handled at once (no API work) so a redelivery is recognised; False if seen."""
    stamp = iso_utc(_now(now))
    cursor = await conn.execute(
        "INSERT INTO inbox (event_key, kind, title, event, received_at, state, done_at) "
        "VALUES (?, 'handled', ?, '{}', ?, 'done', ?) ON CONFLICT(event_key) DO NOTHING",
        (event_key, title, stamp, stamp),
    )
    return cursor.rowcount > 0


async def due_items(
    db: Store, limit: int, kinds: Sequence[str], now: datetime | None = None
) -> list[InboxItem]:
    stamp = iso_utc(_now(now))
    rows = await db.fetchall(
        "SELECT * FROM inbox WHERE state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
        f"AND kind IN ({','.join('?' * len(kinds))}) ORDER BY id LIMIT ?",
        (stamp, *kinds, limit),
    )
    return [InboxItem.from_row(row) for row in rows]


async def pending_of_kind(conn: Connection, kind: str, title: str) -> bool:
    """Whether work of this kind for this title is already waiting (to coalesce refresh requests)."""
    cursor = await conn.execute(
        "SELECT 1 FROM inbox WHERE kind = ? AND title = ? AND state = 'pending' LIMIT 1", (kind, title)
    )
    return await cursor.fetchone() is not None


async def pending_count(db: Store) -> int:
    return int(await db.scalar("SELECT count(*) FROM inbox WHERE state = 'pending'"))


async def next_due_time(db: Store) -> str | None:
    value = await db.scalar("SELECT min(next_attempt_at) FROM inbox WHERE state = 'pending'")
    return None if value is None else str(value)


async def finish_item(
    conn: Connection, item_id: int, *, error: str | None = None, now: datetime | None = None
) -> None:
    """Mark work done (or given up, with the reason) inside the transaction that stored its results."""
    await conn.execute(
        "UPDATE inbox SET state = ?, done_at = ?, last_error = ? WHERE id = ?",
        ("failed" if error else "done", iso_utc(_now(now)), error, item_id),
    )


@dataclass(frozen=True, slots=True)
class Retry:
    """What :func:`retry_later` decided for one item."""

    again: bool  # False: set aside (`failed`) until `watcher retry` puts it back
    attempts: int  # attempts so far, this failed one included
    age: timedelta  # since the item was received
    due: datetime | None  # when the next attempt is due; None when set aside
    delay: float  # seconds until then (0 when set aside)

    @property
    def waited(self) -> str:
        """The age for a log line, to the second (``2 days, 3:04:05``)."""
        return str(timedelta(seconds=int(self.age.total_seconds())))


async def retry_later(
    db: Store,
    item: InboxItem,
    error: str,
    *,
    retention: timedelta = DEFAULT_RETENTION,
    now: datetime | None = None,
) -> Retry:
    """Schedule another attempt with capped backoff, or set the item aside for good (`failed`).

    The item is set aside only once it is older than ``retention`` (the stream's: past it, the
    watcher no longer promises to catch up on its own) and was tried at least INBOX_MIN_ATTEMPTS times.
    """
    moment = _now(now)
    attempts = item.attempts + 1
    received = _parse_utc(item.received_at) if item.received_at else moment
    age = max(moment - received, timedelta(0))
    async with db.transaction() as conn:
        if age >= retention and attempts >= INBOX_MIN_ATTEMPTS:
            await conn.execute(
                "UPDATE inbox SET state = 'failed', attempts = ?, last_error = ?, done_at = ? WHERE id = ?",
                (attempts, error, iso_utc(moment), item.id),
            )
            return Retry(False, attempts, age, None, 0.0)
        delay = INBOX_BACKOFF.delay(attempts - 1)
        due = moment + timedelta(seconds=delay)
        await conn.execute(
            "UPDATE inbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
            (attempts, error, iso_utc(due), item.id),
        )
    return Retry(True, attempts, age, due, delay)


@dataclass(frozen=True, slots=True)
class WorkState:
    """One inbox item as `watcher status` and `watcher retry` show it."""

    id: int
    title: str
    kind: str
    revision: int | None
    state: str
    attempts: int
    received_at: str
    next_attempt_at: str | None
    last_error: str | None
    done_at: str | None

    @classmethod
    def from_row(cls, row: Row) -> WorkState:
        try:
            event = json.loads(row["event"])
        except ValueError:
            event = {}
        return cls(
            row["id"],
            row["title"],
            row["kind"],
            event_revision(event) if isinstance(event, dict) else None,
            row["state"],
            row["attempts"],
            row["received_at"],
            row["next_attempt_at"],
            row["last_error"],
            row["done_at"],
        )

    def describe(self) -> str:
        return describe_work(self.id, self.title, self.kind, self.revision)


@dataclass(frozen=True, slots=True)
class InboxSummary:
    """The inbox by what the fetch worker is doing with it; the three counts do not overlap."""

    pending: int  # not tried yet
    retrying: int  # failed at least once, to be tried again
    failed: int  # set aside: `watcher retry` puts it back
    stuck: int  # retrying and received longer ago than ``stuck_after``
    oldest_retrying: WorkState | None


_COLUMNS = "id, title, kind, event, state, attempts, received_at, next_attempt_at, last_error, done_at"


async def inbox_summary(
    db: Store, *, now: datetime | None = None, stuck_after: timedelta = STUCK_AFTER
) -> InboxSummary:
    """Counts for `watcher status`, and the oldest item still being retried (what is stuck, and why)."""
    since = iso_utc(_now(now) - stuck_after)
    row = await db.fetchone(
        "SELECT count(*) FILTER (WHERE attempts = 0), count(*) FILTER (WHERE attempts > 0), "
        "count(*) FILTER (WHERE attempts > 0 AND received_at < ?) FROM inbox WHERE state = 'pending'",
        (since,),
    )
    assert row is not None
    failed = int(await db.scalar("SELECT count(*) FROM inbox WHERE state = 'failed'"))
    oldest = await db.fetchone(
        f"SELECT {_COLUMNS} FROM inbox WHERE state = 'pending' AND attempts > 0 "
        "ORDER BY received_at, id LIMIT 1"
    )
    return InboxSummary(
        int(row[0]),
        int(row[1]),
        failed,
        int(row[2]),
        None if oldest is None else WorkState.from_row(oldest),
    )


async def work_states(db: Store, ids: Sequence[int]) -> dict[int, WorkState]:
    """The named inbox items that exist, by id."""
    found: dict[int, WorkState] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        rows = await db.fetchall(
            f"SELECT {_COLUMNS} FROM inbox WHERE id IN ({','.join('?' * len(chunk))})", chunk
        )
        found.update((int(row["id"]), WorkState.from_row(row)) for row in rows)
    return found


async def failed_items(db: Store) -> list[WorkState]:
    """Every item set aside, oldest first."""
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM inbox WHERE state = 'failed' ORDER BY id")
    return [WorkState.from_row(row) for row in rows]


async def requeue_failed(
    db: Store, ids: Sequence[int] | None = None, *, now: datetime | None = None
) -> list[WorkState]:
    """Put items set aside back to pending (all, or those of ``ids``), due now with no attempts.

    Only ``failed`` items change, in one transaction, so this is safe while the daemon runs: its
    worker picks them up at its next round. The last error stays for reference; ``received_at``
    stays too, so such an item (older than the retention) is set aside again after
    INBOX_MIN_ATTEMPTS more failures rather than a whole retention later. Returns what was put back.
    """
    stamp = iso_utc(_now(now))
    where = "state = 'failed'"
    params: list[Any] = []
    if ids is not None:
        if not ids:
            return []
        where += f" AND id IN ({','.join('?' * len(ids))})"
        params = list(ids)
    async with db.transaction() as conn:
        cursor = await conn.execute(f"SELECT {_COLUMNS} FROM inbox WHERE {where} ORDER BY id", params)
        items = [WorkState.from_row(row) for row in await cursor.fetchall()]
        await conn.execute(
            f"UPDATE inbox SET state = 'pending', attempts = 0, next_attempt_at = ?, done_at = NULL "
            f"WHERE {where}",
            [stamp, *params],
        )
    return items


async def prune_inbox(db: Store, keep_days: int = 14, *, now: datetime | None = None) -> int:
    """Forget finished work older than the stream's redelivery horizon (EventStreams keeps ~7 days)."""
    limit = iso_utc(_now(now) - timedelta(days=keep_days))
    return await db.write("DELETE FROM inbox WHERE state = 'done' AND done_at < ?", (limit,))
