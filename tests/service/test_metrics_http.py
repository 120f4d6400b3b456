"""/healthz and /metrics on a real aiohttp test server, with a real database."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from tests.service.test_status_collect import queue_notifications
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.diff.model import FieldChange
from watcher.mediawiki.client import ActionApi
from watcher.mediawiki.types import ApiStats
from watcher.service import metrics as watcher_metrics
from watcher.service.metrics import MetricsRecorder, StreamHealth, add_health_routes
from watcher.store import Database
from watcher.store import queue as store_queue
from watcher.store import state as store_state
from watcher.store import tracked as store_tracked
from watcher.store.queue import Provenance
from watcher.stream.client import StreamStats

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


@dataclass
class FakeDaemon:
    """The two things /healthz asks of the daemon; the database is real."""

    db: Database
    live: bool = True
    role: str = "single"

    def stream_live(self) -> bool:
        return self.live


async def serve(
    aiohttp_client: ClientFactory, daemon: FakeDaemon, recorder: MetricsRecorder | None = None
) -> TestClient[web.Request, web.Application]:
    app = web.Application()
    add_health_routes(app, daemon, recorder)
    return await aiohttp_client(app)


async def test_healthz_ok_when_stream_live_and_database_writable(
    aiohttp_client: ClientFactory, db: Database
) -> None:
    client = await serve(aiohttp_client, FakeDaemon(db))
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_healthz_503_when_stream_not_live(aiohttp_client: ClientFactory, db: Database) -> None:
    daemon = FakeDaemon(db, live=False)
    client = await serve(aiohttp_client, daemon)
    response = await client.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unavailable"
    assert "stream" in body["reason"]
    assert "database" not in body["reason"]
    daemon.live = True
    assert (await client.get("/healthz")).status == 200


async def test_healthz_of_a_shared_store_says_the_role_and_a_standby_needs_no_stream(
    aiohttp_client: ClientFactory, db: Database
) -> None:
    """On PostgreSQL every node serves the page: a standby follows no stream by design and is healthy
    while its database is; a leader without stream data is not. Both say which they are."""
    standby = await serve(aiohttp_client, FakeDaemon(db, live=False, role="standby"))
    response = await standby.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "role": "standby", "database": str(db.path)}
    leader = await serve(aiohttp_client, FakeDaemon(db, live=False, role="leader"))
    response = await leader.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert (body["role"], "stream" in body["reason"]) == ("leader", True)


async def test_healthz_503_when_database_refuses_writes(aiohttp_client: ClientFactory, db: Database) -> None:
    client = await serve(aiohttp_client, FakeDaemon(db))
    await db.conn.execute("PRAGMA query_only = 1")
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["reason"] == "database: not writable"
    await db.conn.execute("PRAGMA query_only = 0")
    assert (await client.get("/healthz")).status == 200


async def test_healthz_503_when_database_closed(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    database = await Database.connect(tmp_path / "closed.sqlite3")
    client = await serve(aiohttp_client, FakeDaemon(database))
    await database.close()
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["reason"].startswith("database: not writable")


async def test_healthz_503_while_another_process_holds_the_write_lock(
    aiohttp_client: ClientFactory, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watcher_metrics, "HEALTH_DB_TIMEOUT", 0.3)
    client = await serve(aiohttp_client, FakeDaemon(db))
    other = sqlite3.connect(db.path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        response = await client.get("/healthz")
        assert response.status == 503
        assert "no write lock within 0.3 s" in (await response.json())["reason"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    # The check that was waiting finishes once the lock is free; the probe turns healthy again.
    deadline = time.monotonic() + 15
    while (await client.get("/healthz")).status != 200:
        assert time.monotonic() < deadline, "healthz stayed 503 after the write lock was released"
        await asyncio.sleep(0.05)
    async with db.transaction() as conn:  # and the shared connection is not left inside a transaction
        await conn.execute("INSERT INTO state (key, value) VALUES ('after', 'x')")


def test_stream_health_needs_connection_and_recent_data(db: Database) -> None:
    now = [1000.0]
    stats = StreamStats()
    health = StreamHealth(db, stats, read_timeout=60, monotonic=lambda: now[0])
    assert not health.stream_live()  # never connected
    stats.connected = True
    assert not health.stream_live()  # connected, no data yet
    stats.last_data_monotonic = 990.0
    assert health.stream_live()
    now[0] = 1051.0
    assert not health.stream_live()  # silent for longer than the read timeout
    stats.last_data_monotonic, stats.connected = 1050.0, False
    assert not health.stream_live()  # dropped
    # The daemon replaces its stream client on a restart of the stream task: follow the current one.
    current: dict[str, StreamStats | None] = {"stats": None}
    following = StreamHealth(db, lambda: current["stats"], read_timeout=60, monotonic=lambda: now[0])
    assert not following.stream_live()
    current["stats"] = StreamStats(connected=True, last_data_monotonic=1050.0)
    assert following.stream_live()


def parse_metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def populate(db: Database) -> None:
    async with db.transaction() as conn:
        for title in ("File:A.jpg", "File:B.jpg"):
            await store_tracked.add_file(conn, title, "category", "Category:X")
        provenance = Provenance("commonswiki", "File:A.jpg", 11, 10, "2026-03-03T07:00:00Z", "U", "", None)
        added = await store_queue.insert_changes(
            conn, provenance, [FieldChange("title", "changed", "a", "b", template="Artwork")]
        )
        await store_state.add_counters(
            conn, {"events_seen": 5000, "events_matched": 4, "events_malformed": 1, "changes_queued": added}
        )
        await store_state.set_cursor(conn, "[]", "2026-03-03T07:29:00Z")
        await store_state.enqueue(conn, "k1", "edit", "File:B.jpg", {})


async def test_metrics_exposition(aiohttp_client: ClientFactory, db: Database, tmp_path: Path) -> None:
    await populate(db)
    await queue_notifications(db, tmp_path)
    recorder = MetricsRecorder(clock=lambda: datetime(2026, 3, 3, 7, 30, tzinfo=UTC).timestamp())
    stream = StreamStats(connected=True, reconnects=2, bytes=4096)
    recorder.watch_stream(stream)
    recorder.watch_api("commons", ApiStats(requests=10, errors=2, retries=1))
    recorder.notification_attempt("collections", ok=False)
    recorder.observe_api_request("commons", 0.2)
    client = await serve(aiohttp_client, FakeDaemon(db), recorder)
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    samples = parse_metrics(await response.text())

    assert samples[("watcher_events_seen_total", ())] == 5000
    assert samples[("watcher_events_matched_total", ())] == 4
    assert samples[("watcher_events_malformed_total", ())] == 1
    assert samples[("watcher_changes_queued_total", ())] == 1
    assert samples[("watcher_tracked_files", ())] == 2
    assert samples[("watcher_queue_changes", (("status", "pending"),))] == 1
    assert samples[("watcher_queue_changes", (("status", "accepted"),))] == 0
    assert samples[("watcher_inbox_items", (("state", "pending"),))] == 1
    assert samples[("watcher_stream_lag_seconds", ())] == 60
    assert samples[("watcher_stream_connected", ())] == 1
    assert samples[("watcher_stream_reconnects_total", ())] == 2
    assert samples[("watcher_api_requests_total", (("api", "commons"),))] == 10
    assert samples[("watcher_api_errors_total", (("api", "commons"),))] == 2
    collections = (("channel", "collections"),)
    assert samples[("watcher_notifications_sent_total", collections)] == 2
    assert samples[("watcher_notifications_failed_total", collections)] == 1
    assert samples[("watcher_notifications_pending", collections)] == 0
    assert samples[("watcher_notification_attempts_total", (*collections, ("outcome", "error")))] == 1
    assert (
        samples[("watcher_last_digest_timestamp_seconds", ())]
        == datetime(2026, 3, 3, 6, 30, 4, tzinfo=UTC).timestamp()
    )
    assert samples[("watcher_api_request_duration_seconds_count", (("api", "commons"),))] == 1
    assert samples[("watcher_api_request_duration_seconds_bucket", (("api", "commons"), ("le", "0.25")))] == 1
    assert samples[("watcher_api_request_duration_seconds_bucket", (("api", "commons"), ("le", "0.1")))] == 0
    assert samples[("watcher_database_readable", ())] == 1

    # The stream's in-memory last event is fresher than the database's cursor, flushed every 2 s.
    stream.last_time = "2026-03-03T07:29:50Z"
    stream.connected = False
    await asyncio.sleep(watcher_metrics.SNAPSHOT_MAX_AGE)
    samples = parse_metrics(await (await client.get("/metrics")).text())
    assert samples[("watcher_stream_lag_seconds", ())] == 10
    assert samples[("watcher_stream_connected", ())] == 0


async def test_metrics_follow_the_database(aiohttp_client: ClientFactory, db: Database) -> None:
    client = await serve(aiohttp_client, FakeDaemon(db))
    before = parse_metrics(await (await client.get("/metrics")).text())
    assert before[("watcher_events_seen_total", ())] == 0
    assert ("watcher_stream_lag_seconds", ()) not in before  # no event yet: no lag to report
    await populate(db)
    await asyncio.sleep(watcher_metrics.SNAPSHOT_MAX_AGE)
    after = parse_metrics(await (await client.get("/metrics")).text())
    assert after[("watcher_events_seen_total", ())] == 5000


async def test_metrics_still_served_when_database_is_gone(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    database = await Database.connect(tmp_path / "gone.sqlite3")
    recorder = MetricsRecorder()
    recorder.notification_attempt("collections", ok=True)
    client = await serve(aiohttp_client, FakeDaemon(database), recorder)
    await database.close()
    response = await client.get("/metrics")
    assert response.status == 200
    samples = parse_metrics(await response.text())
    assert samples[("watcher_database_readable", ())] == 0
    assert (
        samples[("watcher_notification_attempts_total", (("channel", "collections"), ("outcome", "ok")))] == 1
    )
    assert ("watcher_events_seen_total", ()) not in samples  # nothing from a database that did not answer


async def test_two_recorders_do_not_share_a_registry() -> None:
    first, second = MetricsRecorder(), MetricsRecorder()
    first.notification_attempt("a", ok=True)
    assert 'channel="a"' in first.render().decode()
    assert 'channel="a"' not in second.render().decode()


async def test_api_trace_config_times_real_requests() -> None:
    """The latency histogram fed by a real ActionApi talking to the loopback MediaWiki stand-in."""
    recorder = MetricsRecorder()
    async with ActionApiPeer() as peer:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1), trace_configs=[recorder.api_trace_config("commons")]
        )
        try:
            api = ActionApi(peer.url, "Test/1.0 (test@example.org)", session=session)
            recorder.watch_api("commons", api.stats)
            await api.page_info(["File:A.jpg"])
            await api.page_info(["File:B.jpg"])
        finally:
            await session.close()
    samples = parse_metrics(recorder.render().decode())
    labels = (("api", "commons"),)
    assert samples[("watcher_api_request_duration_seconds_count", labels)] == 2
    assert samples[("watcher_api_requests_total", labels)] == 2
    assert samples[("watcher_api_errors_total", labels)] == 0
    assert samples[("watcher_api_request_duration_seconds_sum", labels)] > 0
