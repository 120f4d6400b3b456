"""The fetch worker keeps each file's thumbnail from the revision answer it already asks for (issue 15):
no request of its own, and a new file version's thumbnail with the upload's record."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.support.core import edit, upload
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi
from watcher.pipeline.worker import Worker
from watcher.store import Database
from watcher.store import state as store_state
from watcher.store.thumbnails import THUMB_WIDTH, thumbnails

UA = "WatcherTests/1.0 (tests@museum.example)"
A, B = "File:A - EXM 1.jpg", "File:B - EXM 2.jpg"
TEXT = "{{Information|description={{en|1=Thing}}|date=1890}}"


@pytest.fixture
async def wiki() -> AsyncIterator[ActionApiPeer]:
    async with ActionApiPeer() as peer:
        for title in (A, B):
            peer.add_page(title, TEXT)
        yield peer


async def test_an_edit_round_stores_the_thumbnails_of_its_files(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    async with db.transaction() as conn:
        for n, title in enumerate((A, B)):
            old = wiki.page(title).latest.revid
            new = wiki.edit(title, TEXT.replace("1890", f"189{n + 1}"), user="Volunteer")
            await store_state.enqueue(conn, f"k{new}", "edit", title, edit(title, old, new, user="Volunteer"))
    async with ActionApi(wiki.url, UA) as api:
        assert await Worker(db, api, make_config()).process_due() == 2
    (request,) = wiki.requests_with(action="query", iiprop="url")  # the revisions request itself
    assert "revisions" in request.params["prop"].split("|") and request.params["iiurlwidth"] == str(
        THUMB_WIDTH
    )
    stored = await thumbnails(db, [A, B])
    assert set(stored) == {A, B}
    assert all(url.startswith(f"{wiki.upload_origin}/wikipedia/commons/") for url in stored.values())
    assert await db.scalar("SELECT count(*) FROM changes") == 2


async def test_a_new_file_version_brings_its_thumbnail(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    wiki.upload(A, "0123456789abcdef0123456789abcdef01234567", user="Volunteer")
    async with db.transaction() as conn:
        await store_state.enqueue(conn, "up1", "file", A, upload(A, action="overwrite", user="Volunteer"))
    async with ActionApi(wiki.url, UA) as api:
        assert await Worker(db, api, make_config()).process_due() == 1
    assert set(await thumbnails(db, [A, B])) == {A}
    assert await db.scalar("SELECT count(*) FROM changes WHERE field = 'file'") == 1
