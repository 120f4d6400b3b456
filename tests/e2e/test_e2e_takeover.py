"""Two daemons on one PostgreSQL database (issue 20): one follows the stream, the other stands by; the
leader is killed with SIGKILL mid-replay and the standby takes over within 30 s, resumes from the
committed position, and every expected change ends up queued exactly once. One stream connection at a
time: the standby never connects while the leader follows."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from tests.support.harness import DaemonProcess, community_edits, config_text, museum_files, wait_for
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.bridge import WikiBridge
from watcher.demo.standins.eventstreams import EventStreamsStandIn

TAKE_OVER_S = 30.0
FILES = 20
EDITS = 80


async def test_a_standby_takes_over_from_a_killed_leader_and_nothing_is_lost_or_repeated(
    tmp_path: Path, postgres_dsn: str, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    api = ActionApiPeer(latency=0.1, start=datetime.now(UTC))  # slow enough for the kill to land mid-work
    await api.start()
    stream = EventStreamsStandIn(write_size=4096)
    await stream.start()
    conn = await asyncpg.connect(postgres_dsn)

    async def scalar(sql: str) -> object:
        try:
            return await conn.fetchval(sql)
        except asyncpg.UndefinedTableError:
            return None  # not migrated yet

    try:
        files = museum_files(api, FILES)
        bridge = WikiBridge(api.changes)
        bridge.published = len(api.changes)
        config = tmp_path / "config.toml"
        config.write_text(config_text(api.url, stream.url, postgres_dsn), encoding="utf-8")
        leader = daemons(config, tmp_path / "leader.log")
        standby = daemons(config, tmp_path / "standby.log")
        await leader.start()
        await wait_for(lambda: _has(leader, "holds the leader's lock"), 60, "the first node to lead", leader)
        await wait_for(
            lambda: _count(scalar("SELECT count(*) FROM tracked_files"), FILES), 60, "the tracked set", leader
        )
        await standby.start()
        await wait_for(lambda: _has(standby, "standing by"), 60, "the second node to stand by", standby)

        expected = community_edits(api, files, EDITS)
        events = bridge.pending()
        stream.publish(*events)
        last_id = stream.frame(len(stream) - 1).split(b"\nid: ", 1)[1].split(b"\n", 1)[0].decode()

        # Kill the leader once it has queued some of the work, before all of it.
        await wait_for(
            lambda: _between(scalar("SELECT count(*) FROM changes"), 1, len(expected) - 1),
            60, "the leader to queue part of the replay", leader,
        )  # fmt: skip
        assert stream.connections == 1  # the standby never connected
        await leader.kill()
        killed = time.monotonic()
        await wait_for(
            lambda: _has(standby, "holds the leader's lock"), TAKE_OVER_S, "the take-over", standby
        )
        assert time.monotonic() - killed < TAKE_OVER_S

        async def caught_up() -> bool:
            cursor = await scalar("SELECT value FROM state WHERE key = 'last_event_id'")
            pending = await scalar("SELECT count(*) FROM inbox WHERE state = 'pending'")
            return cursor == last_id and pending == 0 and stream.connections >= 2

        await wait_for(caught_up, 90, "the standby to finish the replay", standby)
        code, _ = await standby.terminate()
        assert code == 0
        got = [str(r[0]) for r in await conn.fetch("SELECT unique_key FROM changes")]
        assert len(got) == len(set(got))  # nothing queued twice
        assert set(got) == expected, (
            f"missing {len(expected - set(got))}, unexpected {len(set(got) - expected)}"
        )
        failed = await conn.fetch("SELECT title, last_error FROM inbox WHERE state = 'failed'")
        assert not failed, [tuple(r) for r in failed]
    finally:
        await conn.close()
        await stream.stop()
        await api.close()


async def _has(daemon: DaemonProcess, text: str) -> bool:
    return daemon.log.exists() and text in daemon.log_text()


async def _count(value: Awaitable[object], wanted: int) -> bool:
    found = await value
    return isinstance(found, int) and found >= wanted


async def _between(value: Awaitable[object], low: int, high: int) -> bool:
    found = await value
    return isinstance(found, int) and low <= found <= high
