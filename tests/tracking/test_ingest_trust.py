"""Ingest and what Commons undid: a bot's (or ignored user's) edit that could undo a queued change goes
to the worker, any other stays as cheap as before; a revision deletion of a tracked file's revisions
becomes work only where pending changes of them could be affected."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.support.core import World, edit, log_event
from tests.support.fixtures import load_events
from watcher.config import parse_config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.action_api_reverts import revision_delete
from watcher.demo.standins.bridge import rc_to_event
from watcher.diff.model import FieldChange
from watcher.store import Database
from watcher.store.queue import Provenance, insert_changes
from watcher.stream.events import event_key

ROOT = "Category:Media contributed by LSH"
TRACKED = "File:Armband - Livrustkammaren - 98906.jpg"
UNTRACKED = "File:Somebody else's cat.jpg"
CONFIG = f"""
[watcher]
user_agent = "WatcherTests/1.0 (tests@museum.example)"
[tracking]
categories = ["{ROOT}"]
[filters]
ignore_bots = true
ignore_users = ["Museum_account"]
"""


@pytest.fixture
async def world(db: Database, tmp_path: Path) -> World:
    w = World(db, parse_config(CONFIG, tmp_path / "config.toml"))
    await w.track_categories(ROOT)
    await w.track(TRACKED)
    return w


def bot_edit(title: str, old: int, new: int) -> dict[str, Any]:
    """The real capture of a bot's File page edit (RudolphousBot, bot: true), on ``title``."""
    (event,) = [
        e for e in load_events("rc_2021-08-27_commons_file_edit_and_revision_create.jsonl") if e.get("bot")
    ]
    event = copy.deepcopy(event)
    event.update(title=title, revision={"old": old, "new": new}, id=event["id"] + new)
    event["meta"]["id"] = f"{event['meta']['id'][:-6]}{new % 1_000_000:06d}"
    return event


async def queue_change(
    db: Database, revision: int, *, status: str = "pending", reverted_by: int | None = None
) -> int:
    """A queued description change of TRACKED at ``revision``, as the worker queues one."""
    provenance = Provenance(
        wiki="commonswiki", file=TRACKED, revision=revision, old_revision=revision - 1,
        timestamp="2026-03-01T09:00:00Z", user="Vandal", comment="", object_id="98906",
    )  # fmt: skip
    change = FieldChange("description", "changed", "An armband", "LOL", template="Information", language="en")
    async with db.transaction() as conn:
        await insert_changes(conn, provenance, [change])
        await conn.execute(
            "UPDATE changes SET status = ?, reverted_by = ? WHERE revision = ?",
            (status, reverted_by, revision),
        )
        cursor = await conn.execute("SELECT id FROM changes WHERE revision = ?", (revision,))
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


# -- edits by bots and ignored users -------------------------------------------------------------


async def test_a_bot_edit_of_a_file_with_nothing_queued_is_only_remembered(world: World) -> None:
    event = bot_edit(TRACKED, 100, 101)
    await world.handle(event)
    assert await world.inbox() == []
    assert await world.seen(event)
    assert world.worker_wakes == 0


async def test_a_bot_edit_of_a_file_with_a_pending_change_goes_to_the_worker(world: World) -> None:
    await queue_change(world.db, 100)
    event = bot_edit(TRACKED, 100, 101)
    await world.handle(event)
    assert await world.inbox() == [("edit", TRACKED, event_key(event))]
    assert world.worker_wakes == 1
    # Another file's bot edits stay as they were, whatever this file has queued.
    await world.handle(bot_edit(UNTRACKED, 7, 8))
    assert len(await world.inbox()) == 1


