"""The digest scheduler with an injected clock: ledger, restarts, downtime, empty days, DST, history."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from tests.support.clock import ManualClock
from tests.support.notify import HttpSink, add_change, utc, wait_until
from watcher.config import Config
from watcher.notify import run_notifier
from watcher.notify.channels import Channel, build_channels
from watcher.notify.digest import HISTORY_LIST_MAX, send_due_digests
from watcher.notify.outbox import Outbox, RetryPolicy
from watcher.store import Database

# 07:30 in Stockholm is 06:30 UTC in winter.
MONDAY = date(2026, 3, 2)
MONDAY_FIRE = utc(2026, 3, 2, 6, 30)


def _setup(
    make_config: Callable[[str], Config], sink: HttpSink, extra: str = ""
) -> tuple[Config, list[Channel]]:
    url = sink.url("/digest").replace("http://", "json://")
    config = make_config(f'[[notify]]\nname = "daily"\nurls = ["{url}"]\nmode = "digest"\n{extra}\n')
    channels, problems = build_channels(config)
    assert problems == []
    return config, channels


async def _ledger(db: Database) -> list[tuple[str, int, int, int]]:
    rows = await db.fetchall("SELECT period, changes, missed, messages FROM notify_digests ORDER BY period")
    return [tuple(row) for row in rows]


async def test_restart_between_digest_time_and_sending_gives_exactly_one(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config, channels = _setup(make_config, http_sink)
    await add_change(db, queued_at=MONDAY_FIRE - timedelta(hours=3))
    await add_change(db, queued_at=MONDAY_FIRE + timedelta(minutes=1))  # next day's digest
    # Down at 07:30; started at 09:00: the due digest is composed now.
    clock = ManualClock(utc(2026, 3, 2, 8, 0))
    (outcome,) = await send_due_digests(db, config, channels, clock())
    assert (outcome.period, outcome.changes, outcome.messages) == (MONDAY, 1, 1)
    # It "crashes" before sending: nothing went out, the row waits in the outbox.
    assert http_sink.posts == []
    # Restarted at 09:30: the ledger stops a second composition; a new outbox sends the waiting row.
    clock.now = utc(2026, 3, 2, 8, 30)
    assert await send_due_digests(db, config, channels, clock()) == []
    assert await Outbox(db, channels, clock=clock).deliver_due() == 1
    assert await Outbox(db, channels, clock=clock).deliver_due() == 0
    assert len(http_sink.ok("/digest")) == 1
    assert "1 change on 1 file" in http_sink.posts[0].body["title"]
    assert await _ledger(db) == [("2026-03-02", 1, 0, 1)]


async def test_a_week_of_downtime_gives_one_combined_catch_up_digest(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config, channels = _setup(make_config, http_sink)
    await send_due_digests(db, config, channels, MONDAY_FIRE + timedelta(minutes=5))  # Monday's, empty
    for day in range(7):  # a change every day of the week the daemon is down
        await add_change(db, file=f"File:Day {day}.jpg", queued_at=MONDAY_FIRE + timedelta(days=day, hours=2))
    next_monday = utc(2026, 3, 9, 9, 0)
    (outcome,) = await send_due_digests(db, config, channels, next_monday)
    assert (outcome.period, outcome.changes, outcome.missed) == (date(2026, 3, 9), 7, 6)
    assert await send_due_digests(db, config, channels, next_monday + timedelta(hours=1)) == []
    await Outbox(db, channels, clock=lambda: next_monday).deliver_due()
    (post,) = http_sink.ok("/digest")
    body = post.body["message"]
    assert "Catch-up: the watcher was not running at 6 earlier digest times" in body
    assert all(f"File:Day {day}.jpg" in body for day in range(7))
    assert await _ledger(db) == [("2026-03-02", 0, 0, 0), ("2026-03-09", 7, 6, 1)]


async def test_an_empty_day_sends_nothing_unless_send_empty(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config, channels = _setup(make_config, http_sink)
    (quiet,) = await send_due_digests(db, config, channels, MONDAY_FIRE)
    assert (quiet.changes, quiet.messages) == (0, 0)
    await Outbox(db, channels, clock=lambda: MONDAY_FIRE).deliver_due()
    assert http_sink.posts == []

    config, channels = _setup(make_config, http_sink, "send_empty = true")
    (told,) = await send_due_digests(db, config, channels, MONDAY_FIRE + timedelta(days=1))
    assert (told.changes, told.messages) == (0, 1)
    await Outbox(db, channels, clock=lambda: MONDAY_FIRE + timedelta(days=1)).deliver_due()
    (post,) = http_sink.ok("/digest")
    assert post.body["title"].endswith(": no changes")
    assert "No changes to the museum's files" in post.body["message"]


async def _walk(
    db: Database, config: Config, channels: list[Channel], start: datetime, end: datetime
) -> list[tuple[date, datetime]]:
    """Run the scheduler's step every 10 minutes of (injected) wall time; when did each period go?"""
    composed = []
    now = start
    while now < end:
        for outcome in await send_due_digests(db, config, channels, now):
            composed.append((outcome.period, now))
        now += timedelta(minutes=10)
    return composed


