"""Issue 13, item 4: a second `watcher run` on one database exits at once, naming the first, and does
nothing else; the first goes on undisturbed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.harness import DaemonProcess, config_text, state, wait_for
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.eventstreams import EventStreamsStandIn
from watcher.service.status import STATE_PID
from watcher.store.db import DaemonLock, DatabaseLocked, lock_path

TRACKING = 'files = ["File:Example.jpg"]'


def lines(daemon: DaemonProcess) -> list[str]:
    """What the process wrote, without the harness's run separators."""
    return [line for line in daemon.log_text().splitlines() if line.strip() and not line.startswith("-----")]


async def test_a_second_daemon_exits_naming_the_first_which_keeps_running(
    tmp_path: Path, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    database = tmp_path / "state" / "watcher.sqlite3"
    config = tmp_path / "config.toml"
    async with ActionApiPeer() as api, EventStreamsStandIn([]) as stream:
        api.add_page("File:Example.jpg", "{{Information|description={{en|1=An example}}}}")
        config.write_text(config_text(api.url, stream.url, database, tracking=TRACKING))
        first = daemons(config, tmp_path / "first.log")
        await first.start()
        assert first.proc is not None
        await wait_for(lambda: stream.connections == 1, 30, "the first daemon's stream connection", first)
        await wait_for(
            lambda: state(database, STATE_PID) == str(first.proc.pid if first.proc else None),
            30,
            "the first daemon's pid in the database",
            first,
        )

        second = daemons(config, tmp_path / "second.log")
        await second.start()
        assert second.proc is not None
        code = await asyncio.wait_for(second.proc.wait(), timeout=60)

        assert code == DatabaseLocked.exit_code == 75, second.log_text()
        said = lines(second)
        assert len(said) == 1, said  # one line, no traceback, no start-up log
        assert said[0].startswith(f"error: another watcher (pid {first.proc.pid}, started "), said
        assert f"on this database {database}: stop it first" in said[0]
        # Nothing else happened: no second stream connection, no live state of its own.
        assert stream.connections == 1
        assert state(database, STATE_PID) == str(first.proc.pid)
        # The first still runs and still holds its lock: the second's attempt did not take it away.
        assert first.proc.returncode is None
        with pytest.raises(DatabaseLocked, match=rf"pid {first.proc.pid}\b"):
            DaemonLock.acquire(database)

        code, _ = await first.terminate()
    assert code == 0, first.log_text()
    assert not lock_path(database).exists()  # released on a clean stop
    with DaemonLock.acquire(database):  # and free for the next daemon
        pass
