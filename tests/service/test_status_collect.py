"""`watcher status` from the database: a fresh one, a populated one, and the daemon's live state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.config import Config, parse_config
from watcher.diff.model import FieldChange
from watcher.mediawiki.types import ApiStats
from watcher.service.status import (
    LiveStatePersister,
    collect_status,
    render_status_text,
    save_daemon_started,
    save_daemon_stopped,
)
from watcher.store import Database
from watcher.store import queue as store_queue
from watcher.store import state as store_state
from watcher.store import tracked as store_tracked
from watcher.store.queue import Provenance
from watcher.stream.client import StreamStats

CONFIG = """
[watcher]
user_agent = "Test/1.0 (test@example.org)"
database = "w.sqlite3"
[tracking]
categories = ["Category:X"]
"""
NOW = datetime(2026, 3, 3, 7, 30, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config(CONFIG, tmp_path / "config.toml")


@pytest.fixture
async def db(config: Config) -> AsyncIterator[Database]:
    database = await Database.connect(config.database)
    yield database
    await database.close()


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    return int(child.stdout)


CONTRACT_KEYS = {
    "events_seen",
    "events_matched",
    "last_event_id",
    "last_event_time",
    "tracked_files",
    "queue",
}


async def test_fresh_database(db: Database, config: Config) -> None:
    status = await collect_status(db, config, now=NOW)
    assert status.keys() >= CONTRACT_KEYS
    assert status["events_seen"] == 0
    assert status["events_matched"] == 0
    assert status["last_event_id"] is None
    assert status["last_event_time"] is None
    assert status["stream_lag_seconds"] is None
    assert status["tracked_files"] == 0
    assert status["queue"] == {"pending": 0, "accepted": 0, "rejected": 0, "withdrawn": 0}
    assert status["inbox_pending"] == 0
    assert status["daemon_running"] is False
    assert status["stream_connected"] is None  # no daemon ever reported
    assert status["database"] == str(config.database)
    json.dumps(status)  # `--format json` must be able to print it
    text = render_status_text(status)
    assert "not running" in text
    assert "none yet" in text


async def populate(db: Database) -> None:
    async with db.transaction() as conn:
        for title in ("File:A.jpg", "File:B.jpg", "File:C.jpg"):
            await store_tracked.add_file(conn, title, "category", "Category:X")
        await store_tracked.set_deleted(conn, "File:C.jpg", True)
        provenance = Provenance(
            wiki="commonswiki",
            file="File:A.jpg",
            revision=101,
            old_revision=100,
            timestamp="2026-03-03T07:00:00Z",
            user="Someone",
            comment="fix",
            object_id="EXM-1",
        )
        added = await store_queue.insert_changes(
            conn,
            provenance,
            [
                FieldChange("description", "changed", "old", "new", template="Information", language="sv"),
                FieldChange("date", "added", None, "1905", template="Artwork"),
                FieldChange("category", "added", None, "Stolar", kind="maintenance"),
            ],
        )
        await store_state.add_counters(
            conn,
            {"events_seen": 120_000, "events_matched": 7, "events_malformed": 2, "changes_queued": added},
        )
        await store_state.set_cursor(
            conn, '[{"topic":"eqiad.rc","partition":0,"offset":42}]', "2026-03-03T07:29:00Z"
        )
        await store_state.enqueue(conn, "key-1", "edit", "File:B.jpg", {"rev": 1})
        await store_state.enqueue(conn, "key-2", "edit", "File:B.jpg", {"rev": 2})
        await store_state.finish_item(conn, 2, error="gave up")
    ids = [
        record.id
        for record in await store_queue.list_changes(db, store_queue.ChangeFilter(status="all", kind="all"))
    ]
    await store_queue.set_status(db, ids[:1], "accepted")


async def test_populated_database(db: Database, config: Config) -> None:
    await populate(db)
    await save_daemon_started(db, pid=os.getpid(), started_at="2026-03-03T06:00:00Z")
    status = await collect_status(db, config, now=NOW)
    assert status["events_seen"] == 120_000
    assert status["events_matched"] == 7
    assert status["events_malformed"] == 2
    assert status["changes_queued"] == 3
    assert status["last_event_id"] == '[{"topic":"eqiad.rc","partition":0,"offset":42}]'
    assert status["last_event_time"] == "2026-03-03T07:29:00Z"
    assert status["stream_lag_seconds"] == 60.0
    assert status["tracked_files"] == 2
    assert status["tracked_files_deleted"] == 1
    assert status["queue"] == {"pending": 2, "accepted": 1, "rejected": 0, "withdrawn": 0}
    assert status["inbox_pending"] == 1
    assert status["inbox_failed"] == 1
    assert status["daemon_pid"] == os.getpid()
    assert status["daemon_running"] is True
    assert status["daemon_started_at"] == "2026-03-03T06:00:00Z"
    assert status["stream_connected"] is False  # started, not yet connected
    text = render_status_text(status)
    assert f"running (pid {os.getpid()})" in text
    assert "120 000 seen, 7 matched, 2 malformed" in text
    assert "2 pending, 1 accepted, 0 rejected" in text
    assert "2026-03-03T07:29:00Z (60 s ago)" in text


async def test_live_state_is_persisted_and_reported(db: Database, config: Config) -> None:
    await save_daemon_started(db, pid=os.getpid())
    stream = StreamStats()
    commons, wikidata = ApiStats(), ApiStats()
    clock = [1000.0]
    persister = LiveStatePersister(
        db, stream, [commons, wikidata], monotonic=lambda: clock[0], wall=lambda: NOW
    )
    stream.connected, stream.reconnects, stream.last_data_monotonic = True, 2, 997.0
    commons.errors, wikidata.errors = 3, 1
    await persister.save()
    status = await collect_status(db, config, now=NOW)
    assert status["stream_connected"] is True
    assert status["stream_last_data_at"] == "2026-03-03T07:29:57Z"
    assert status["stream_silent_seconds"] == 3.0
    assert status["stream_reconnects"] == 2
    assert status["api_errors"] == 4
    # Saved again later: only the increments are added, so totals survive a restart of the counters.
    stream.reconnects, commons.errors, stream.connected = 3, 5, False
    await persister.save()
    await persister.save()
    status = await collect_status(db, config, now=NOW)
    assert status["stream_reconnects"] == 3
    assert status["api_errors"] == 6
    assert status["stream_connected"] is False
    # A new process starts its in-memory stats from zero; the database keeps counting.
    fresh = LiveStatePersister(db, StreamStats(reconnects=1), [ApiStats(errors=1)])
    await fresh.save()
    status = await collect_status(db, config, now=NOW)
    assert status["stream_reconnects"] == 4
    assert status["api_errors"] == 7


async def test_dead_daemon_is_reported_as_not_running(db: Database, config: Config) -> None:
    await save_daemon_started(db, pid=dead_pid())
    await LiveStatePersister(db, StreamStats(connected=True, last_data_monotonic=1.0), []).save()
    status = await collect_status(db, config, now=NOW)
    assert status["daemon_running"] is False
    assert status["stream_connected"] is False  # the last word of a dead daemon is stale
    assert "did not stop cleanly" in render_status_text(status)


async def test_clean_stop_clears_the_pid(db: Database, config: Config) -> None:
    await save_daemon_started(db, pid=os.getpid())
    await save_daemon_stopped(db)
    status = await collect_status(db, config, now=NOW)
    assert status["daemon_pid"] is None
    assert status["daemon_running"] is False
    assert render_status_text(status).splitlines()[0].endswith("not running")


async def queue_notifications(db: Database, tmp_path: Path) -> None:
    """Two digest and one alert message through the notify layer's own enqueue, then delivered/given up."""
    from watcher.notify.channels import build_channels
    from watcher.notify.outbox import Message, enqueue

    config = parse_config(
        CONFIG + '[[notify]]\nname = "collections"\nurls = ["json://127.0.0.1:9/hook"]\nmode = "both"\n',
        tmp_path / "notify.toml",
    )
    channels, problems = build_channels(config)
    assert problems == []
    async with db.transaction() as conn:
        for kind, ref in (("digest", "2026-03-02"), ("digest", "2026-03-03"), ("alert", "change-7")):
            message = Message(kind, ref, f"{kind} {ref}", lambda body_format, limit: "body")  # type: ignore[arg-type]
            await enqueue(conn, channels[0], message, NOW)
        await conn.execute(
            "INSERT INTO notify_digests (channel, period, window_start, window_end, changes, messages, created_at) "
            "VALUES ('collections', '2026-03-03', '2026-03-02T06:30:00Z', '2026-03-03T06:30:00Z', 4, 1, "
            "'2026-03-03T06:30:01Z')"
        )
        # What the outbox's sender records: delivered, and given up after its retries.
        await conn.execute(
            "UPDATE notify_outbox SET state = 'sent', sent_at = '2026-03-03T06:30:04Z' WHERE ref = '2026-03-03'"
        )
        await conn.execute(
            "UPDATE notify_outbox SET state = 'sent', sent_at = '2026-03-02T06:30:09Z' WHERE ref = '2026-03-02'"
        )
        await conn.execute("UPDATE notify_outbox SET state = 'failed' WHERE ref = 'change-7'")


