"""A PostgreSQL restart during a replay (issue 20): the daemon keeps running (it steps down when its
leader's lock goes with the server, waits for the server, and leads again), and every expected change
ends up queued exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from tests.support import postgres as pg
from tests.support.harness import DaemonProcess, community_edits, config_text, museum_files, wait_for
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.bridge import WikiBridge
from watcher.demo.standins.eventstreams import EventStreamsStandIn

FILES = 20
EDITS = 120
DOWN_SECONDS = 3.0


@pytest.fixture
async def own_server(postgres: pg.PostgresServer) -> AsyncIterator[pg.PostgresServer]:
    """A server of this test's own (the session's is shared: restarting it would cut other tests)."""
    del postgres  # asked for so that, under CI, a machine without PostgreSQL fails here with the reason
    server = await asyncio.to_thread(pg.start_postgres)
    try:
        yield server
    finally:
        await asyncio.to_thread(pg.stop_postgres, server)


async def test_a_server_restart_mid_replay_loses_and_repeats_nothing(
    tmp_path: Path, own_server: pg.PostgresServer, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    admin = await asyncpg.connect(own_server.dsn())
    await admin.execute("CREATE DATABASE watcher TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'")
    await admin.close()
    dsn = own_server.dsn("watcher")

    async def scalar(sql: str) -> object:
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return None  # the server is down (restarting)
        try:
            return await conn.fetchval(sql)
        except asyncpg.UndefinedTableError:
            return None
        finally:
            await conn.close()

    api = ActionApiPeer(latency=0.1, start=datetime.now(UTC))
    await api.start()
    stream = EventStreamsStandIn(write_size=4096)
    await stream.start()
    try:
        files = museum_files(api, FILES)
        bridge = WikiBridge(api.changes)
        bridge.published = len(api.changes)
        config = tmp_path / "config.toml"
        config.write_text(config_text(api.url, stream.url, dsn), encoding="utf-8")
        daemon = daemons(config, tmp_path / "daemon.log")
        await daemon.start()

        async def leading(times: int) -> bool:
            return daemon.log_text().count("holds the leader's lock") >= times

        await wait_for(lambda: leading(1), 60, "the daemon to lead", daemon)

        async def tracked() -> bool:
            return await scalar("SELECT count(*) FROM tracked_files") == FILES

        await wait_for(tracked, 60, "the tracked set", daemon)
        expected = community_edits(api, files, EDITS)
        stream.publish(*bridge.pending())
        last_id = stream.frame(len(stream) - 1).split(b"\nid: ", 1)[1].split(b"\n", 1)[0].decode()

        async def some_queued() -> bool:
            found = await scalar("SELECT count(*) FROM changes")
            return isinstance(found, int) and 1 <= found < len(expected)

        await wait_for(some_queued, 60, "part of the replay to be queued", daemon)
        await asyncio.to_thread(pg.restart_postgres, own_server, DOWN_SECONDS)
        assert daemon.proc is not None and daemon.proc.returncode is None  # still running

        async def caught_up() -> bool:
            cursor = await scalar("SELECT value FROM state WHERE key = 'last_event_id'")
            pending = await scalar("SELECT count(*) FROM inbox WHERE state = 'pending'")
            return cursor == last_id and pending == 0 and await leading(2)

        await wait_for(caught_up, 120, "the replay to be finished after the restart", daemon)
        assert daemon.proc.returncode is None
        assert "stepped down" in daemon.log_text()
        code, _ = await daemon.terminate()
        assert code == 0
        conn = await asyncpg.connect(dsn)
        try:
            got = [str(r[0]) for r in await conn.fetch("SELECT unique_key FROM changes")]
            failed = await conn.fetch("SELECT title, last_error FROM inbox WHERE state = 'failed'")
        finally:
            await conn.close()
        assert len(got) == len(set(got))
        assert set(got) == expected, (
            f"missing {len(expected - set(got))}, unexpected {len(set(got) - expected)}"
        )
        assert not failed, [tuple(r) for r in failed]
    finally:
        await stream.stop()
        await api.close()
