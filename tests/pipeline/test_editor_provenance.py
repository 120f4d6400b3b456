"""Who made each change: the worker stamps records with the revision's tags and the editor's account.

Against the loopback Action API, counting its requests: tags come in the request that fetches the
revisions (no request of their own), editor facts cost at most one ``list=users`` request per 50 new
editors (none per revision: an editor seen in the last day is in the database's cache), IP addresses
and temporary accounts cost nothing, and an ``OAuth CID`` tag reads the wiki's tag list once a day.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.support.core import edit
from tests.support.mediawiki import USER_AGENT
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi
from watcher.pipeline.worker import Worker
from watcher.store import Database
from watcher.store import state as store_state
from watcher.store.queue import ChangeFilter, list_changes

TEXT = "{{{{Information|description={{{{en|1={}}}}}|date=1890}}}}"


@pytest.fixture
async def wiki() -> AsyncIterator[ActionApiPeer]:
    async with ActionApiPeer() as peer:
        yield peer


async def no_wait(_: float) -> None:
    return None


async def enqueue(db: Database, wiki: ActionApiPeer, title: str, text: str, user: str, **kw: Any) -> int:
    """An edit on the wiki and its stream work in the inbox; returns the new revision."""
    old = wiki.page(title).latest.revid
    new = wiki.edit(title, text, user=user, **kw)
    async with db.transaction() as conn:
        await store_state.enqueue(conn, f"k{new}", "edit", title, edit(title, old, new, user=user))
    return new


async def drain(db: Database, worker: Worker) -> None:
    while await store_state.pending_count(db):
        assert await worker.process_due() > 0


async def records(db: Database) -> dict[int, dict[str, Any]]:
    found = await list_changes(db, ChangeFilter(status="all", kind="all"))
    return {r.revision: r.as_contract() for r in found}


async def test_records_carry_tags_and_the_editors_account(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    for n in range(4):
        wiki.add_page(f"File:Object {n}.jpg", TEXT.format("Thing"))
    wiki.set_account("Newbie", registered="2026-01-01T08:00:00Z", edits=12)
    wiki.set_account("Veteran", registered="2011-05-04T12:00:00Z", edits=45_000, groups=("autopatrolled",))
    wiki.set_account("Vandal", edits=3, blocked_since="2026-01-01T09:00:00Z")
    r_new = await enqueue(db, wiki, "File:Object 0.jpg", TEXT.format("Ting"), "Newbie",
                          tags=("mobile edit", "mobile web edit"), timestamp="2026-01-04T08:00:00Z")  # fmt: skip
    r_old = await enqueue(db, wiki, "File:Object 1.jpg", TEXT.format("Sak"), "Veteran", tags=("mw-undo",))
    r_ip = await enqueue(db, wiki, "File:Object 2.jpg", TEXT.format("Objekt"), "192.0.2.7")
    r_bad = await enqueue(db, wiki, "File:Object 3.jpg", TEXT.format("Spam"), "Vandal")
    async with ActionApi(wiki.url, USER_AGENT, sleep=no_wait) as api:
        before = len(wiki.requests)
        await drain(db, Worker(db, api, make_config()))
        made = wiki.requests[before:]
    # One request for the revisions (tags included), one for the three accounts; the IP costs nothing.
    # The edits' revisions (with the files' thumbnails, in the same request), then their editors.
    assert [r.params.get("prop") or r.params.get("list") for r in made] == ["revisions|imageinfo", "users"]
    assert "tags" in made[0].params["rvprop"].split("|")
    assert sorted(made[1].params["ususers"].split("|")) == ["Newbie", "Vandal", "Veteran"]

    found = await records(db)
    newbie, veteran, ip, vandal = found[r_new], found[r_old], found[r_ip], found[r_bad]
    assert newbie["tags"] == ["mobile edit", "mobile web edit"] and newbie["tools"] == ["mobile edit"]
    assert newbie["editor"] == {
        "registered": "2026-01-01T08:00:00Z", "edits": 12, "groups": ["user"], "blocked": False,
        "blocked_since": None, "block_expiry": None, "block_partial": False,
    }  # fmt: skip
    assert (newbie["editor_edits"], newbie["editor_registered"]) == (12, "2026-01-01T08:00:00Z")
    assert veteran["tags"] == ["mw-undo"] and veteran["editor"]["edits"] == 45_000
    assert "autopatrolled" in veteran["editor"]["groups"]
    assert ip["editor"] is None and ip["tags"] == [] and ip["tools"] == []  # contract: null for IPs
    assert vandal["editor"]["blocked"] and vandal["editor"]["blocked_since"] == "2026-01-01T09:00:00Z"
    # The JSON line of `watcher changes --format jsonl` holds them as the contract says.
    line = json.loads(json.dumps(newbie))
    assert isinstance(line["tags"], list) and isinstance(line["editor"], dict)


async def test_editor_look_ups_cost_one_request_per_fifty_new_editors_and_none_per_revision(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    editors = [f"Volunteer {n}" for n in range(60)]
    for name in editors:
        wiki.set_account(name, edits=200)
    wiki.add_page("File:Busy.jpg", TEXT.format("v0"))
    # 300 edits by 60 editors, each editor five times, in an order that mixes them.
    for n in range(300):
        await enqueue(db, wiki, "File:Busy.jpg", TEXT.format(f"v{n + 1}"), editors[n % 60])
    async with ActionApi(wiki.url, USER_AGENT, sleep=no_wait) as api:
        before = len(wiki.requests)
        worker = Worker(db, api, make_config())
        await drain(db, worker)
        made = wiki.requests[before:]
    users = [r for r in made if r.params.get("list") == "users"]
    revisions = [r for r in made if "revisions" in r.params.get("prop", "").split("|")]
    asked = [name for r in users for name in r.params["ususers"].split("|")]
    assert sorted(asked) == sorted(editors)  # each editor once: later edits read the cache
    assert all(len(r.params["ususers"].split("|")) <= 50 for r in users)
    # 25 edits a round, but the first look-up is filled to 50 names with the editors waiting in the
    # inbox: one request per 50 new editors, however the rounds cut the backlog.
    assert len(users) == math.ceil(60 / 50) and [len(r.params["ususers"].split("|")) for r in users] == [
        50,
        10,
    ]
    assert len(revisions) == math.ceil(300 / 25)
    assert len(made) == len(users) + len(revisions)  # tags asked for nothing more
    assert all(r["editor"] is not None for r in (await records(db)).values())

    # A day later the cache is stale: the same editors are asked about once more, no more.
    await db.write("UPDATE editors SET fetched_at = '2000-01-01T00:00:00Z'")
    await enqueue(db, wiki, "File:Busy.jpg", TEXT.format("again"), editors[0])
    async with ActionApi(wiki.url, USER_AGENT, sleep=no_wait) as api:
        before = len(wiki.requests)
        await drain(db, Worker(db, api, make_config()))
        again = [r for r in wiki.requests[before:] if r.params.get("list") == "users"]
    assert [r.params["ususers"] for r in again] == [editors[0]]


async def test_unregistered_editors_cost_no_request(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    wiki.add_page("File:Open.jpg", TEXT.format("v0"))
    for n, user in enumerate(["192.0.2.7", "2001:db8::7", "~2026-12345", "192.0.2.8"]):
        await enqueue(db, wiki, "File:Open.jpg", TEXT.format(f"v{n + 1}"), user)
    async with ActionApi(wiki.url, USER_AGENT, sleep=no_wait) as api:
        before = len(wiki.requests)
        await drain(db, Worker(db, api, make_config()))
        made = wiki.requests[before:]
    assert [r.params.get("list") for r in made if r.params.get("list")] == []
    assert [r["editor"] for r in (await records(db)).values()] == [None] * 4


async def test_oauth_tags_are_named_from_the_wikis_tag_list_read_once_a_day(
    db: Database, wiki: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    wiki.set_tag("OAuth CID: 1352", '<a href="/wiki/Special:OAuthListConsumers/view/x">CropTool</a>', "")
    wiki.set_account("Cropper", edits=5_000, registered="2015-01-01T00:00:00Z")
    wiki.add_page("File:Crop.jpg", TEXT.format("v0"))
    first = await enqueue(db, wiki, "File:Crop.jpg", TEXT.format("v1"), "Cropper", tags=("OAuth CID: 1352",))
    async with ActionApi(wiki.url, USER_AGENT, sleep=no_wait) as api:
        worker = Worker(db, api, make_config())
        await drain(db, worker)
        second = await enqueue(db, wiki, "File:Crop.jpg", TEXT.format("v2"), "Cropper",
                               tags=("OAuth CID: 1352", "OAuth CID: 4242"))  # fmt: skip
        await drain(db, Worker(db, api, make_config()))  # a new worker: the kept list is read back
    assert len(wiki.requests_with(list="tags")) == 1  # the unknown CID 4242 waits for tomorrow's list
    found = await records(db)
    assert found[first]["tools"] == ["CropTool"] and found[second]["tools"] == ["CropTool"]
    assert found[second]["tags"] == ["OAuth CID: 1352", "OAuth CID: 4242"]