async def test_notification_figures(db: Database, config: Config, tmp_path: Path) -> None:
    await queue_notifications(db, tmp_path)
    status = await collect_status(db, config, now=NOW)
    assert status["notifications_sent"] == 2
    assert status["outbox_failed"] == 1
    assert status["outbox_pending"] == 0
    assert status["outbox_by_channel"] == {
        "collections": {"pending": 0, "sent": 2, "failed": 1, "dropped": 0}
    }
    assert status["last_digest_at"] == "2026-03-03T06:30:04Z"
    assert status["last_digest_period"] == "collections:2026-03-03"
    assert "0 pending, 1 failed; last digest 2026-03-03T06:30:04Z" in render_status_text(status)


async def test_database_without_notification_tables(db: Database, config: Config) -> None:
    """An older schema (or a table renamed later): the figures are None, never an error."""
    for table in ("notify_outbox", "notify_digests"):
        await db.write(f"DROP TABLE IF EXISTS {table}")
    status = await collect_status(db, config, now=NOW)
    assert status["outbox_pending"] is None
    assert status["notifications_sent"] is None
    assert status["last_digest_at"] is None
    assert "notifications:" not in render_status_text(status)


async def test_persister_follows_a_replaced_stream_client(db: Database, config: Config) -> None:
    """The daemon makes a new EventStream when its stream task restarts; totals keep counting."""
    await save_daemon_started(db, pid=os.getpid())
    holder: dict[str, StreamStats | None] = {"stats": None}
    persister = LiveStatePersister(db, lambda: holder["stats"])
    await persister.save()  # no client yet
    status = await collect_status(db, config, now=NOW)
    assert status["stream_reconnects"] == 0
    assert status["stream_connected"] is False
    holder["stats"] = StreamStats(connected=True, reconnects=5)
    await persister.save()
    holder["stats"] = StreamStats(connected=True, reconnects=1)  # the replacement counts from zero
    await persister.save()
    status = await collect_status(db, config, now=NOW)
    assert status["stream_reconnects"] == 6
    assert status["stream_connected"] is True


async def test_status_line_for_systemd(db: Database) -> None:
    from watcher.service.status import status_line

    await populate(db)
    assert (
        await status_line(db)
        == "starting; 120 000 events seen, 7 matched, 3 changes queued, 2 pending review"
    )
    line = await status_line(db, StreamStats(connected=True))
    assert line.startswith("following the stream; ")
    assert (await status_line(db, lambda: StreamStats())).startswith("connecting to the stream; ")
    assert (await status_line(db, StreamStats(connects=3))).startswith("reconnecting to the stream; ")


async def test_status_tells_of_an_unfinished_history_run(db: Database, config: Config) -> None:
    assert (await collect_status(db, config, now=NOW))["history"] is None
    await db.write(
        "INSERT INTO history_runs (options, state, phase, requests, started_at, updated_at) "
        "VALUES ('{}', 'running', 'walk', 12, '2026-03-03T07:00:00Z', '2026-03-03T07:05:00Z')"
    )
    status = await collect_status(db, config, now=NOW)
    assert status["history"]["state"] == "running" and status["history"]["phase"] == "walk"
    assert "run `watcher history` again to continue" in render_status_text(status)
    json.dumps(status)  # the JSON format stays serialisable
