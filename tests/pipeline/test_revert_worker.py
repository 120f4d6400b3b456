"""The fetch worker meets a revert before the edit it undid (a retry, a replay, catch-up out of order),
and meets revisions Commons hid: the queue ends as if it had met everything in order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.support.core import edit
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.action_api_reverts import revision_delete, rollback
from watcher.mediawiki.client import ActionApi
from watcher.pipeline.worker import Worker
from watcher.store import Database
from watcher.store import state as store_state

UA = "WatcherTests/1.0 (tests@museum.example)"
TITLE = "File:Chair - EXM 1.jpg"
MUSEUM = "{{Information|description={{en|1=A chair}}|date=1890}}"


@pytest.fixture
async def wiki() -> AsyncIterator[ActionApiPeer]:
    peer = ActionApiPeer()
    await peer.start()
    peer.add_page(TITLE, MUSEUM, user="Example Museum")
    try:
        yield peer
    finally:
        await peer.close()


async def no_wait(_: float) -> None:
    return None


async def enqueue(db: Database, wiki: ActionApiPeer, revid: int) -> None:
    """The stream event of revision ``revid`` into the inbox, as ingest would put it."""
    revision = wiki.revisions[revid]
    event = edit(TITLE, revision.parentid, revid, user=revision.user)
    async with db.transaction() as conn:
        await store_state.enqueue(conn, f"k{revid}", "edit", TITLE, event)


async def work(db: Database, wiki: ActionApiPeer, config: Config) -> int:
    async with ActionApi(wiki.url, UA, sleep=no_wait) as api:
        return await Worker(db, api, config).process_due()


async def queue(db: Database) -> list[tuple[Any, ...]]:
    found = await db.fetchall(
        "SELECT revision, field, old, new, status, reverted_by FROM changes ORDER BY revision, field"
    )
    return [tuple(r) for r in found]


async def test_a_rollback_met_before_the_vandalism_ends_as_if_met_after(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    config = make_config()
    vandal = wiki.edit(TITLE, MUSEUM.replace("A chair", "A CHAIR LOL"), user="Vandal")
    rolled = rollback(wiki, TITLE, user="Patroller")
    await enqueue(db, wiki, rolled)  # the vandal's edit failed to fetch and waits for its retry
    assert await work(db, wiki, config) == 1
    assert await queue(db) == [(rolled, "description", "A CHAIR LOL", "A chair", "pending", None)]
    await enqueue(db, wiki, vandal)
    assert await work(db, wiki, config) == 1
    assert await queue(db) == [(vandal, "description", "A chair", "A CHAIR LOL", "withdrawn", rolled)]
    kept = await db.fetchall("SELECT revision FROM reverting_changes")
    assert [r[0] for r in kept] == [rolled]
    counters = await store_state.get_counters(db)
    assert counters["changes_withdrawn"] == 1


async def test_a_hidden_parent_withdraws_the_hidden_run(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    config = make_config()
    first = wiki.edit(TITLE, MUSEUM.replace("A chair", "Call 555-0100"), user="Vandal")
    second = wiki.edit(
        TITLE, MUSEUM.replace("A chair", "Call 555-0100").replace("1890", "1891"), user="Vandal"
    )
    for revid in (first, second):
        await enqueue(db, wiki, revid)
    assert await work(db, wiki, config) == 2
    fix = wiki.edit(TITLE, MUSEUM.replace("1890", "1891"), user="Patroller")
    revision_delete(wiki, TITLE, [first, second], content=True)
    await enqueue(db, wiki, fix)
    before = len(wiki.requests)
    assert await work(db, wiki, config) == 1
    # The fix's parent is hidden: nothing to compare, and the file's other pending changes are asked
    # about in one more request; both hidden revisions' changes are withdrawn.
    assert [(r[0], r[4]) for r in await queue(db)] == [(first, "withdrawn"), (second, "withdrawn")]
    revision_requests = [
        r for r in wiki.requests[before:] if "revisions" in r.params.get("prop", "").split("|")
    ]
    assert len(revision_requests) == 2
    events = await db.fetchall("SELECT actor, action, revision FROM review_events ORDER BY id")
    assert sorted(tuple(r) for r in events) == [
        ("Commons", "withdraw", first),
        ("Commons", "withdraw", second),
    ]
