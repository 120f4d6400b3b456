"""Issue 13, item 6: inbox work the Action API cannot answer is retried with capped backoff for as
long as the stream keeps its events (7 days), then set aside; `requeue_failed` takes it again.

Time is a :class:`~tests.support.clock.ManualClock` put in place of the inbox's clock: a week of
failures takes a moment.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.clock import ManualClock
from tests.support.core import edit
from watcher.config import StreamSection
from watcher.store import Database, iso_utc
from watcher.store import state as store_state
from watcher.store.state import (
    DEFAULT_RETENTION,
    INBOX_BACKOFF,
    INBOX_MIN_ATTEMPTS,
    INBOX_RETRY_CAP,
    INBOX_RETRY_FIRST,
    STUCK_AFTER,
    InboxItem,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
KINDS = ("edit", "file")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock[datetime]:
    """The inbox's clock, moved by hand."""
    manual = ManualClock(START)
    monkeypatch.setattr(store_state, "inbox_now", manual)
    return manual


async def put(db: Database, key: str, title: str = "File:A.jpg", revision: int = 12) -> int:
    async with db.transaction() as conn:
        assert await store_state.enqueue(conn, key, "edit", title, edit(title, revision - 1, revision))
    return int(await db.scalar("SELECT id FROM inbox WHERE event_key = ?", (key,)))


async def row(db: Database, item_id: int) -> dict[str, object]:
    found = await db.fetchone("SELECT * FROM inbox WHERE id = ?", (item_id,))
    assert found is not None
    return dict(found)


def parse(stamp: object) -> datetime:
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))


async def fail_due_work(db: Database, clock: ManualClock[datetime], until: datetime) -> list[float]:
    """Every attempt fails: take the due work, fail it, move the clock to the next due time, until
    the next is after ``until`` (the clock then stops at ``until``) or nothing is pending. Returns the
    delays the inbox chose."""
    delays: list[float] = []
    while True:
        for item in await store_state.due_items(db, 25, KINDS):
            outcome = await store_state.retry_later(db, item, "cannot fetch revisions: HTTP 503")
            delays.append(outcome.delay)
        due = await store_state.next_due_time(db)
        if due is None or parse(due) > until:
            break
        clock.now = max(clock.now, parse(due))
    clock.now = max(clock.now, until)
    return delays


def test_the_policy_is_named_once() -> None:
    assert (INBOX_RETRY_FIRST, INBOX_RETRY_CAP) == (30.0, 1800.0)
    assert (INBOX_BACKOFF.initial, INBOX_BACKOFF.cap) == (INBOX_RETRY_FIRST, INBOX_RETRY_CAP)
    assert DEFAULT_RETENTION == timedelta(days=StreamSection().retention_days) == timedelta(days=7)


async def test_the_backoff_doubles_from_30_s_and_stops_at_30_min(
    db: Database, clock: ManualClock[datetime]
) -> None:
    await put(db, "k1")
    delays = await fail_due_work(db, clock, START + timedelta(hours=6))
    assert delays[:8] == [30.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1800.0, 1800.0]
    assert set(delays[6:]) == {INBOX_RETRY_CAP}


@pytest.mark.parametrize("outage", [timedelta(hours=14.5), timedelta(days=3), timedelta(days=6.9)], ids=str)
async def test_an_outage_shorter_than_the_retention_keeps_the_work_pending(
    db: Database, clock: ManualClock[datetime], outage: timedelta
) -> None:
    item_id = await put(db, "k1")
    await fail_due_work(db, clock, START + outage)
    assert clock.now == START + outage
    stored = await row(db, item_id)
    assert stored["state"] == "pending"
    assert stored["last_error"] == "cannot fetch revisions: HTTP 503"
    wait = parse(stored["next_attempt_at"]) - clock.now
    assert timedelta(0) < wait <= timedelta(seconds=INBOX_RETRY_CAP)
    # The old policy gave up after 12 attempts (about 14.5 h); this one is far past that.
    assert int(str(stored["attempts"])) > 12
    again = clock.now + wait
    assert [i.id for i in await store_state.due_items(db, 10, KINDS, now=again)] == [item_id]


async def test_past_the_retention_the_work_is_set_aside(db: Database, clock: ManualClock[datetime]) -> None:
    item_id = await put(db, "k1")
    await fail_due_work(db, clock, START + timedelta(days=8))
    stored = await row(db, item_id)
    assert stored["state"] == "failed"
    set_aside_at = parse(stored["done_at"])
    # The first attempt at or after 7 days from received_at (at most one capped delay later).
    assert START + DEFAULT_RETENTION <= set_aside_at <= START + DEFAULT_RETENTION + timedelta(minutes=30)
    assert stored["last_error"] == "cannot fetch revisions: HTTP 503"
    assert await store_state.due_items(db, 10, KINDS, now=START + timedelta(days=365)) == []
    assert await store_state.next_due_time(db) is None


