"""Start-up that does not stall the stream (issue 18), watched through the stand-ins.

A first start resolves the listed files before it connects: every resolution request reaches the Action
API stand-in while the stream stand-in has had no connection. A restart takes the stored tracked set at
once: the stream stand-in sees the connection, and an edit published then is queued, while the API
stand-in still holds the refresh's requests unanswered; the refresh finishes once they are let through.
Both on either engine (issue 20).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.support.harness import DaemonProcess, aquery, config_text, wait_for
from watcher.demo.standins.action_api import ActionApiPeer, RecordedRequest
from watcher.demo.standins.bridge import WikiBridge
from watcher.demo.standins.eventstreams import EventStreamsStandIn

FILES = 1500  # 30 requests of 50 titles


def listed(tmp_path: Path) -> tuple[list[str], str]:
    names = [f"File:Listed object {n} - EXM {n}.jpg" for n in range(FILES)]
    listing = tmp_path / "files.txt"
    listing.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    return names, f'files_from = "{listing}"'


def resolution_requests(api: ActionApiPeer) -> list[RecordedRequest]:
    return [r for r in api.requests if r.params.get("prop") == "info"]


async def test_a_first_start_resolves_before_it_connects(
    tmp_path: Path, store_location: Path | str, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    names, tracking = listed(tmp_path)
    async with ActionApiPeer() as api, EventStreamsStandIn(id_style="offset") as stream:
        for name in names:
            api.add_page(name, "An object.")
        connections_when_asked: list[int] = []

        def note(request: RecordedRequest) -> None:
            if request.params.get("prop") == "info":
                connections_when_asked.append(stream.connections)

        api.on_request = note
        config = tmp_path / "config.toml"
        config.write_text(config_text(api.url, stream.url, store_location, tracking=tracking))
        daemon = daemons(config, tmp_path / "daemon.log")
        await daemon.start()
        await wait_for(lambda: stream.connections >= 1, 60, "the stream connection", daemon)

        assert len(connections_when_asked) == FILES // 50
        assert set(connections_when_asked) == {0}, "the stream was open while the files were resolved"
        log = daemon.log_text()
        assert "resolving the tracked set before connecting to the stream" in log
        assert f"resolved {FILES} listed titles in" in log and "requests of up to 50 titles" in log
        code, _ = await daemon.terminate()
        assert code == 0


async def test_a_restart_takes_events_while_its_refresh_waits(
    tmp_path: Path, store_location: Path | str, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    names, tracking = listed(tmp_path)
    async with (
        ActionApiPeer(start=datetime.now(UTC)) as api,
        EventStreamsStandIn(id_style="offset") as stream,
    ):
        for name in names:
            api.add_page(name, "{{Information\n|description={{en|1=An object.}}\n}}")
        bridge = WikiBridge(api.changes)
        bridge.published = len(api.changes)
        database = store_location
        config = tmp_path / "config.toml"
        config.write_text(config_text(api.url, stream.url, database, tracking=tracking))
        daemon = daemons(config, tmp_path / "daemon.log")

        # The first run resolves and stores the set.
        await daemon.start()
        await wait_for(lambda: stream.connections >= 1, 60, "the first run's connection", daemon)
        assert len(await aquery(database, "SELECT 1 FROM tracked_files WHERE state = 'active'")) == FILES
        code, _ = await daemon.terminate()
        assert code == 0

        # The restart: the API stand-in holds every resolution request until the test lets them go.
        refresh = asyncio.Event()
        held: list[RecordedRequest] = []

        async def hold(request: RecordedRequest) -> None:
            if request.params.get("prop") == "info":
                held.append(request)
                await refresh.wait()

        api.on_request = hold
        asked_before = len(resolution_requests(api))
        await daemon.start()
        await wait_for(lambda: stream.connections >= 2, 60, "the restart's connection", daemon)
        await wait_for(lambda: bool(held), 60, "the refresh to ask the API", daemon)
        assert not refresh.is_set() and api.in_flight >= 1  # the refresh is under way, unanswered
        assert len(resolution_requests(api)) - asked_before < FILES // 50

        # It takes events meanwhile: an edit of a listed file is queued while the refresh waits.
        api.edit(
            names[7],
            "{{Information\n|description={{en|1=An object.}}{{fr|1=Un objet.}}\n}}",
            user="Volunteer",
        )
        stream.publish(*bridge.pending())

        async def edit_taken() -> bool:
            return bool(
                await aquery(database, "SELECT 1 FROM inbox WHERE kind = 'edit' AND title = ?", (names[7],))
            )

        await wait_for(edit_taken, 60, "the edit to be taken during the refresh", daemon)
        assert (
            not refresh.is_set() and "tracked set resolved" not in daemon.log_text().split("----- run 2")[-1]
        )

        refresh.set()
        await wait_for(
            lambda: "tracked set resolved" in daemon.log_text().split("----- run 2")[-1],
            60,
            "the refresh",
            daemon,
        )
        assert len(resolution_requests(api)) - asked_before == FILES // 50
        code, _ = await daemon.terminate()
        assert code == 0
