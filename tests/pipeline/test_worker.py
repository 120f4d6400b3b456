"""The fetch worker against the loopback Action API: inbox rows → both revisions → diff → queued records."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.support.core import edit
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.diff import diff_revisions
from watcher.mediawiki.client import ActionApi
from watcher.pipeline import records as records_module
from watcher.pipeline.worker import Worker
from watcher.store import Database
from watcher.store import state as store_state

UA = "WatcherTests/1.0 (tests@museum.example)"
A, B = "File:A - EXM 1.jpg", "File:B - EXM 2.jpg"


@pytest.fixture
async def wiki() -> AsyncIterator[ActionApiPeer]:
    peer = ActionApiPeer()
    await peer.start()
    for title in (A, B):
        peer.add_page(title, "{{Information|description={{en|1=Thing}}|date=1890}}")
    try:
        yield peer
    finally:
        await peer.close()


async def no_wait(_: float) -> None:
    return None


async def enqueue_edit(db: Database, wiki: ActionApiPeer, title: str, text: str, **kw: Any) -> int:
    old = wiki.page(title).latest.revid
    new = wiki.edit(title, text, user="Volunteer", **kw)
    async with db.transaction() as conn:
        await store_state.enqueue(conn, f"k{new}", "edit", title, edit(title, old, new, user="Volunteer"))
    return new


async def rows(db: Database) -> list[tuple[Any, ...]]:
    found = await db.fetchall(
        "SELECT file, field, language, action, old, new, revision, object_id FROM changes"
    )
    return [tuple(r) for r in found]


async def test_edits_are_fetched_together_and_queued_with_provenance(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    config = make_config("\n[[tracking.object_id]]\n" r"pattern = ' - EXM (\d+)\.\w+$'" "\n")
    r1 = await enqueue_edit(
        db, wiki, A, "{{Information|description={{en|1=Thing}}\n{{fr|1=Chose}}|date=1890}}"
    )
    r2 = await enqueue_edit(db, wiki, B, "{{Information|description={{en|1=Thing}}|date=circa 1890}}")
    async with ActionApi(wiki.url, UA, sleep=no_wait) as api:
        before = len(wiki.requests)
        assert await Worker(db, api, config).process_due() == 2
        # Four revisions in one request, and the editor's account (list=users) in one more.
        assert len(wiki.requests) - before == 2
    assert sorted(await rows(db)) == [
        (A, "description", "fr", "added", None, "Chose", r1, "1"),
        (B, "date", None, "changed", "1890", "circa 1890", r2, "2"),
    ]
    assert await store_state.pending_count(db) == 0


async def test_an_api_outage_leaves_the_work_pending_for_later(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    await enqueue_edit(db, wiki, A, "{{Information|description={{en|1=Thing!}}|date=1890}}")
    wiki.fail_http(503, times=100)
    async with ActionApi(wiki.url, UA, sleep=no_wait, max_retries=1) as api:
        assert await Worker(db, api, make_config()).process_due() == 0
    row = await db.fetchone("SELECT state, attempts, next_attempt_at, last_error FROM inbox")
    assert row is not None and row["state"] == "pending" and row["attempts"] == 1 and row["next_attempt_at"]
    assert await rows(db) == []


async def test_an_edit_that_cannot_be_diffed_is_set_aside_and_the_others_go_on(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = await enqueue_edit(db, wiki, A, "{{Information|description={{en|1=Boom}}|date=1890}}")
    await enqueue_edit(db, wiki, B, "{{Information|description={{en|1=Thing}}|date=1891}}")
    real = diff_revisions

    def exploding(old: Any, new: Any, settings: Any) -> Any:
        if new.wikitext and "Boom" in new.wikitext:
            raise RuntimeError("an input nobody foresaw")
        return real(old, new, settings)

    monkeypatch.setattr(records_module, "diff_revisions", exploding)
    async with ActionApi(wiki.url, UA, sleep=no_wait) as api:
        assert await Worker(db, api, make_config()).process_due() == 1
    assert [r[:2] for r in await rows(db)] == [(B, "date")]
    failed = await db.fetchone("SELECT title, last_error FROM inbox WHERE state = 'failed'")
    assert failed is not None and failed["title"] == A and "nobody foresaw" in failed["last_error"]
    assert bad > 0
