"""The fetch worker against answers that hold nothing: the edit is retried, never settled as "gone", and
queued once the API answers properly again. A revision the API names in ``badrevids`` is still gone."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.support.core import edit
from tests.support.mediawiki import USER_AGENT, drop_revision, rewrite_answers
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.action_api_hostile import EmptyAnswerPeer
from watcher.mediawiki.client import ActionApi
from watcher.pipeline.worker import Worker
from watcher.store import Database
from watcher.store import state as store_state

TITLE = "File:Chair - EXM 7.jpg"
BEFORE = "{{Information|description={{en|1=Chair}}|date=1890}}"
AFTER = "{{Information|description={{en|1=Chair}}|date=circa 1890}}"


@pytest.fixture
async def wiki() -> AsyncIterator[ActionApiPeer]:
    async with ActionApiPeer() as peer:
        peer.add_page(TITLE, BEFORE)
        yield peer


@pytest.fixture
async def elsewhere() -> AsyncIterator[EmptyAnswerPeer]:
    async with EmptyAnswerPeer("127.0.0.2") as second:
        yield second


async def no_wait(_: float) -> None:
    return None


async def enqueue_edit(db: Database, wiki: ActionApiPeer) -> tuple[int, int]:
    old = wiki.page(TITLE).latest.revid
    new = wiki.edit(TITLE, AFTER, user="Volunteer")
    async with db.transaction() as conn:
        await store_state.enqueue(conn, f"k{new}", "edit", TITLE, edit(TITLE, old, new, user="Volunteer"))
    return old, new


async def inbox(db: Database) -> dict[str, Any]:
    row = await db.fetchone("SELECT state, attempts, last_error FROM inbox")
    assert row is not None
    return dict(row)


async def queued(db: Database) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await db.fetchall("SELECT file, field, old, new, revision FROM changes")]


async def due_now(db: Database) -> None:
    """As if the retry delay had passed."""
    await db.write("UPDATE inbox SET next_attempt_at = NULL")


def misbehave(mode: str, wiki: ActionApiPeer, elsewhere: EmptyAnswerPeer) -> None:
    if mode == "empty":
        wiki.fail_empty(times=1000)
    elif mode == "bare":
        wiki.fail_bare(times=1000)
    elif mode == "redirect":
        wiki.fail_redirect(elsewhere.url, times=1000)
    else:
        wiki.fail_oversize(times=1000, size=80 * 1024 * 1024)


EXPECTED_ERROR = {
    "empty": "the API answer named neither r{new}, r{old} nor their removal",
    "bare": "the API answer named neither r{new}, r{old} nor their removal",
    "redirect": "redirected to {elsewhere}; not followed",
    "oversize": "-byte limit of an answer; stopped reading",
}


@pytest.mark.parametrize("mode", ["empty", "bare", "redirect", "oversize"])
async def test_an_answer_without_the_revisions_is_retried_and_nothing_is_lost(
    db: Database,
    wiki: ActionApiPeer,
    elsewhere: EmptyAnswerPeer,
    make_config: Callable[..., Config],
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    old, new = await enqueue_edit(db, wiki)
    misbehave(mode, wiki, elsewhere)
    async with ActionApi(wiki.url, USER_AGENT, sleep=no_wait) as api:
        worker = Worker(db, api, make_config())
        with caplog.at_level(logging.INFO, logger="watcher.worker"):
            assert await worker.process_due() == 0

        item = await inbox(db)
        assert item["state"] == "pending" and item["attempts"] == 1
        assert EXPECTED_ERROR[mode].format(new=new, old=old, elsewhere=elsewhere.url) in item["last_error"]
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and TITLE in r.getMessage()]
        assert warnings and "will retry" in warnings[0].getMessage()
        assert not any("is gone" in r.getMessage() for r in caplog.records)
        assert await queued(db) == []
        assert elsewhere.requests == []

        wiki.faults.clear()  # the API answers properly again
        await due_now(db)
        assert await worker.process_due() == 1

    assert await queued(db) == [(TITLE, "date", "1890", "circa 1890", new)]
    assert (await inbox(db))["state"] == "done"


async def test_a_page_list_short_of_the_parent_is_retried(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = await enqueue_edit(db, wiki)
    with monkeypatch.context() as patched:
        rewrite_answers(wiki, patched, drop_revision(old))
        async with ActionApi(wiki.url, USER_AGENT, sleep=no_wait) as api:
            assert await Worker(db, api, make_config()).process_due() == 0
    item = await inbox(db)
    assert item["state"] == "pending" and f"named neither r{old} nor its removal" in item["last_error"]

    await due_now(db)
    async with ActionApi(wiki.url, USER_AGENT, sleep=no_wait) as api:
        assert await Worker(db, api, make_config()).process_due() == 1
    assert [row[-1] for row in await queued(db)] == [new]


async def test_a_revision_named_in_badrevids_is_still_settled_as_gone(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config], caplog: pytest.LogCaptureFixture
) -> None:
    _, new = await enqueue_edit(db, wiki)
    wiki.delete(TITLE)  # both revisions come back under badrevids
    async with ActionApi(wiki.url, USER_AGENT, sleep=no_wait) as api:
        with caplog.at_level(logging.INFO, logger="watcher.worker"):
            assert await Worker(db, api, make_config()).process_due() == 1
    item = await inbox(db)
    assert item["state"] == "done" and item["attempts"] == 0
    assert await queued(db) == []
    assert any(f"revision {new}" in r.getMessage() and "is gone" in r.getMessage() for r in caplog.records)
