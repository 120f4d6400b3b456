"""run_notifier as the daemon runs it: coalesced alerts, a durable cursor, prompt and graceful stops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from tests.support.notify import HttpSink, add_change, wait_until
from watcher.config import Config
from watcher.notify import run_notifier
from watcher.notify.outbox import RetryPolicy
from watcher.store import Database

FAST = RetryPolicy(base=0.2, cap=1.0, grace=3.0)


def _config(make_config: Callable[[str], Config], sink: HttpSink, coalesce: float) -> Config:
    url = sink.url("/alerts").replace("http://", "json://")
    return make_config(
        f'[[notify]]\nname = "desk"\nurls = ["{url}"]\nmode = "immediate"\ncoalesce_seconds = {coalesce}\n'
    )


async def _stop(task: asyncio.Task[None]) -> float:
    task.cancel()
    started = time.monotonic()
    await asyncio.gather(task, return_exceptions=True)
    return time.monotonic() - started


async def test_changes_within_the_coalescing_window_make_one_alert(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config = _config(make_config, http_sink, coalesce=0.6)
    wake = asyncio.Event()
    task = asyncio.create_task(run_notifier(db, config, wake=wake, retry=FAST))
    try:
        await _cursor_read(db)
        for n in range(3):  # back to back: well inside the window even on a busy machine
            await add_change(db, file=f"File:Piece {n}.jpg")
            wake.set()
        await wait_until(lambda: len(http_sink.ok("/alerts")) == 1)
        await asyncio.sleep(1.0)  # nothing else follows
    finally:
        assert await _stop(task) < 8.0
    (post,) = http_sink.posts
    assert post.body["title"] == "Commons Watcher: 3 new changes on 3 files"
    assert all(f"File:Piece {n}.jpg" in post.body["message"] for n in range(3))


async def test_the_cursor_survives_a_restart(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config = _config(make_config, http_sink, coalesce=0)
    wake = asyncio.Event()
    first = asyncio.create_task(run_notifier(db, config, wake=wake, retry=FAST))
    await _cursor_read(db)
    await add_change(db, file="File:Before.jpg")
    wake.set()
    await wait_until(lambda: len(http_sink.ok("/alerts")) == 1)
    await _stop(first)

    await add_change(db, file="File:While down.jpg")  # queued while the notifier is stopped
    second = asyncio.create_task(run_notifier(db, config, retry=FAST))
    try:
        await wait_until(lambda: len(http_sink.ok("/alerts")) == 2)
        await asyncio.sleep(0.5)
    finally:
        await _stop(second)
    messages = [p.body["message"] for p in http_sink.ok("/alerts")]
    assert "File:Before.jpg" in messages[0] and "File:While down.jpg" not in messages[0]
    assert "File:While down.jpg" in messages[1] and "File:Before.jpg" not in messages[1]


async def test_an_in_flight_send_finishes_and_is_recorded_when_stopped(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config = _config(make_config, http_sink, coalesce=0)
    http_sink.delay = 1.0  # the service takes a second to answer
    wake = asyncio.Event()
    task = asyncio.create_task(run_notifier(db, config, wake=wake, retry=FAST))
    await _cursor_read(db)
    await add_change(db)
    wake.set()
    await _wait_for_claim(db)
    took = await _stop(task)  # cancelled while apprise waits for the answer
    assert took < 8.0
    row = await db.fetchone("SELECT state, attempts, lease_owner FROM notify_outbox")
    assert row is not None and tuple(row) == ("sent", 1, None)
    assert len(http_sink.ok("/alerts")) == 1


async def _cursor_read(db: Database) -> None:
    """The notifier has stored its starting cursor: changes added from now on are new to it."""
    deadline = time.monotonic() + 15
    while await db.scalar("SELECT count(*) FROM notify_cursors") == 0:
        assert time.monotonic() < deadline, "the notifier never read its cursor"
        await asyncio.sleep(0.02)


async def _wait_for_claim(db: Database) -> None:
    deadline = time.monotonic() + 15
    while await db.scalar("SELECT count(*) FROM notify_outbox WHERE lease_owner IS NOT NULL") == 0:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # the request is on its way
