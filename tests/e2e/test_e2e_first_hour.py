"""Issue 17, items 1 and 3, through `watcher run`: a review-page port someone else holds stops the start
in one line with exit 78 before anything connects (or, with ``on_busy = "disable"``, one warning and
no page); a first start composes no digest for a digest time before it. On either engine (issue 20)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.harness import CATEGORY, DaemonProcess, Peers, aquery, config_text, is_postgresql, wait_for
from tests.support.ports import free_port
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.bridge import WikiBridge
from watcher.demo.standins.eventstreams import EventStreamsStandIn


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    api = ActionApiPeer()
    await api.start()
    api.add_page(CATEGORY, "Files shared by the Example Museum.")
    api.add_page(
        "File:Vase - EXM 1.jpg", "{{Information|description={{en|1=A vase}}}}", categories=[CATEGORY]
    )
    stream = EventStreamsStandIn()
    await stream.start()
    bridge = WikiBridge(api.changes)
    bridge.published = len(api.changes)
    try:
        yield Peers(api, stream, bridge)
    finally:
        await stream.stop()
        await api.close()


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port another program listens on for the whole test."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", free_port()))
        holder.listen()
        yield int(holder.getsockname()[1])


async def store_made(database: Path | str) -> bool:
    """Whether the daemon made its store: the SQLite file, or any table in the PostgreSQL database."""
    if is_postgresql(database):
        return bool(
            await aquery(
                database, "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        )
    return Path(database).exists()


def _logged(daemon: DaemonProcess) -> list[str]:
    """The lines of the daemon's latest run (its log, stdout and stderr together)."""
    run = daemon.log_text().rsplit(f"----- run {daemon.runs} -----", 1)[-1]
    return [line for line in run.splitlines() if line.strip()]


async def test_a_busy_port_stops_the_start_in_one_line_with_exit_78(
    peers: Peers,
    tmp_path: Path,
    store_location: Path | str,
    daemons: Callable[[Path, Path], DaemonProcess],
    held_port: int,
) -> None:
    database = store_location
    config = tmp_path / "config.toml"
    more = f'[web]\nlisten = "127.0.0.1:{held_port}"\n'
    config.write_text(config_text(peers.api.url, peers.stream.url, database, more=more))
    daemon = daemons(config, tmp_path / "daemon.log")
    await daemon.start()
    assert daemon.proc is not None
    code = await asyncio.wait_for(daemon.proc.wait(), timeout=60)
    lines = _logged(daemon)
    assert code == 78, lines
    (line,) = lines
    assert f"cannot serve the review page on 127.0.0.1:{held_port}: the port is in use" in line
    assert 'on_busy = "disable"' in line  # says how to run anyway
    assert peers.stream.connections == 0  # nothing half-started: no stream connection…
    assert not peers.api.requests  # …no Action API request…
    assert not await store_made(database)  # …not even a database


async def test_on_busy_disable_runs_without_the_page_after_one_warning(
    peers: Peers,
    tmp_path: Path,
    store_location: Path | str,
    daemons: Callable[[Path, Path], DaemonProcess],
    held_port: int,
) -> None:
    database = store_location
    config = tmp_path / "config.toml"
    more = f'[web]\nlisten = "127.0.0.1:{held_port}"\non_busy = "disable"\n'
    config.write_text(config_text(peers.api.url, peers.stream.url, database, more=more))
    daemon = daemons(config, tmp_path / "daemon.log")
    await daemon.start()
    await wait_for(lambda: peers.stream.connections >= 1, 30, "the stream connection", daemon)

    async def tracked_set() -> bool:
        return bool(await aquery(database, "SELECT 1 FROM tracked_files"))

    await wait_for(tracked_set, 30, "the tracked set", daemon)
    code, _ = await daemon.terminate()
    lines = _logged(daemon)
    assert code == 0, lines
    warnings = [line for line in lines if "review page" in line]
    assert len(warnings) == 1, warnings
    assert f"cannot serve the review page on 127.0.0.1:{held_port}: the port is in use" in warnings[0]
    assert 'running without the review page ([web] on_busy = "disable")' in warnings[0]
    assert " WARNING " in warnings[0]
    assert not any("Traceback" in line or "web failed" in line for line in lines), lines


async def test_a_first_start_composes_no_digest_for_a_digest_time_before_it(
    peers: Peers, tmp_path: Path, store_location: Path | str, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    database = store_location
    config = tmp_path / "config.toml"
    passed = (datetime.now(UTC) - timedelta(hours=1)).strftime("%H:%M")  # today's digest time went by
    more = (
        f'[[notify]]\nname = "daily"\nurls = ["json://127.0.0.1:{free_port()}/digest"]\nmode = "digest"\n'
        f'digest_at = "{passed}"\ntimezone = "UTC"\n'
    )
    config.write_text(config_text(peers.api.url, peers.stream.url, database, more=more))
    daemon = daemons(config, tmp_path / "daemon.log")
    await daemon.start()
    # The scheduler's first pass is done when it names the next digest: tomorrow's, the first one.
    await wait_for(
        lambda: "notify daily: next digest, for " in daemon.log_text(), 30, "the scheduler", daemon
    )
    assert await aquery(database, "SELECT * FROM notify_digests") == []
    assert await aquery(database, "SELECT * FROM notify_outbox") == []
    code, _ = await daemon.terminate()
    assert code == 0
