"""The daemon restarted while the Action API answers ``{}``: the tracked set it had is kept (no
resolution to 0 files), and edits made once the API answers again are queued at once, not a day later;
on either engine (issue 20)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.support.harness import CATEGORY, DaemonProcess, Peers, aquery, arecords, config_text, wait_for
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.bridge import WikiBridge
from watcher.demo.standins.eventstreams import EventStreamsStandIn

FILES = [f"File:Object - EXM {n}.jpg" for n in range(1, 13)]


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    api = ActionApiPeer()
    await api.start()
    api.add_page(CATEGORY, "Files shared by the Example Museum.")
    for title in FILES:
        api.add_page(title, "{{Information|description={{en|1=Object}}|date=1890}}", categories=[CATEGORY])
    stream = EventStreamsStandIn()
    await stream.start()
    bridge = WikiBridge(api.changes)
    bridge.published = len(api.changes)
    try:
        yield Peers(api, stream, bridge)
    finally:
        await stream.stop()
        await api.close()


async def test_a_restart_against_empty_answers_keeps_the_tracked_set_and_loses_no_edit(
    peers: Peers, tmp_path: Path, store_location: Path | str, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    database = store_location
    config = tmp_path / "config.toml"
    config.write_text(
        config_text(peers.api.url, peers.stream.url, database, tracking=f'categories = ["{CATEGORY}"]')
    )
    daemon = daemons(config, tmp_path / "daemon.log")

    async def active() -> int:
        rows = await aquery(database, "SELECT count(*) FROM tracked_files WHERE state = 'active'")
        return int(rows[0][0]) if rows else 0

    async def all_active() -> bool:
        return await active() == len(FILES)

    await daemon.start()
    await wait_for(all_active, 20, "the tracked set", daemon)
    code, _ = await daemon.terminate()
    assert code == 0

    peers.api.fail_empty(times=1_000_000)
    await daemon.start()

    def second_run() -> str:
        return daemon.log_text().rsplit("----- run 2 -----", 1)[-1]

    await wait_for(
        lambda: (
            "cannot resolve the tracked files" in second_run()
            and "holds no query.categorymembers" in second_run()
        ),
        30,
        "a resolution against {} to fail",
        daemon,
    )
    assert await active() == len(FILES)
    assert "tracked set resolved: 0 files" not in second_run()

    peers.api.faults.clear()
    peers.api.edit(FILES[0], "{{Information|description={{en|1=Object}}|date=circa 1890}}", user="Volunteer")
    peers.publish()

    async def edit_queued() -> bool:
        return any(r["file"] == FILES[0] and r["new"] == "circa 1890" for r in await arecords(database))

    await wait_for(edit_queued, 30, "the edit to be queued", daemon)
    await wait_for(lambda: "tracked set resolved: 12 files" in second_run(), 30, "a later resolution", daemon)
    assert await active() == len(FILES)
