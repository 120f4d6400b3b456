"""A revision deletion the stream announces (a ``delete``/``revision`` log event) withdraws the pending
changes of the revisions it hid, without waiting for a later edit to meet them: ingest turns the
event into ``revdel`` work, the worker asks the Action API (one request) which revisions are hidden."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.support.core import World
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.action_api_reverts import revision_delete
from watcher.demo.standins.bridge import rc_to_event
from watcher.mediawiki.client import ActionApi
from watcher.pipeline.worker import Worker
from watcher.store import Database
from watcher.store import tracked as store_tracked

UA = "WatcherTests/1.0 (tests@museum.example)"
TITLE = "File:Mirror - EXM 6.jpg"
MUSEUM = "{{Information|description={{en|1=A mirror}}|date=1890|author=Unknown}}"


@pytest.fixture
async def wiki() -> AsyncIterator[ActionApiPeer]:
    peer = ActionApiPeer()
    await peer.start()
    peer.add_page(TITLE, MUSEUM, user="Example Museum")
    try:
        yield peer
    finally:
        await peer.close()


@pytest.fixture
async def world(db: Database, make_config: Callable[..., Config]) -> World:
    """Ingest over the database, TITLE tracked (the worker tests go through ingest, as the daemon does)."""
    w = World(db, make_config())
    async with db.transaction() as conn:
        await store_tracked.add_file(conn, TITLE, "file", "config")
    w.tracked.files.add(TITLE)
    return w


async def no_wait(_: float) -> None:
    return None


async def work(db: Database, wiki: ActionApiPeer, config: Config) -> int:
    async with ActionApi(wiki.url, UA, sleep=no_wait) as api:
        return await Worker(db, api, config).process_due()


async def publish(world: World, wiki: ActionApiPeer, since: int) -> int:
    """The wiki's recent changes from ``since`` on, as stream events, through ingest; returns the next."""
    await world.handle(*(rc_to_event(change) for change in wiki.changes[since:]))
    return len(wiki.changes)


async def queue(db: Database) -> list[tuple[Any, ...]]:
    rows = await db.fetchall(
        "SELECT revision, field, status, reverted_by FROM changes ORDER BY revision, field"
    )
    return [tuple(r) for r in rows]


def revision_requests(wiki: ActionApiPeer, since: int) -> list[list[int]]:
    """The revision ids of each ``prop=revisions`` request since ``since`` (with other props or not)."""
    return [
        sorted(int(i) for i in r.params["revids"].split("|"))
        for r in wiki.requests[since:]
        if "revisions" in r.params.get("prop", "").split("|") and "revids" in r.params
    ]


async def test_a_revision_deletion_withdraws_the_hidden_revisions_changes_at_once(
    world: World, wiki: ActionApiPeer, db: Database
) -> None:
    config = world.config
    published = len(wiki.changes)
    alice = wiki.edit(TITLE, MUSEUM.replace("1890", "1891"), user="Alice")
    spam = MUSEUM.replace("1890", "1891").replace("A mirror", "Call 555-0100")
    first = wiki.edit(TITLE, spam, user="Vandal")
    second = wiki.edit(TITLE, spam.replace("Unknown", "Call 555-0100"), user="Vandal")
    wiki.edit(TITLE, spam.replace("Unknown", "Call 555-0100") + "\n[[Category:Mirrors]]", user="Bob")
    published = await publish(world, wiki, published)
    assert await work(db, wiki, config) == 4
    assert [(r[0], r[2]) for r in await queue(db)] == [
        (alice, "pending"), (first, "pending"), (second, "pending"), (second + 1, "pending"),
    ]  # fmt: skip
    # An administrator hides both of the vandal's revisions; nothing else is edited.
    revision_delete(wiki, TITLE, [first, second], content=True, reason="RD1")
    before = len(wiki.requests)
    published = await publish(world, wiki, published)
    assert [r[0] for r in await db.fetchall("SELECT kind FROM inbox WHERE state = 'pending'")] == ["revdel"]
    assert await work(db, wiki, config) == 1
    assert await queue(db) == [
        (alice, "date", "pending", None),
        (first, "description", "withdrawn", None),
        (second, "author", "withdrawn", None),
        (second + 1, "category", "pending", None),
    ]
    # One request, about the pending changes' revisions, those the log named among them.
    assert revision_requests(wiki, before) == [sorted([alice, first, second, second + 1])]
    events = await db.fetchall("SELECT actor, action, revision FROM review_events ORDER BY revision")
    assert [tuple(r) for r in events] == [("Commons", "withdraw", first), ("Commons", "withdraw", second)]
    assert [r[0] for r in await db.fetchall("SELECT state FROM inbox WHERE kind = 'revdel'")] == ["done"]


async def test_hiding_revisions_without_pending_changes_costs_no_request(
    world: World, wiki: ActionApiPeer, db: Database
) -> None:
    published = len(wiki.changes)
    alice = wiki.edit(TITLE, MUSEUM.replace("1890", "1891"), user="Alice")
    published = await publish(world, wiki, published)
    assert await work(db, wiki, world.config) == 1
    await world.db.write("UPDATE changes SET status = 'accepted' WHERE revision = ?", (alice,))
    bob = wiki.edit(TITLE, MUSEUM.replace("1890", "1892").replace("Unknown", "Bob"), user="Bob")
    revision_delete(wiki, TITLE, [alice], content=True)
    before = len(wiki.requests)
    await publish(world, wiki, published)
    # The deletion log event is only remembered; Bob's edit is fetched as usual (its parent is hidden:
    # nothing to compare), and no request asks about anything else.
    assert [r[0] for r in await db.fetchall("SELECT kind FROM inbox WHERE state = 'pending'")] == ["edit"]
    assert await work(db, wiki, world.config) == 1
    assert revision_requests(wiki, before) == [[alice, bob]]
    assert await queue(db) == [(alice, "date", "accepted", None)]  # a decision stays


async def test_a_check_that_fails_is_retried_later_and_loses_nothing(
    world: World, wiki: ActionApiPeer, db: Database
) -> None:
    published = len(wiki.changes)
    vandal = wiki.edit(TITLE, MUSEUM.replace("A mirror", "Call 555-0100"), user="Vandal")
    wiki.edit(TITLE, MUSEUM.replace("A mirror", "Call 555-0100").replace("1890", "1891"), user="Bob")
    published = await publish(world, wiki, published)
    assert await work(db, wiki, world.config) == 2
    revision_delete(wiki, TITLE, [vandal], content=True)
    await publish(world, wiki, published)
    wiki.fail_http(503, times=1000)
    assert await work(db, wiki, world.config) == 0
    (item,) = await db.fetchall("SELECT state, attempts, last_error FROM inbox WHERE kind = 'revdel'")
    assert (item[0], item[1]) == ("pending", 1) and "hidden on Commons" in item[2]
    assert [r[2] for r in await queue(db)] == ["pending", "pending"]
    wiki.faults.clear()
    await db.write("UPDATE inbox SET next_attempt_at = NULL")  # due now
    assert await work(db, wiki, world.config) == 1
    assert [(r[0], r[2]) for r in await queue(db)] == [(vandal, "withdrawn"), (vandal + 1, "pending")]
