"""Daemon state: the stream cursor, counters, and the inbox of stream work (dedup, due, retry, prune)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from watcher.store import Database, iso_utc, utcnow
from watcher.store import state as store_state
from watcher.store.state import (
    CURSOR_ID,
    CURSOR_TIME,
    InboxItem,
    add_counters,
    due_items,
    enqueue,
    finish_item,
    get_counters,
    get_state,
    next_due_time,
    pending_count,
    prune_inbox,
    remember_event,
    retry_later,
    seen_event,
    set_cursor,
    set_state,
)

SSE_ID = '[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1756449917002}]'


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def put(db: Database, key: str, kind: str = "edit", title: str = "File:A.jpg") -> bool:
    async with db.transaction() as conn:
        return await enqueue(conn, key, kind, title, {"title": title, "note": "ö"})


async def item(db: Database, key: str) -> InboxItem:
    row = await db.fetchone("SELECT * FROM inbox WHERE event_key = ?", (key,))
    assert row is not None
    return InboxItem.from_row(row)


async def test_utc_times_are_iso_with_z() -> None:
    assert iso_utc(datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) == "2026-03-01T12:00:00Z"
    assert iso_utc(datetime(2026, 3, 1, 12, 0)) == "2026-03-01T12:00:00Z"  # naive is UTC
    assert iso_utc(datetime(2026, 3, 1, 14, 0, 59, 999, tzinfo=timezone(timedelta(hours=2)))) == (
        "2026-03-01T12:00:59Z"
    )
    assert abs(parse(utcnow()) - datetime.now(UTC)) < timedelta(minutes=1)


async def test_cursor(db: Database) -> None:
    assert await get_state(db, CURSOR_ID) is None
    async with db.transaction() as conn:
        await set_cursor(conn, SSE_ID, "2025-08-29T06:45:17Z")
    assert await get_state(db, CURSOR_ID) == SSE_ID
    assert await get_state(db, CURSOR_TIME) == "2025-08-29T06:45:17Z"
    async with db.transaction() as conn:
        await set_cursor(conn, "next-id", None)  # no time: the last known time stays
    assert await get_state(db, CURSOR_ID) == "next-id"
    assert await get_state(db, CURSOR_TIME) == "2025-08-29T06:45:17Z"


async def test_cursor_is_rolled_back_with_its_transaction(db: Database) -> None:
    try:
        async with db.transaction() as conn:
            await set_cursor(conn, "lost", "2026-01-01T00:00:00Z")
            raise KeyError("crash")
    except KeyError:
        pass
    assert await get_state(db, CURSOR_ID) is None


async def test_state_values_can_be_cleared(db: Database) -> None:
    async with db.transaction() as conn:
        await set_state(conn, "k", "v")
        await set_state(conn, "k", None)
    assert await get_state(db, "k") is None


async def test_counters_add_up(db: Database) -> None:
    async with db.transaction() as conn:
        await add_counters(conn, {"events_seen": 10, "events_matched": 1, "events_malformed": 0})
        await add_counters(conn, {"events_seen": 5})
    async with db.transaction() as conn:
        await add_counters(conn, {"events_seen": 1, "events_matched": 2})
    assert await get_counters(db) == {"events_seen": 16, "events_matched": 3}  # zeros make no row


async def test_enqueue_once_per_event_key(db: Database) -> None:
    assert await put(db, "commonswiki:rc:1") is True
    assert await put(db, "commonswiki:rc:1", kind="file") is False
    assert await pending_count(db) == 1
    stored = await item(db, "commonswiki:rc:1")
    assert (stored.kind, stored.title, stored.attempts) == ("edit", "File:A.jpg", 0)
    assert stored.event == {"title": "File:A.jpg", "note": "ö"}
    async with db.transaction() as conn:
        assert await seen_event(conn, "commonswiki:rc:1") is True
        assert await seen_event(conn, "commonswiki:rc:2") is False


async def test_remembered_events_are_seen_but_not_pending(db: Database) -> None:
    async with db.transaction() as conn:
        assert await remember_event(conn, "commonswiki:rc:7", "File:A.jpg") is True
        assert await remember_event(conn, "commonswiki:rc:7", "File:A.jpg") is False
        assert await seen_event(conn, "commonswiki:rc:7") is True
        # Work cannot be queued under a key already handled.
        assert await enqueue(conn, "commonswiki:rc:7", "edit", "File:A.jpg", {}) is False
    assert await pending_count(db) == 0
    assert await due_items(db, 10, ("edit", "file", "category", "handled")) == []
    row = await db.fetchone("SELECT state, done_at FROM inbox WHERE event_key = 'commonswiki:rc:7'")
    assert row is not None and row["state"] == "done" and row["done_at"] is not None


async def test_due_items_by_kind_in_arrival_order(db: Database) -> None:
    for n, kind in enumerate(["edit", "category", "file", "edit", "category"]):
        await put(db, f"k{n}", kind=kind, title=f"File:{n}.jpg")
    edits_and_files = await due_items(db, 10, ("edit", "file"))
    assert [i.event_key for i in edits_and_files] == ["k0", "k2", "k3"]
    assert [i.event_key for i in await due_items(db, 10, ("category",))] == ["k1", "k4"]
    assert [i.event_key for i in await due_items(db, 2, ("edit", "file", "category"))] == ["k0", "k1"]
    assert await due_items(db, 10, ("nothing",)) == []


async def test_due_items_respect_next_attempt_at(db: Database) -> None:
    await put(db, "later")
    await put(db, "now")
    await db.write("UPDATE inbox SET next_attempt_at = '2026-03-01T10:05:00Z' WHERE event_key = 'later'")
    at_ten = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert [i.event_key for i in await due_items(db, 10, ("edit",), now=at_ten)] == ["now"]
    at_five_past = at_ten + timedelta(minutes=5)
    assert [i.event_key for i in await due_items(db, 10, ("edit",), now=at_five_past)] == ["later", "now"]
    assert await next_due_time(db) == "2026-03-01T10:05:00Z"


async def test_finish_item_done_and_failed(db: Database) -> None:
    await put(db, "a")
    await put(db, "b")
    async with db.transaction() as conn:
        await finish_item(conn, (await item(db, "a")).id)
        await finish_item(conn, (await item(db, "b")).id, error="revision deleted")
    rows = {r["event_key"]: r for r in await db.fetchall("SELECT * FROM inbox")}
    assert rows["a"]["state"] == "done" and rows["a"]["last_error"] is None
    assert rows["b"]["state"] == "failed" and rows["b"]["last_error"] == "revision deleted"
    assert await pending_count(db) == 0


async def test_retry_later_backs_off_exponentially(db: Database) -> None:
    await put(db, "a")
    delays = []
    for attempt in range(1, 6):
        before = datetime.now(UTC).replace(microsecond=0)
        assert (await retry_later(db, await item(db, "a"), f"HTTP 503 #{attempt}")).again is True
        after = datetime.now(UTC)
        current = await item(db, "a")
        assert current.attempts == attempt
        due = parse(str(await db.scalar("SELECT next_attempt_at FROM inbox WHERE event_key = 'a'")))
        delay = 30 * 2 ** (attempt - 1)
        assert before + timedelta(seconds=delay) <= due <= after + timedelta(seconds=delay)
        delays.append(delay)
        assert await due_items(db, 10, ("edit",)) == []  # not due before its time
        assert [i.event_key for i in await due_items(db, 10, ("edit",), now=due)] == ["a"]
    row = await db.fetchone("SELECT last_error, state FROM inbox WHERE event_key = 'a'")
    assert row is not None and row["last_error"] == "HTTP 503 #5" and row["state"] == "pending"


async def test_retry_backoff_is_capped_at_half_an_hour(db: Database) -> None:
    await put(db, "a")
    await db.write("UPDATE inbox SET attempts = 30 WHERE event_key = 'a'")
    before = datetime.now(UTC).replace(microsecond=0)
    assert (await retry_later(db, await item(db, "a"), "still failing")).again is True
    due = parse(str(await db.scalar("SELECT next_attempt_at FROM inbox WHERE event_key = 'a'")))
    cap = timedelta(seconds=store_state.INBOX_RETRY_CAP)
    assert cap == timedelta(minutes=30)
    assert before + cap <= due <= datetime.now(UTC) + cap


async def test_retry_later_gives_up_past_the_retention_only(db: Database) -> None:
    """Many attempts alone set nothing aside (tests/store/test_retry_policy.py has the whole policy)."""
    await put(db, "a")
    await put(db, "b")
    await db.write("UPDATE inbox SET attempts = 200 WHERE event_key IN ('a', 'b')")
    week_ago = iso_utc(datetime.now(UTC) - timedelta(days=7, minutes=1))
    await db.write("UPDATE inbox SET received_at = ? WHERE event_key = 'a'", (week_ago,))
    assert (await retry_later(db, await item(db, "a"), "gone for good")).again is False
    assert (await retry_later(db, await item(db, "b"), "still down")).again is True
    row = await db.fetchone("SELECT * FROM inbox WHERE event_key = 'a'")
    assert row is not None
    assert (row["state"], row["attempts"], row["last_error"]) == ("failed", 201, "gone for good")
    assert row["done_at"] is not None
    assert await pending_count(db) == 1
    far_future = datetime.now(UTC) + timedelta(days=365)
    assert [i.event_key for i in await due_items(db, 10, ("edit",), now=far_future)] == ["b"]


async def test_prune_inbox_forgets_old_finished_work_only(db: Database) -> None:
    old = iso_utc(datetime.now(UTC) - timedelta(days=15))
    recent = iso_utc(datetime.now(UTC) - timedelta(days=13))
    for key in ("old-done", "recent-done", "old-failed", "pending"):
        await put(db, key)
    await db.write("UPDATE inbox SET state = 'done', done_at = ? WHERE event_key = 'old-done'", (old,))
    await db.write("UPDATE inbox SET state = 'done', done_at = ? WHERE event_key = 'recent-done'", (recent,))
    await db.write("UPDATE inbox SET state = 'failed', done_at = ? WHERE event_key = 'old-failed'", (old,))
    await db.write("UPDATE inbox SET received_at = ? WHERE event_key = 'pending'", (old,))
    assert await prune_inbox(db) == 1
    left = {r[0] for r in await db.fetchall("SELECT event_key FROM inbox")}
    assert left == {"recent-done", "old-failed", "pending"}
    assert await prune_inbox(db, keep_days=1) == 1
    assert await prune_inbox(db) == 0
    # A forgotten event is no longer recognised as seen: that is the price of the horizon.
    async with db.transaction() as conn:
        assert await store_state.seen_event(conn, "old-done") is False
