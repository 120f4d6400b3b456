"""A bot's (``ignore_bots``) or an ignored user's edit withdraws what it undid, "whoever made it", and
never queues a record of its own: in queueing (every order the worker could meet the edits in) and
through the worker against the stand-in wiki."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import pytest

from tests.pipeline.test_revert_queueing import CHAIR, ROLLBACK, SUPERSEDED, edits, end_state, info
from tests.support.core import edit
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi
from watcher.pipeline.queueing import NEVER_QUEUED, queue_changes
from watcher.pipeline.worker import Worker
from watcher.store import Database
from watcher.store import state as store_state

# A bot's edit that undoes nothing, then a person who puts the field back: the person undid the bot.
BOT_THEN_PERSON = [
    (700, "Example Museum", info(CHAIR)),
    (701, "Alice", info(CHAIR, date="1901")),
    (702, "SortBot", info("{{en|1=A chair.}}", date="1901")),
    (703, "Bob", info(CHAIR, date="1901")),
]


async def every_order_ends_alike(
    db: Database, story: Sequence[tuple[int, str, str]], name: str, never: Mapping[int, str]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Queue the story's edits in every order, those in ``never`` (revision → why) as the worker queues
    a bot's; after every step no record of theirs is in the queue. Returns the common end state."""
    states = []
    for n, order in enumerate(itertools.permutations(range(len(story) - 1))):
        file = f"File:{name} {n}.jpg"
        offset = 10_000 * (n + 1)
        batch = edits(story, file, offset=offset)
        for provenance, changes in [batch[i] for i in order] + batch:  # then a redelivery of all
            async with db.transaction() as conn:
                await queue_changes(
                    conn, provenance, changes, never_queue=never.get(provenance.revision - offset)
                )
            marks = ",".join("?" * len(never))
            unqueued = [r + offset for r in never]
            found = await db.fetchall(f"SELECT id FROM changes WHERE revision IN ({marks})", unqueued)
            assert not found, f"order {order}: a record of a never-queued edit is in the queue"
        states.append(await end_state(db, file))
    assert all(state == states[0] for state in states), "the order the edits were met in changed the end"
    return states[0]


async def test_a_bots_rollback_withdraws_the_vandals_edits_in_any_order(db: Database) -> None:
    queued, kept = await every_order_ends_alike(db, ROLLBACK, "Bot rollback", {104: "bot"})
    assert queued == [
        (101, "date", None, "changed", "1900", "1901", "pending", None, None),
        (102, "description", "en", "changed", "A chair", "A CHAIR LOL", "withdrawn", 104, None),
        (103, "date", None, "changed", "1901", "1999", "withdrawn", 104, None),
    ]
    assert kept == [(104, "date", None), (104, "description", "en")]


async def test_an_ignored_users_third_value_supersedes_and_is_not_queued(db: Database) -> None:
    queued, kept = await every_order_ends_alike(db, SUPERSEDED, "Ignored", {403: "ignored user"})
    assert [(r[0], r[5], r[6], r[7], r[8]) for r in queued] == [
        (401, "1901", "pending", None, 402),
        (402, "c. 1901", "pending", None, 403),  # the value on Commons now is the ignored user's
    ]
    assert kept == [(403, "date", None)]
    reasons = await db.fetchall(
        f"SELECT DISTINCT json_extract(row, '$.{NEVER_QUEUED}') FROM reverting_changes"
    )
    assert [r[0] for r in reasons] == ["ignored user"]


async def test_a_person_putting_back_what_a_bot_changed_queues_nothing_in_any_order(db: Database) -> None:
    """The bot's change was never reported, so its undoing is no change for the museum either."""
    queued, kept = await every_order_ends_alike(db, BOT_THEN_PERSON, "Bot undone", {702: "bot"})
    assert [(r[0], r[1], r[6]) for r in queued] == [(701, "date", "pending")]
    assert kept == [(702, "description", "en"), (703, "description", "en")]


# -- through the worker --------------------------------------------------------------------------

