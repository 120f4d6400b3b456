"""Catch-up beyond the stream's memory: a stored position older than the retention is filled from the API,
on either engine (issue 20)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.harness import CATEGORY, DaemonProcess, arecords, astate, config_text, wait_for
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.bridge import WikiBridge, rc_to_event
from watcher.demo.standins.eventstreams import EventStreamsStandIn
from watcher.store.open import open_store
from watcher.store.state import set_cursor

DAY = 86400


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
async def peers() -> AsyncIterator[tuple[ActionApiPeer, EventStreamsStandIn]]:
    """The stand-in wiki and a stand-in stream that keeps 7 days, like EventStreams."""
    api = ActionApiPeer()
    stream = EventStreamsStandIn(retention=7 * DAY)
    await api.start()
    await stream.start()
    try:
        yield api, stream
    finally:
        await stream.stop()
        await api.close()


def museum_files(api: ActionApiPeer, stem: str, count: int, created: datetime) -> list[str]:
    api.add_page(CATEGORY, "", timestamp=iso(created))
    files = [f"File:{stem} - EXM {n}.jpg" for n in range(count)]
    for n, title in enumerate(files):
        text = f"{{{{Information|description={{{{en|1={stem} {n}}}}}}}}}"
        api.add_page(title, text, categories=[CATEGORY], user="Example Museum", timestamp=iso(created))
    return files


async def ran_and_stopped_long_ago(
    daemon: DaemonProcess, stream: EventStreamsStandIn, database: Path | str, stopped: datetime
) -> None:
    """The watcher ran once and stored a position; then it was down since ``stopped`` (the position is
    set back by the store's own writer, on either engine)."""
    await daemon.start()
    await wait_for(lambda: stream.connections >= 1, 20, "the first connection", daemon)

    async def started() -> bool:
        return await astate(database, "first_start_at") is not None

    await wait_for(started, 20, "start", daemon)
    code, _ = await daemon.terminate()
    assert code == 0 and not await arecords(database)
    old_id = '[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1}]'
    async with open_store(database, create=False, migrate=False) as db, db.transaction() as conn:
        await set_cursor(conn, old_id, iso(stopped))


def queued(database: Path | str, count: int) -> Callable[[], Awaitable[bool]]:
    """True once exactly ``count`` records are queued."""

    async def check() -> bool:
        return len(await arecords(database)) == count

    return check


async def test_old_position_is_caught_up_through_the_api_without_gap_or_duplicate(
    peers: tuple[ActionApiPeer, EventStreamsStandIn],
    tmp_path: Path,
    store_location: Path | str,
    daemons: Callable[[Path, Path], DaemonProcess],
) -> None:
    api, stream = peers
    now = datetime.now(UTC)
    files = museum_files(api, "Vase", 5, now - timedelta(days=20))
    database = store_location
    config = tmp_path / "config.toml"
    # A wide resume margin makes the stream replay the last hour of the gap too: the seam overlaps.
    config.write_text(config_text(api.url, stream.url, database, resume_margin=7200))
    daemon = daemons(config, tmp_path / "daemon.log")
    await ran_and_stopped_long_ago(daemon, stream, database, now - timedelta(days=10))

    # While it was down: edits 9 days, 3 days and 30 minutes ago. The stream still has the last two.
    bridge = WikiBridge(api.changes)
    bridge.published = len(api.changes)
    moments = [now - timedelta(days=9), now - timedelta(days=3), now - timedelta(minutes=30)]
    for n, moment in enumerate(moments):
        api.edit(files[n], f"{{{{Information|description={{{{en|1=Vase {n}}}}}\n{{{{fr|1=Vase {n} (fr)}}}}}}}}",
                 user=f"Volunteer {n}", timestamp=iso(moment))  # fmt: skip
    for change in api.changes[bridge.published :]:
        stream.publish(
            rc_to_event(change, dt=datetime.fromisoformat(change.timestamp.replace("Z", "+00:00")))
        )
    bridge.published = len(api.changes)

    await daemon.start()
    await wait_for(queued(database, 3), 30, "the three caught-up changes", daemon)
    await wait_for(lambda: stream.connections >= 2, 20, "the stream to take over", daemon)
    # The stream took over from a time (the id was useless), and served the overlapping last edit again.
    resumed = stream.requests[-1]
    assert resumed.last_event_id is None and "since" in resumed.query
    assert any(r.params.get("rcstart") for r in api.requests if r.params.get("list") == "recentchanges")

    # A live edit after the seam is queued once, and nothing was queued twice.
    api.edit(files[3], "{{Information|description={{en|1=Vase 3}}\n{{sv|1=Vas 3}}}}", user="Live")
    stream.publish(*bridge.pending())
    await wait_for(queued(database, 4), 20, "the live edit", daemon)
    code, _ = await daemon.terminate()
    assert code == 0
    got = sorted((r["file"], r["language"], r["user"]) for r in await arecords(database))
    assert got == [
        (files[0], "fr", "Volunteer 0"),
        (files[1], "fr", "Volunteer 1"),
        (files[2], "fr", "Volunteer 2"),
        (files[3], "sv", "Live"),
    ]
    assert "catching up through the Action API" in daemon.log_text()


async def test_a_gap_beyond_thirty_days_is_filled_by_history_then_recent_changes(
    peers: tuple[ActionApiPeer, EventStreamsStandIn],
    tmp_path: Path,
    store_location: Path | str,
    daemons: Callable[[Path, Path], DaemonProcess],
) -> None:
    """40 days down: the part recentchanges no longer keeps comes from history mode, the rest from the
    catch-up, and each edit is reported once (on PostgreSQL the daemon's log shows no failure: a
    history run's id comes back by RETURNING there, a cursor knowing no lastrowid)."""
    api, stream = peers
    now = datetime.now(UTC)
    files = museum_files(api, "Jug", 3, now - timedelta(days=60))
    database = store_location
    config = tmp_path / "config.toml"
    config.write_text(config_text(api.url, stream.url, database))
    daemon = daemons(config, tmp_path / "daemon.log")
    await ran_and_stopped_long_ago(daemon, stream, database, now - timedelta(days=40))

    # 35 days ago (only history can see it) and 3 days ago (recent changes still keep it).
    api.edit(files[0], "{{Information|description={{en|1=Jug 0}}\n{{de|1=Krug 0}}}}", user="Old Volunteer",
             timestamp=iso(now - timedelta(days=35)))  # fmt: skip
    api.edit(files[1], "{{Information|description={{en|1=Jug 1}}\n{{fr|1=Cruche 1}}}}", user="New Volunteer",
             timestamp=iso(now - timedelta(days=3)))  # fmt: skip

    await daemon.start()
    await wait_for(queued(database, 2), 60, "the two changes of the gap", daemon)
    await wait_for(lambda: stream.connections >= 2, 20, "the stream to take over", daemon)
    code, _ = await daemon.terminate()
    assert code == 0
    got = sorted((r["file"], r["language"], r["source"], r["user"]) for r in await arecords(database))
    assert got == [
        (files[0], "de", "history", "Old Volunteer"),
        (files[1], "fr", "live", "New Volunteer"),
    ]
    assert "filling the part before" in daemon.log_text()
    assert "Traceback" not in daemon.log_text()  # the history run went through at its first attempt
