"""Durability: SIGKILL the daemon at random moments during a replay; every change ends up queued once,
on either engine (issue 20: the cursor commits with its work in a PostgreSQL transaction too)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.fixtures import load_events
from tests.support.harness import CATEGORY, DaemonProcess, aquery, arecords, config_text, wait_for
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.bridge import WikiBridge
from watcher.demo.standins.eventstreams import EventStreamsStandIn
from watcher.diff import diff_revisions
from watcher.diff.model import RevisionContent
from watcher.store.queue import unique_key

LANGUAGES = ["de", "fr", "sv", "nl", "it", "es", "fi", "pl"]
KILLS = 22


def noise(count: int) -> list[dict[str, object]]:
    """Events of other wikis, varied from a real capture: most of the stream is like this."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    base = load_events("rc_2024-04-26_commons_sdc_edit_and_delete_log.jsonl")[2]
    out = []
    for n in range(count):
        event = dict(base)
        event["meta"] = {**base["meta"], "id": f"noise-{n}", "dt": now}
        event["id"] = 10_000_000 + n
        event["title"] = f"Q{n}"
        out.append(event)
    return out


def queued_more(database: Path | str, before: int, everything: int) -> Callable[[], Awaitable[bool]]:
    """True once more records than ``before`` are queued, or all of them."""

    async def check() -> bool:
        count = len(await arecords(database))
        return count > before or count >= everything

    return check


@pytest.mark.slow
async def test_random_kills_lose_and_repeat_nothing(
    tmp_path: Path, store_location: Path | str, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    rng = random.Random(20261124)
    api = ActionApiPeer(latency=0.2, start=datetime.now(UTC))  # slow enough for kills to land mid-work
    await api.start()
    stream = EventStreamsStandIn(write_size=4096)
    await stream.start()
    try:
        api.add_page(CATEGORY, "")
        files = [f"File:Object - EXM {n}.jpg" for n in range(40)]
        for n, title in enumerate(files):
            api.add_page(
                title,
                f"{{{{Information\n|description={{{{en|1=Object {n}}}}}\n|date=1890\n}}}}",
                categories=[CATEGORY],
            )
        bridge = WikiBridge(api.changes)
        bridge.published = len(api.changes)

        database = store_location
        config = tmp_path / "config.toml"
        config.write_text(config_text(api.url, stream.url, database))
        daemon = daemons(config, tmp_path / "daemon.log")
        await daemon.start()
        await wait_for(lambda: stream.connections >= 1, 20, "the first connection", daemon)

        async def tracked_set() -> bool:
            return len(await aquery(database, "SELECT 1 FROM tracked_files")) == 40

        await wait_for(tracked_set, 20, "the tracked set", daemon)

        # 240 community edits to the tracked files, interleaved with 6,000 events of other wikis.
        texts = {title: api.page(title).latest.wikitext for title in files}
        expected: set[str] = set()
        events: list[dict[str, object]] = []
        other = noise(6000)
        for step in range(240):
            title = rng.choice(files)
            old_text = texts[title]
            lang = LANGUAGES[step % len(LANGUAGES)]
            new_text = old_text.replace("\n|date=", f"\n{{{{{lang}|1=Text {step}}}}}\n|date=", 1)
            if step % 5 == 0:
                new_text = (
                    new_text.replace("|date=1890", f"|date={1890 + step}")
                    if "|date=1890" in new_text
                    else new_text + f"\n[[Category:Step {step}]]"
                )
            old_rev = api.page(title).latest.revid
            new_rev = api.edit(title, new_text, user=f"Volunteer {step % 7}", comment=f"step {step}")
            texts[title] = new_text
            for change in diff_revisions(RevisionContent(old_text), RevisionContent(new_text)):
                expected.add(unique_key("commonswiki", new_rev, change))
            assert old_rev != new_rev
            events += bridge.pending()
            events += other[step * 25 : (step + 1) * 25]
        assert len(expected) >= 240
        stream.publish(*events)

        queued_at_kill: list[int] = []
        for _ in range(KILLS):
            # A random moment after this run has queued something (or once everything is queued):
            # kills land mid-work by construction, however long a start takes on a busy machine.
            await wait_for(
                queued_more(database, len(await arecords(database)), len(expected)),
                60,
                "this run to queue something",
                daemon,
            )
            await asyncio.sleep(rng.uniform(0.0, 0.6))
            await daemon.kill()
            queued_at_kill.append(len(await arecords(database)))
            await daemon.start()
        last_id = stream.frame(len(stream) - 1).split(b"\nid: ", 1)[1].split(b"\n", 1)[0].decode()

        connections = stream.connections

        async def caught_up() -> bool:
            if stream.connections <= connections:
                return False  # the last run has not started following yet
            cursor = await aquery(database, "SELECT value FROM state WHERE key = 'last_event_id'")
            pending = await aquery(database, "SELECT 1 FROM inbox WHERE state = 'pending'")
            return bool(cursor) and cursor[0][0] == last_id and not pending

        await wait_for(caught_up, 90, "the replay to be processed", daemon)
        code, _ = await daemon.terminate()
        assert code == 0
        got = [r["unique_key"] for r in await arecords(database)]
        assert len(got) == len(set(got))
        assert set(got) == expected, (
            f"missing {len(expected - set(got))}, unexpected {len(set(got) - expected)}"
        )
        failed = await aquery(database, "SELECT title, last_error FROM inbox WHERE state = 'failed'")
        assert not failed, [tuple(r) for r in failed]
        assert daemon.runs == KILLS + 1
        # The kills landed while work was under way, not only before or after it.
        assert sum(1 for n in queued_at_kill if 0 < n < len(expected)) >= 5, queued_at_kill
    finally:
        await stream.stop()
        await api.close()