UA = "WatcherTests/1.0 (tests@museum.example)"
TITLE = "File:Chair - EXM 1.jpg"
MUSEUM = "{{Information|description={{en|1=A chair}}|date=1890}}"
VANDALISED = MUSEUM.replace("A chair", "A CHAIR LOL")


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
    """The stream event of revision ``revid`` into the inbox, as ingest puts it (the bot flag as
    MediaWiki sets it: only a bot account's flagged edit has it)."""
    revision = wiki.revisions[revid]
    event = edit(TITLE, revision.parentid, revid, user=revision.user, bot=revision.bot)
    async with db.transaction() as conn:
        await store_state.enqueue(conn, f"k{revid}", "edit", TITLE, event)


async def work(db: Database, wiki: ActionApiPeer, config: Config) -> int:
    async with ActionApi(wiki.url, UA, sleep=no_wait) as api:
        return await Worker(db, api, config).process_due()


async def queue(db: Database) -> list[tuple[Any, ...]]:
    found = await db.fetchall(
        "SELECT revision, field, status, reverted_by FROM changes ORDER BY revision, field"
    )
    return [tuple(r) for r in found]


def looked_up(wiki: ActionApiPeer) -> set[str]:
    """Every account name asked about with list=users."""
    return {
        n for r in wiki.requests if r.params.get("list") == "users" for n in r.params["ususers"].split("|")
    }


@pytest.mark.parametrize("met_first", [False, True], ids=["in-order", "revert-met-first"])
async def test_a_bots_revert_withdraws_the_change_and_queues_nothing(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config], met_first: bool
) -> None:
    config = make_config("\n[filters]\nignore_bots = true\n")
    vandal = wiki.edit(TITLE, VANDALISED, user="Vandal")
    reverted = wiki.edit(TITLE, MUSEUM, user="ClueBot NG", bot=True, tags=("mw-manual-revert",))
    for revid in (reverted, vandal) if met_first else (vandal, reverted):
        await enqueue(db, wiki, revid)
        assert await work(db, wiki, config) == 1
    assert await queue(db) == [(vandal, "description", "withdrawn", reverted)]
    kept = await db.fetchall(f"SELECT revision, json_extract(row, '$.{NEVER_QUEUED}') FROM reverting_changes")
    assert [tuple(r) for r in kept] == [(reverted, "bot")]
    counters = await store_state.get_counters(db)
    assert (counters["changes_queued"], counters["changes_withdrawn"]) == (1, 1)
    assert "ClueBot NG" not in looked_up(wiki) and "Vandal" in looked_up(wiki)
    inbox = await db.fetchall("SELECT state FROM inbox")
    assert [r[0] for r in inbox] == ["done", "done"]


async def test_a_bots_edit_that_undoes_nothing_queues_nothing(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    config = make_config("\n[filters]\nignore_bots = true\n")
    dated = wiki.edit(TITLE, MUSEUM.replace("1890", "1891"), user="Alice")
    await enqueue(db, wiki, dated)
    bot = wiki.edit(
        TITLE, MUSEUM.replace("1890", "1891").replace("A chair", "A chair."), user="SortBot", bot=True
    )
    await enqueue(db, wiki, bot)
    assert await work(db, wiki, config) == 2
    assert await queue(db) == [(dated, "date", "pending", None)]


async def test_the_museums_own_account_reverting_withdraws_too(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    config = make_config('\n[filters]\nignore_users = ["Example_Museum"]\n')
    vandal = wiki.edit(TITLE, VANDALISED, user="Vandal")
    await enqueue(db, wiki, vandal)
    assert await work(db, wiki, config) == 1
    reverted = wiki.edit(TITLE, MUSEUM.replace("1890", "1890s"), user="Example Museum")
    await enqueue(db, wiki, reverted)
    assert await work(db, wiki, config) == 1
    # The museum's account put the description back (withdrawn) and changed the date: no record of it.
    assert await queue(db) == [(vandal, "description", "withdrawn", reverted)]


async def test_without_the_filter_a_bots_revert_is_an_ordinary_revert(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    config = make_config("\n[filters]\nignore_bots = false\n")
    dated = wiki.edit(TITLE, MUSEUM.replace("1890", "1891"), user="Alice")
    bot = wiki.edit(
        TITLE, MUSEUM.replace("1890", "1891").replace("A chair", "A chair."), user="SortBot", bot=True
    )
    for revid in (dated, bot):
        await enqueue(db, wiki, revid)
    assert await work(db, wiki, config) == 2
    assert await queue(db) == [(dated, "date", "pending", None), (bot, "description", "pending", None)]
