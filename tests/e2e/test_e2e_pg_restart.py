"""A PostgreSQL restart during a replay (issue 20): the daemon keeps running (it steps down when its
leader's lock goes with the server, waits for the server, and leads again), and every expected change
ends up queued exactly once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from tests.support import postgres as pg
from tests.support.harness import CATEGORY, DaemonProcess, config_text
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.bridge import WikiBridge
from watcher.demo.standins.eventstreams import EventStreamsStandIn
from watcher.diff import diff_revisions
from watcher.diff.model import RevisionContent
from watcher.store.queue import unique_key

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


async def until(check: Callable[[], Awaitable[bool]], limit: float, what: str, daemon: DaemonProcess) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {limit} s waiting for {what}\n{daemon.log_text()[-5000:]}")


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
        api.add_page(CATEGORY, "")
        files = [f"File:Object - EXM {n}.jpg" for n in range(FILES)]
        for n, title in enumerate(files):
            text = f"{{{{Information\n|description={{{{en|1=Object {n}}}}}\n|date=1890\n}}}}"
            api.add_page(title, text, categories=[CATEGORY])
        bridge = WikiBridge(api.changes)
        bridge.published = len(api.changes)
        config = tmp_path / "config.toml"
        config.write_text(config_text(api.url, stream.url, dsn), encoding="utf-8")
        daemon = daemons(config, tmp_path / "daemon.log")
        await daemon.start()

        async def leading(times: int) -> bool:
            return daemon.log_text().count("holds the leader's lock") >= times

        await until(lambda: leading(1), 60, "the daemon to lead", daemon)

        async def tracked() -> bool:
            return await scalar("SELECT count(*) FROM tracked_files") == FILES

        await until(tracked, 60, "the tracked set", daemon)
        expected: set[str] = set()
        for step in range(EDITS):
            title = files[step % FILES]
            old = api.page(title).latest.wikitext
            new = old.replace("\n|date=", f"\n{{{{sv|1=Text {step}}}}}\n|date=", 1)
            revision = api.edit(title, new, user=f"Volunteer {step % 5}", comment=f"step {step}")
            for change in diff_revisions(RevisionContent(old), RevisionContent(new)):
                expected.add(unique_key("commonswiki", revision, change))
        stream.publish(*bridge.pending())
        last_id = stream.frame(len(stream) - 1).split(b"\nid: ", 1)[1].split(b"\n", 1)[0].decode()

        async def some_queued() -> bool:
            found = await scalar("SELECT count(*) FROM changes")
            return isinstance(found, int) and 1 <= found < len(expected)

        await until(some_queued, 60, "part of the replay to be queued", daemon)
        await asyncio.to_thread(pg.restart_postgres, own_server, DOWN_SECONDS)
        assert daemon.proc is not None and daemon.proc.returncode is None  # still running

        async def caught_up() -> bool:
            cursor = await scalar("SELECT value FROM state WHERE key = 'last_event_id'")
            pending = await scalar("SELECT count(*) FROM inbox WHERE state = 'pending'")
            return cursor == last_id and pending == 0 and await leading(2)

        await until(caught_up, 120, "the replay to be finished after the restart", daemon)
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