@pytest.mark.parametrize(
    ("status", "reverted_by", "goes"),
    [
        ("accepted", None, True),  # a decided change can still be reverted (it gains reverted_by)
        ("rejected", None, True),
        ("withdrawn", 99, False),  # already undone: nothing left to undo
        ("accepted", 99, False),
    ],
)
async def test_only_changes_not_yet_undone_bring_a_bot_edit_in(
    world: World, status: str, reverted_by: int | None, goes: bool
) -> None:
    await queue_change(world.db, 100, status=status, reverted_by=reverted_by)
    event = bot_edit(TRACKED, 100, 101)
    await world.handle(event)
    assert [kind for kind, _, _ in await world.inbox()] == (["edit"] if goes else [])
    assert await world.seen(event)


async def test_an_ignored_users_edit_after_an_edit_still_waiting_goes_to_the_worker(world: World) -> None:
    """The worker may meet the revert before the edit it undoes: waiting work counts as queued."""
    vandal = edit(TRACKED, 100, 101, user="Vandal")
    revert = edit(TRACKED, 101, 102, user="Museum account")
    await world.handle(vandal, revert)  # one batch, one transaction: the first is seen by the second
    assert [key for _, _, key in await world.inbox()] == [event_key(vandal), event_key(revert)]
    late = edit(UNTRACKED, 1, 2, user="Museum account")
    await world.handle(late)
    assert len(await world.inbox()) == 2


async def test_a_bot_page_creation_is_never_work(world: World) -> None:
    await queue_change(world.db, 100)
    created = bot_edit(TRACKED, 100, 101)
    created.update(type="new", revision={"new": 101})
    await world.handle(created)
    assert await world.inbox() == []


# -- revision deletion ---------------------------------------------------------------------------


def hiding(
    revids: list[int], *, content: bool = True, title: str = TRACKED
) -> tuple[dict[str, Any], list[int]]:
    """A revision deletion made on the stand-in wiki (its log entry as MediaWiki 1.39 writes it), as
    the stream carries it, and the ids of the wiki's revisions ``revids`` (0-based: 1 is the first edit)."""
    wiki = ActionApiPeer()
    ids = [wiki.add_page(title, "{{Information|description={{en|1=An armband}}}}", user="LSH").revid]
    for n in range(3):
        ids.append(
            wiki.edit(title, f"{{{{Information|description={{{{en|1=Vandalism {n}}}}}}}}}", user="Vandal")
        )
    revision_delete(wiki, title, [ids[i] for i in revids], content=content, comment=not content)
    (change,) = [c for c in wiki.changes if c.log is not None and c.log.action == "revision"]
    return rc_to_event(change), ids


async def test_a_revision_deletion_of_revisions_with_pending_changes_is_work(world: World) -> None:
    event, ids = hiding([1, 2])
    await queue_change(world.db, ids[2])
    await world.handle(event)
    assert await world.inbox() == [("revdel", TRACKED, event_key(event))]
    assert world.worker_wakes == 1
    assert (await world.counters())["events_matched"] == 1


@pytest.mark.parametrize(
    ("hidden", "content", "pending"),
    [
        ([1, 2], True, None),  # nothing pending at all
        ([1], True, 2),  # the pending change is of another revision
        ([1, 2], False, 2),  # only the summary was hidden
    ],
    ids=["nothing-pending", "other-revisions", "summary-only"],
)
async def test_a_revision_deletion_that_can_withdraw_nothing_is_only_remembered(
    world: World, hidden: list[int], content: bool, pending: int | None
) -> None:
    event, ids = hiding(hidden, content=content)
    if pending is not None:
        await queue_change(world.db, ids[pending])
    await world.handle(event)
    assert await world.inbox() == []
    assert await world.seen(event)


async def test_a_revision_deletion_naming_no_revision_asks_about_every_pending_change(world: World) -> None:
    await queue_change(world.db, 100)
    unnamed = log_event(TRACKED, "delete", "revision", {"type": "revision"})
    await world.handle(unnamed)
    assert [kind for kind, _, _ in await world.inbox()] == ["revdel"]


async def test_a_revision_deletion_of_an_untracked_file_leaves_no_trace(world: World) -> None:
    event, _ = hiding([1], title=UNTRACKED)
    await world.handle(event)
    assert await world.inbox(state=None) == []
