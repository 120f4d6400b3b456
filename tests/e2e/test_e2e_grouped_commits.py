"""Grouped commits keep the durability rule: SIGKILL while a backlog's candidates wait to be committed
together, restart, and every change is queued once and every event counted once.

While the daemon catches up a backlog (events older than the live stream's), the ingest stage commits
the candidates of many batches in one transaction with the cursor of the last (issue 18). A kill between
two such commits loses only work whose events come again from the stored cursor: this test kills the
real daemon at random moments while a backlog is published slice by slice, many small writes each. On
either engine (issue 20: on PostgreSQL the grouped commit is one transaction too).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.fixtures import load_events
from tests.support.harness import (
    CATEGORY,
    DaemonProcess,
    acounters,
    aquery,
    arecords,
    astate,
    config_text,
    wait_for,
)
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.bridge import WikiBridge
from watcher.demo.standins.eventstreams import EventStreamsStandIn
from watcher.diff import diff_revisions
from watcher.diff.model import RevisionContent
from watcher.store.queue import unique_key

KILLS = 10
EDITS = 180
NOISE_PER_EDIT = 30


def old_noise(count: int, when: datetime) -> list[dict[str, Any]]:
    """Events of other wikis from hours ago (a backlog), varied from a real capture."""
    base = load_events("rc_2024-04-26_commons_sdc_edit_and_delete_log.jsonl")[2]
    dt = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    out = []
    for n in range(count):
        event = dict(base)
        event["meta"] = {**base["meta"], "id": f"backlog-noise-{n}", "dt": dt}
        event["id"] = 20_000_000 + n
        event["title"] = f"Q{n}"
        out.append(event)
    return out


@pytest.mark.slow
async def test_kills_between_grouped_commits_lose_and_repeat_nothing(
    tmp_path: Path, store_location: Path | str, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    rng = random.Random(18)
    hours_ago = datetime.now(UTC) - timedelta(hours=8)
    api = ActionApiPeer(latency=0.02, start=hours_ago)
    await api.start()
    # Offsets in the ids: a resume is exact, so every event is delivered once after each stored cursor.
    stream = EventStreamsStandIn(write_size=2048, id_style="offset")
    await stream.start()
    try:
        api.add_page(CATEGORY, "")
        files = [f"File:Object - EXM {n}.jpg" for n in range(30)]
        for n, title in enumerate(files):
            text = f"{{{{Information\n|description={{{{en|1=Object {n}}}}}\n|date=1890\n}}}}"
            api.add_page(title, text, categories=[CATEGORY])
        bridge = WikiBridge(api.changes, dt=hours_ago)  # published as EventStreams had them then
        bridge.published = len(api.changes)

        database = store_location
        config = tmp_path / "config.toml"
        config.write_text(config_text(api.url, stream.url, database))
        daemon = daemons(config, tmp_path / "daemon.log")
        await daemon.start()
        await wait_for(lambda: stream.connections >= 1, 30, "the first connection", daemon)

        # A backlog: edits of the tracked files (an hour apart in the wiki's clock, hours ago), each
        # among events of other wikis, published in slices while the daemon is killed and restarted.
        texts = {title: api.page(title).latest.wikitext for title in files}
        expected: set[str] = set()
        slices: list[list[dict[str, Any]]] = []
        noise = old_noise(EDITS * NOISE_PER_EDIT, hours_ago)
        for step in range(EDITS):
            title = rng.choice(files)
            new_text = texts[title].replace("\n|date=", f"\n{{{{de|1=Text {step}}}}}\n|date=", 1)
            new_rev = api.edit(title, new_text, user=f"Volunteer {step % 5}", comment=f"step {step}")
            for change in diff_revisions(RevisionContent(texts[title]), RevisionContent(new_text)):
                expected.add(unique_key("commonswiki", new_rev, change))
            texts[title] = new_text
            slices.append([*noise[step * NOISE_PER_EDIT : (step + 1) * NOISE_PER_EDIT], *bridge.pending()])

        async def publish() -> None:
            for events in slices:
                stream.publish(*events)
                await asyncio.sleep(0.1)

        def following(connections: int) -> Callable[[], bool]:
            """Whether a daemon started after ``connections`` connections has connected since."""
            return lambda: stream.connections > connections

        publishing = asyncio.create_task(publish())
        # Kills only once a position is stored: before that a restart starts from its first start's
        # time (by design), which this backlog predates.

        async def cursor_stored() -> bool:
            return await astate(database, "last_event_id") is not None

        await wait_for(cursor_stored, 30, "a stored cursor", daemon)
        taken_at_kill: list[int] = []
        started_after = stream.connections - 1  # the first run follows already
        for _ in range(KILLS):
            await wait_for(following(started_after), 30, "the daemon to follow the stream", daemon)
            await asyncio.sleep(rng.uniform(0.05, 0.8))
            await daemon.kill()
            taken_at_kill.append(len(await aquery(database, "SELECT 1 FROM inbox WHERE kind = 'edit'")))
            started_after = stream.connections
            await daemon.start()
        await publishing
        last_id = stream.frame(len(stream) - 1).split(b"\nid: ", 1)[1].split(b"\n", 1)[0].decode()

        last_run_follows = following(started_after)

        async def caught_up() -> bool:
            if not last_run_follows():
                return False
            # The cursor first: the inbox rows commit with it, so a later read sees them pending (read
            # the other way round, the last grouped commit can land between the two reads).
            cursor = await astate(database, "last_event_id")
            pending = await aquery(database, "SELECT 1 FROM inbox WHERE state = 'pending'")
            return cursor == last_id and not pending

        await wait_for(caught_up, 120, "the backlog to be processed", daemon)
        code, _ = await daemon.terminate()
        assert code == 0

        got = [r["unique_key"] for r in await arecords(database)]
        assert len(got) == len(set(got)), "a change was queued twice"
        assert set(got) == expected, (
            f"missing {len(expected - set(got))}, unexpected {len(set(got) - expected)}"
        )
        # Every event counted once: the counters commit with the cursor, so a kill loses them together.
        assert (await acounters(database))["events_seen"] == len(stream)
        edits = await aquery(database, "SELECT count(*) FROM inbox WHERE kind = 'edit'")
        assert edits[0][0] == EDITS
        assert daemon.runs == KILLS + 1
        log = daemon.log_text()
        assert "candidates of" in log and "batches together" in log, "no commit grouped several batches"
        # The kills landed while the backlog was being taken, not only before or after it.
        assert sum(1 for n in taken_at_kill if 0 < n < EDITS) >= 3, taken_at_kill
    finally:
        await stream.stop()
        await api.close()