async def test_the_retention_comes_from_the_caller(db: Database, clock: ManualClock[datetime]) -> None:
    """The worker passes `[stream] retention_days`: a wiki that keeps its events longer is retried longer."""
    item_id = await put(db, "k1")
    await db.write("UPDATE inbox SET attempts = 500 WHERE id = ?", (item_id,))
    clock.now = START + timedelta(days=8)
    item = (await store_state.due_items(db, 1, KINDS))[0]
    longer = await store_state.retry_later(db, item, "HTTP 503", retention=timedelta(days=31))
    assert longer.again and longer.age == timedelta(days=8)
    item = dataclasses.replace(item, attempts=longer.attempts)
    assert not (await store_state.retry_later(db, item, "HTTP 503")).again


async def test_work_older_than_the_retention_still_gets_its_tries(
    db: Database, clock: ManualClock[datetime]
) -> None:
    """A daemon stopped for 9 days left work pending: it is tried INBOX_MIN_ATTEMPTS times first."""
    item_id = await put(db, "k1")
    clock.now = START + timedelta(days=9)
    await fail_due_work(db, clock, START + timedelta(days=10))
    stored = await row(db, item_id)
    assert stored["state"] == "failed"
    assert stored["attempts"] == INBOX_MIN_ATTEMPTS
    tried_for = parse(stored["done_at"]) - (START + timedelta(days=9))
    assert timedelta(hours=2) < tried_for < timedelta(hours=4)


async def test_requeue_puts_set_aside_work_back_due_now(db: Database, clock: ManualClock[datetime]) -> None:
    a = await put(db, "ka", "File:A.jpg", 12)
    b = await put(db, "kb", "File:B.jpg", 20)
    c = await put(db, "kc", "File:C.jpg", 30)
    async with db.transaction() as conn:
        await store_state.finish_item(conn, a, error="internal error: KeyError('x')")
        await store_state.finish_item(conn, b, error="cannot fetch revisions: HTTP 503")
    assert [(i.id, i.revision) for i in await store_state.failed_items(db)] == [(a, 12), (b, 20)]
    clock.now = START + timedelta(days=9)
    taken = await store_state.requeue_failed(db, [b, c])
    assert [(i.id, i.title, i.revision, i.state) for i in taken] == [(b, "File:B.jpg", 20, "failed")]
    stored = await row(db, b)
    assert (stored["state"], stored["attempts"], stored["done_at"]) == ("pending", 0, None)
    assert stored["next_attempt_at"] == iso_utc(clock.now)
    assert stored["last_error"] == "cannot fetch revisions: HTTP 503"  # kept for reference
    assert (await row(db, a))["state"] == "failed"  # not named
    assert [i.id for i in await store_state.due_items(db, 10, KINDS)] == [b, c]
    assert [i.id for i in await store_state.requeue_failed(db)] == [a]  # everything left
    assert await store_state.requeue_failed(db) == []
    assert await store_state.requeue_failed(db, []) == []
    states = await store_state.work_states(db, [a, c, 999])
    assert {k: v.state for k, v in states.items()} == {a: "pending", c: "pending"}


async def test_the_summary_tells_what_is_stuck(db: Database, clock: ManualClock[datetime]) -> None:
    await put(db, "k1", "File:Fresh.jpg", 5)
    old = await put(db, "k2", "File:Old.jpg", 7)
    young = await put(db, "k3", "File:Young.jpg", 9)
    gone = await put(db, "k4", "File:Gone.jpg", 11)
    clock.now = START + timedelta(hours=2)
    await store_state.retry_later(db, InboxItem.from_row(await _row(db, old)), "HTTP 503 a")
    async with db.transaction() as conn:
        await store_state.finish_item(conn, gone, error="HTTP 503 b")
        await conn.execute("UPDATE inbox SET received_at = ? WHERE id = ?", (iso_utc(clock.now), young))
    await store_state.retry_later(db, InboxItem.from_row(await _row(db, young)), "HTTP 503 c")
    summary = await store_state.inbox_summary(db)
    assert (summary.pending, summary.retrying, summary.failed, summary.stuck) == (1, 2, 1, 1)
    oldest = summary.oldest_retrying
    assert oldest is not None
    assert (oldest.id, oldest.title, oldest.revision, oldest.attempts) == (old, "File:Old.jpg", 7, 1)
    assert (oldest.received_at, oldest.last_error) == (iso_utc(START), "HTTP 503 a")
    later = await store_state.inbox_summary(db, now=clock.now + STUCK_AFTER + timedelta(seconds=1))
    assert later.stuck == 2


async def _row(db: Database, item_id: int) -> sqlite3.Row:
    found = await db.fetchone("SELECT * FROM inbox WHERE id = ?", (item_id,))
    assert found is not None
    return found