async def test_stockholm_digests_across_both_dst_changes(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config, channels = _setup(make_config, http_sink, 'digest_at = "02:30"\nsend_empty = true')
    spring = await _walk(db, config, channels, utc(2026, 3, 28, 2, 0), utc(2026, 3, 31, 0, 0))
    # 28 March: 02:30 CET (01:30 UTC) — composed at start, as the restart catch-up of that day.
    # 29 March: 02:30 does not exist; fires at 03:00 CEST = 01:00 UTC. 30 March: 02:30 CEST = 00:30 UTC.
    assert spring == [
        (date(2026, 3, 28), utc(2026, 3, 28, 2, 0)),
        (date(2026, 3, 29), utc(2026, 3, 29, 1, 0)),
        (date(2026, 3, 30), utc(2026, 3, 30, 0, 30)),
    ]
    autumn = await _walk(db, config, channels, utc(2026, 10, 24, 0, 40), utc(2026, 10, 27, 0, 0))
    # 25 October: 02:30 happens twice (CEST, then CET); the digest goes once, at the first.
    assert autumn == [
        (date(2026, 10, 24), utc(2026, 10, 24, 0, 40)),  # catch-up at start
        (date(2026, 10, 25), utc(2026, 10, 25, 0, 30)),
        (date(2026, 10, 26), utc(2026, 10, 26, 1, 30)),
    ]
    periods = [row[0] for row in await _ledger(db)]
    assert len(periods) == len(set(periods)) == 6


async def test_many_history_records_are_summarised_not_listed(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config, channels = _setup(make_config, http_sink)
    queued = MONDAY_FIRE - timedelta(hours=1)
    await add_change(db, file="File:Live.jpg", new="live edit", queued_at=queued)
    for n in range(HISTORY_LIST_MAX + 5):
        field = "description" if n % 2 else "date"
        await add_change(db, file=f"File:Old {n % 40}.jpg", field=field, source="history",
                         new=f"history value {n}", queued_at=queued)  # fmt: skip
    (outcome,) = await send_due_digests(db, config, channels, MONDAY_FIRE)
    assert outcome.content is not None
    text = outcome.content.render("text")
    assert (
        f"History backlog (queued by `watcher history`): {HISTORY_LIST_MAX + 6 - 1} changes on 40 files"
        in text
    )
    assert "By field: date ×103, description ×102" in text
    assert "history value" not in text  # summarised, not listed
    assert "live edit" in text


async def test_few_history_records_are_listed(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config, channels = _setup(make_config, http_sink)
    await add_change(db, source="history", new="history value", queued_at=MONDAY_FIRE - timedelta(hours=1))
    (outcome,) = await send_due_digests(db, config, channels, MONDAY_FIRE)
    assert outcome.content is not None
    text = outcome.content.render("text")
    assert "history value" in text and "(history)" in text and "History backlog" not in text


async def test_run_notifier_fires_the_digest_on_its_wall_clock_and_stops_promptly(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config, _ = _setup(make_config, http_sink)
    # A wall clock running in real time from 1.5 s before Monday's digest time.
    started = time.monotonic()
    start_at = MONDAY_FIRE - timedelta(seconds=1.5)

    def clock() -> datetime:
        return start_at + timedelta(seconds=time.monotonic() - started)

    await add_change(db, queued_at=MONDAY_FIRE - timedelta(hours=2))
    async with db.transaction() as conn:  # the previous digest went out on Sunday
        await conn.execute(
            "INSERT INTO notify_digests VALUES ('daily', '2026-03-01', '2026-02-28T06:30:00Z', "
            "'2026-03-01T06:30:00Z', 0, 0, 0, '2026-03-01T06:30:00Z')"
        )
    task = asyncio.create_task(run_notifier(db, config, clock=clock, retry=RetryPolicy(base=0.2)))
    try:
        await wait_until(lambda: len(http_sink.ok("/digest")) == 1)
        assert clock() >= MONDAY_FIRE
    finally:
        task.cancel()
        stopping = time.monotonic()
        await asyncio.gather(task, return_exceptions=True)
    assert time.monotonic() - stopping < 8.0
    assert task.cancelled()
    assert (await _ledger(db))[-1] == ("2026-03-02", 1, 0, 1)
