"""The wiki's own template redirects (issue 16): fetched once a day by the daemon's task (prop=redirects,
50 titles a request), stored, and used by the worker so that a local or old template name diffs field
by field; a failed look-up keeps the last list."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.pipeline.test_worker import UA, enqueue_edit, no_wait, rows
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi
from watcher.pipeline.redirects import (
    MAX_AGE,
    redirect_targets,
    refresh_redirects,
    stored_redirects,
)
from watcher.pipeline.worker import Worker
from watcher.store import Database

FILE = "File:Tavla - EXM 7.jpg"


@pytest.fixture
async def wiki() -> AsyncIterator[ActionApiPeer]:
    peer = ActionApiPeer()
    await peer.start()
    peer.add_page("Template:Artwork", "<includeonly>…</includeonly>")
    peer.add_page("Template:Konstverk", "#REDIRECT [[Template:Artwork]]")  # a local name
    peer.add_page("Template:Something else", "#REDIRECT [[Template:Nothing we read]]")
    peer.add_page(FILE, "{{Konstverk|title={{sv|1=Tavla}}|date=1890}}")
    try:
        yield peer
    finally:
        await peer.close()


def asked(wiki: ActionApiPeer) -> list[Any]:
    return [r for r in wiki.requests if r.params.get("prop") == "redirects"]


async def test_the_wikis_redirects_are_fetched_stored_and_used(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    config = make_config()
    targets = redirect_targets(config.diff.info_templates)
    now = datetime.now(UTC)
    async with ActionApi(wiki.url, UA, sleep=no_wait) as api:
        assert await refresh_redirects(db, api, targets, now) == now + MAX_AGE
        assert len(asked(wiki)) == -(-len(targets) // 50)  # 50 titles a request
        mapping, fetched_at = await stored_redirects(db)
        assert mapping == {"Konstverk": "Artwork"} and fetched_at is not None
        # Fresh: no request until a day has passed.
        await refresh_redirects(db, api, targets, now + timedelta(hours=23))
        assert len(asked(wiki)) == -(-len(targets) // 50)

        revision = await enqueue_edit(db, wiki, FILE, "{{Konstverk|title={{sv|1=Tavla}}|date=1891}}")
        assert await Worker(db, api, config).process_due() == 1
    # Field by field under the template's own name, not one whole-template record.
    assert [r[:5] for r in await rows(db)] == [(FILE, "date", None, "changed", "1890")]
    template = await db.scalar("SELECT template FROM changes WHERE revision = ?", (revision,))
    assert template == "Artwork"


async def test_a_failed_look_up_keeps_the_last_list(db: Database, wiki: ActionApiPeer) -> None:
    targets = redirect_targets(())
    now = datetime.now(UTC)
    async with ActionApi(wiki.url, UA, sleep=no_wait, max_retries=0) as api:
        await refresh_redirects(db, api, targets, now)
        wiki.fail_empty(times=10)
        later = now + MAX_AGE + timedelta(minutes=1)
        retry_at = await refresh_redirects(db, api, targets, later)
    assert retry_at == later + timedelta(hours=1)
    assert (await stored_redirects(db))[0] == {"Konstverk": "Artwork"}
