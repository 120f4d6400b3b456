"""While a backlog is taken, the ingest stage commits many batches' candidates together with the cursor
of the last (the durability rule: the cursor commits with its work), applies a tracked-set change at
once, commits everything as soon as a live batch comes, and wakes the fetch worker sparingly."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from tests.support.config import USER_AGENT
from tests.support.core import World, categorize, edit
from watcher.config import parse_config
from watcher.store import Database
from watcher.stream.client import EventBatch
from watcher.stream.events import event_key
from watcher.tracking.ingest import GROUP_SECONDS, QUIET_SECONDS, WORKER_WAKE_SECONDS

ROOT = "Category:Media contributed by LSH"
TRACKED = "File:Armband - Livrustkammaren - 98906.jpg"
OTHER = "File:Stol - Hallwylska museet - 103896.jpg"
JOINING = "File:Hjälm - Livrustkammaren - 1234.jpg"

CONFIG = f"""
[watcher]
user_agent = "{USER_AGENT}"
[tracking]
categories = ["{ROOT}"]
"""


@pytest.fixture
async def world(db: Database, tmp_path: Path) -> World:
    w = World(db, parse_config(CONFIG, tmp_path / "config.toml"))
    await w.track_categories(ROOT)
    await w.track(TRACKED)
    await w.track(OTHER)
    return w


async def take(world: World, *events: dict[str, Any], backlog: bool = True) -> EventBatch:
    batch = dataclasses.replace(world.batch(*events), backlog=backlog)
    await world.ingest.handle(batch)
    return batch


async def test_backlog_batches_are_committed_together_with_the_last_cursor(world: World) -> None:
    first, second = edit(TRACKED, 100, 101), edit(OTHER, 200, 201)
    await take(world, first)
    world.clock.now += GROUP_SECONDS / 2
    last = await take(world, second)
    # Nothing is stored yet: neither the work nor the position past it.
    assert await world.inbox() == [] and await world.cursor() is None
    world.clock.now += GROUP_SECONDS
    await world.ingest.tick()
    assert [title for _, title, _ in await world.inbox()] == [TRACKED, OTHER]
    assert await world.cursor() == last.last_id
    assert await world.counters() == {"events_seen": 2, "events_matched": 2}


async def test_a_live_batch_commits_what_waits_at_once(world: World) -> None:
    waiting = edit(TRACKED, 100, 101)
    await take(world, waiting)
    live = await take(world, backlog=False)  # no candidates: the stream has caught up
    assert await world.inbox() == [("edit", TRACKED, event_key(waiting))]
    assert await world.cursor() == live.last_id


async def test_a_change_to_the_tracked_set_is_applied_before_the_next_batch(world: World) -> None:
    await take(world, edit(TRACKED, 100, 101))
    joins = await take(world, categorize(ROOT, f"[[:{JOINING}]] added to category"))
    # Committed at once, with the edit that waited: the stream filters the next batch with the new set.
    assert world.tracked.has_file(JOINING)
    assert await world.cursor() == joins.last_id
    assert len(await world.inbox(state=None)) == 2


async def test_what_waits_is_forgotten_when_the_stream_starts_again(world: World) -> None:
    await take(world, edit(TRACKED, 100, 101))
    await world.ingest.forget_pending()
    world.clock.now += GROUP_SECONDS
    await world.ingest.tick()
    assert await world.inbox() == [] and await world.cursor() is None


async def test_the_worker_is_woken_sparingly_while_a_backlog_comes_in(world: World) -> None:
    await take(world, edit(TRACKED, 100, 101))
    world.clock.now += GROUP_SECONDS
    await take(world, edit(OTHER, 200, 201))  # commits the group
    assert len(await world.inbox()) == 2
    assert world.worker_wakes == 0  # the work waits in the inbox; the stream keeps the loop
    # Batches keep coming: the worker is still woken every WORKER_WAKE_SECONDS.
    for _ in range(int(WORKER_WAKE_SECONDS / (QUIET_SECONDS / 2)) + 1):
        world.clock.now += QUIET_SECONDS / 2
        await take(world)
        await world.ingest.tick()
    assert world.worker_wakes == 1
    # More work while batches keep coming: committed, but the worker waits.
    await take(world, edit(TRACKED, 300, 301))
    for _ in range(4):
        world.clock.now += GROUP_SECONDS / 2
        await take(world)
        await world.ingest.tick()
    assert len(await world.inbox()) == 3
    assert world.worker_wakes == 1
    # The stream goes quiet: the worker owed a wake-up gets it at the next tick.
    world.clock.now += QUIET_SECONDS
    await world.ingest.tick()
    assert world.worker_wakes == 2


async def test_a_live_batch_with_work_wakes_the_worker_at_once(world: World) -> None:
    await take(world, edit(TRACKED, 100, 101), backlog=False)
    assert world.worker_wakes == 1
