"""The outbox across processes and config changes: leases, orphaned rows, Retry-After parsing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.support.notify import HttpSink, add_change
from watcher.base.retry import parse_retry_after
from watcher.config import Config
from watcher.notify.alerts import AlertWatcher
from watcher.notify.channels import build_channels
from watcher.notify.outbox import Outbox
from watcher.store import Database


def _now() -> datetime:
    return datetime.now(UTC)


async def _queue_alerts(db: Database, config: Config, count: int) -> None:
    (channel,), _ = build_channels(config)
    watcher = AlertWatcher(db, config, channel, clock=_now, on_queued=lambda: None)
    after = await watcher.cursor()
    for n in range(count):
        await add_change(db, file=f"File:Item {n}.jpg")
        after, _ = await watcher.flush(after)


async def test_two_processes_never_send_the_same_row(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink, tmp_path: Path
) -> None:
    config = make_config(
        f'[[notify]]\nname = "desk"\nurls = ["json://127.0.0.1:{http_sink.port}/desk"]\nmode = "immediate"\n'
    )
    await _queue_alerts(db, config, 4)
    http_sink.delay = 0.2
    other = await Database.connect(tmp_path / "w.sqlite3")  # e.g. `watcher digest --send` beside the daemon
    try:
        daemon = Outbox(db, build_channels(config)[0], owner="daemon")
        cli = Outbox(other, build_channels(config)[0], owner="cli")
        sent = await asyncio.gather(daemon.deliver_due(), cli.deliver_due(), daemon.deliver_due())
    finally:
        await other.close()
    assert sum(sent) == 4
    messages = [p.body["message"] for p in http_sink.ok("/desk")]
    assert len(messages) == 4 == len(set(messages))
    # Each target's rows go out in the order they were queued.
    order = [next(n for n in range(4) if f"File:Item {n}.jpg" in m) for m in messages]
    assert order == sorted(order)


async def test_rows_of_a_removed_url_are_dropped_not_sent(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    before = make_config(
        f'[[notify]]\nname = "desk"\nurls = ["json://127.0.0.1:{http_sink.port}/old"]\nmode = "immediate"\n'
    )
    await _queue_alerts(db, before, 1)
    after = make_config(
        f'[[notify]]\nname = "desk"\nurls = ["json://127.0.0.1:{http_sink.port}/new"]\nmode = "immediate"\n'
    )
    assert await Outbox(db, build_channels(after)[0]).deliver_due() == 0
    assert http_sink.posts == []
    row = await db.fetchone("SELECT state, last_error FROM notify_outbox")
    assert row is not None and row["state"] == "dropped" and "no longer configured" in row["last_error"]


def test_retry_after_takes_seconds_or_an_http_date() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("Mon, 02 Mar 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Mon, 02 Mar 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
