"""Review-page accounts limited to collections (issue 19): a curator of one collection sees, decides
and downloads only its changes, whatever the URL, form or filter asks; an account without a limit
sees every collection, each card saying whose it is."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import expect

from tests.support.web import COLLECTIONS_CONFIG_TEXT, PASSWORD, csrf_of, queue, sign_in
from tests.web.browser import BrowserOpener, needs_chromium
from tests.web.conftest import ClientFactory
from watcher.config import Config, parse_config
from watcher.diff.model import FieldChange
from watcher.store.db import Database
from watcher.web import auth
from watcher.web.app import create_app

HALLWYL, SKOKLOSTER = "The Hallwyl Museum", "Skokloster Castle"
NOT_FOUND = "No such change in the queue."


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config(COLLECTIONS_CONFIG_TEXT, tmp_path / "config.toml")


@pytest.fixture
async def users(db: Database) -> None:
    """anna sees every collection; hanna only Hallwyl's; otto reads every collection."""
    await auth.add_user(db, "anna", PASSWORD, "reviewer")
    await auth.add_user(db, "hanna", PASSWORD, "reviewer", collections=["hallwyl"])
    await auth.add_user(db, "otto", PASSWORD, "readonly")


@pytest.fixture
async def records(db: Database) -> dict[str, list[int]]:
    """One edit in each collection (Skokloster's in German, a language Hallwyl's queue lacks), and
    one file in both: the same edit queued once per collection, each with its own object id."""
    return {
        "hallwyl": await queue(
            db, file="File:Hallwyl room.jpg", revision=10, object_id="HWY-1", collection="hallwyl",
            changes=[
                FieldChange("description", "changed", "a", "b", "Information", None, "sv"),
                FieldChange("title", "changed", "c", "d", "Artwork"),
            ],
        ),
        "skokloster": await queue(
            db, file="File:Skokloster castle.jpg", revision=20, object_id="SKO-9", collection="skokloster",
            changes=[FieldChange("description", "changed", "e", "f", "Information", None, "de")],
        ),
        "shared_h": await queue(db, file="File:Loan.jpg", revision=30, object_id="HWY-7", collection="hallwyl"),
        "shared_s": await queue(
            db, file="File:Loan.jpg", revision=30, object_id="SKO-3", collection="skokloster"
        ),
    }  # fmt: skip


async def signed_in(
    aiohttp_client: ClientFactory, db: Database, config: Config, name: str
) -> TestClient[Any, Any]:
    client = await aiohttp_client(create_app(db, config))
    assert (await sign_in(client, name)).status == 303
    return client


@pytest.fixture
async def hanna(
    aiohttp_client: ClientFactory, db: Database, config: Config, users: None
) -> TestClient[Any, Any]:
    return await signed_in(aiohttp_client, db, config, "hanna")


@pytest.fixture
async def anna(
    aiohttp_client: ClientFactory, db: Database, config: Config, users: None
) -> TestClient[Any, Any]:
    return await signed_in(aiohttp_client, db, config, "anna")


def ids_on(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="change[^"]*" id="change-(\d+)"', page)]


def problems(page: str) -> list[str]:
    return re.findall(r'<p class="error">(.*?)</p>', page)


def tab_counts(page: str) -> dict[str, int]:
    return {s: int(n) for s, n in re.findall(r'data-status="(\w+)">([\d,]+)</span>', page)}


async def statuses(db: Database) -> dict[int, str]:
    return {int(r[0]): str(r[1]) for r in await db.fetchall("SELECT id, status FROM changes")}


async def events_by(db: Database, actor: str) -> int:
    return int(await db.scalar("SELECT count(*) FROM review_events WHERE actor = ?", (actor,)))


# -- what a limited account sees ------------------------------------------------------------------------


async def test_a_limited_account_sees_only_its_collections_changes(
    hanna: TestClient[Any, Any], records: dict[str, list[int]]
) -> None:
    page = await (await hanna.get("/?kind=all")).text()
    assert sorted(ids_on(page)) == sorted(records["hallwyl"] + records["shared_h"])
    assert "Skokloster castle.jpg" not in page and "SKO-" not in page
    assert tab_counts(page) == {"pending": 3, "accepted": 0, "rejected": 0, "withdrawn": 0}
    # The filter form offers only the values of its own collection (no German), and no collection
    # filter: it sees one collection.
    assert '<option value="sv">' in page and '<option value="de">' not in page
    assert 'name="collection"' not in page
    # The deployment has two collections, so each card says whose change it is.
    assert page.count(f'<span class="tag collection" title="collection">{HALLWYL}</span>') == 3
    assert SKOKLOSTER not in page


async def test_a_collection_filter_naming_another_collection_shows_nothing(
    hanna: TestClient[Any, Any], anna: TestClient[Any, Any], records: dict[str, list[int]]
) -> None:
    foreign = await (await hanna.get("/?collection=skokloster")).text()
    unknown = await (await hanna.get("/?collection=nowhere")).text()
    assert ids_on(foreign) == [] and ids_on(unknown) == []
    assert tab_counts(foreign) == {"pending": 0, "accepted": 0, "rejected": 0, "withdrawn": 0}
    # The same words for a collection that exists and one that does not: nothing says which is which.
    assert problems(foreign) == ["collection: no collection &#39;skokloster&#39; here; showing none"]
    assert problems(unknown) == ["collection: no collection &#39;nowhere&#39; here; showing none"]
    assert "Skokloster castle.jpg" not in foreign
    # Its own collection by name works as a filter; anna may pick either.
    own = await (await hanna.get("/?collection=hallwyl")).text()
    assert sorted(ids_on(own)) == sorted(records["hallwyl"] + records["shared_h"])
    theirs = await (await anna.get("/?collection=skokloster")).text()
    assert sorted(ids_on(theirs)) == sorted(records["skokloster"] + records["shared_s"])


async def test_another_collections_change_page_is_the_unknown_id_page(
    hanna: TestClient[Any, Any], records: dict[str, list[int]]
) -> None:
    foreign = await hanna.get(f"/changes/{records['skokloster'][0]}")
    unknown = await hanna.get("/changes/999999")
    assert foreign.status == unknown.status == 404
    assert await foreign.text() == await unknown.text() == NOT_FOUND
    # Its own change shows, without the other collection's copy of the same edit of a shared file.
    own = await hanna.get(f"/changes/{records['shared_h'][0]}")
    assert own.status == 200
    page = await own.text()
    assert "HWY-7" in page and "SKO-3" not in page
    assert f"/changes/{records['shared_s'][0]}" not in page


async def test_decisions_on_another_collections_change_are_refused_as_unknown_ids(
    hanna: TestClient[Any, Any], anna: TestClient[Any, Any], db: Database, records: dict[str, list[int]]
) -> None:
    foreign = records["skokloster"][0]
    csrf = await csrf_of(hanna)
    before = await statuses(db)
    for action in ("accept", "reject", "note", "pending", "undo"):
        answer = await hanna.post(
            f"/changes/{foreign}/review",
            data={"csrf": csrf, "action": action, "note": "mine now", "next": "/"},
            allow_redirects=False,
        )
        assert answer.status == 303
        unknown = await hanna.post(
            "/changes/999999/review",
            data={"csrf": csrf, "action": action, "next": "/"},
            allow_redirects=False,
        )
        assert (answer.status, await answer.text()) == (unknown.status, await unknown.text())
    said = await (await hanna.get("/")).text()  # the message of the last refusal: an unknown id's
    assert "1 change not found in the queue." in said and "mine now" not in said
    # Bulk, accept-shown and a script's JSON answer: only its own change is decided.
    own = records["hallwyl"][0]
    bulk = await hanna.post(
        "/changes/bulk",
        data={"csrf": csrf, "action": "accept", "id": [str(own), str(foreign)], "next": "/"},
        headers={"Accept": "application/json"},
    )
    answer = await bulk.json()
    assert answer["decided"] == [own]
    assert "1 change not found in the queue." in answer["message"]
    assert str(foreign) not in answer["cards"]
    assert answer["counts"] == {"pending": 2, "accepted": 1, "rejected": 0, "withdrawn": 0}
    shown = await hanna.post(
        "/changes/bulk",
        data={"csrf": csrf, "action": "accept-shown", "shown": f"{foreign},{records['shared_s'][0]}"},
        allow_redirects=False,
    )
    assert shown.status == 303
    after = await statuses(db)
    assert after == {**before, own: "accepted"}
    # A decision anna made on Skokloster's change cannot be undone by hanna either.
    anna_csrf = await csrf_of(anna)
    await anna.post(f"/changes/{foreign}/review", data={"csrf": anna_csrf, "action": "accept"})
    await hanna.post("/changes/bulk", data={"csrf": csrf, "action": "undo", "id": str(foreign)})
    assert (await statuses(db))[foreign] == "accepted"
    assert await events_by(db, "hanna") == 1  # the accept of its own change, nothing else


async def test_a_limited_account_downloads_only_its_collection_and_marks_nothing(
    hanna: TestClient[Any, Any], anna: TestClient[Any, Any], db: Database, records: dict[str, list[int]]
) -> None:
    await db.write("UPDATE changes SET status = 'accepted'")

    async def download(client: TestClient[Any, Any], **form: str) -> tuple[int, list[int], str]:
        response = await client.post(
            "/export", data={"csrf": await csrf_of(client), "format": "jsonl", **form}, allow_redirects=False
        )
        body = await response.text()
        ids = [json.loads(line)["id"] for line in body.splitlines()] if response.status == 200 else []
        return response.status, sorted(ids), response.headers.get("X-Export-Marked", "")

    hallwyl = sorted(records["hallwyl"] + records["shared_h"])
    skokloster = sorted(records["skokloster"] + records["shared_s"])
    assert await download(hanna) == (200, hallwyl, "no")  # the routine form, yet only Hallwyl's, unmarked
    assert await download(hanna, status="all", all="1") == (200, hallwyl, "no")
    assert await download(hanna, collection="hallwyl") == (200, hallwyl, "no")
    for name in ("skokloster", "nowhere"):
        status, ids, _ = await download(hanna, collection=name)
        assert (status, ids) == (400, [])
    assert await db.scalar("SELECT count(*) FROM changes WHERE exported_at IS NOT NULL") == 0
    # anna may pick a collection (unmarked: not the routine selection), and her routine export
    # holds and marks every collection's.
    assert await download(anna, collection="skokloster") == (200, skokloster, "no")
    assert await download(anna) == (200, sorted(hallwyl + skokloster), "yes")
    export_page = await (await hanna.get("/export")).text()
    assert "This account sees only some collections: its downloads mark nothing" in export_page


async def test_an_unlimited_account_sees_both_with_titles_and_a_collection_filter(
    anna: TestClient[Any, Any], records: dict[str, list[int]]
) -> None:
    page = await (await anna.get("/")).text()
    assert sorted(ids_on(page)) == sorted(i for ids in records.values() for i in ids)
    assert tab_counts(page)["pending"] == 5
    assert '<option value="hallwyl">The Hallwyl Museum</option>' in page
    assert '<option value="skokloster">Skokloster Castle</option>' in page
    # The file in both collections is two groups, each with its collection's object id.
    assert f"Object id in {HALLWYL}: " in page and f"Object id in {SKOKLOSTER}: " in page
    assert page.count('<h2 class="file-title" id="group-') == 4
    loan = re.findall(r"File:Loan\.jpg</a></h2>.*?(\d+) changes? in this selection", page, re.S)
    assert loan == ["1", "1"]
    assert f'<span class="tag collection" title="collection">{SKOKLOSTER}</span>' in page
    chosen = await (await anna.get("/?collection=hallwyl")).text()
    assert '<option value="hallwyl" selected>' in chosen
    # A change page of either collection opens.
    for key in ("hallwyl", "skokloster"):
        assert (await anna.get(f"/changes/{records[key][0]}")).status == 200


async def test_an_edits_accept_all_button_decides_one_collections_copies(
    anna: TestClient[Any, Any], db: Database
) -> None:
    """A file in both collections: the same edit's records in each are each collection's own."""
    two = [
        FieldChange("title", "changed", "a", "b", "Artwork"),
        FieldChange("date", "changed", "1", "2", "Artwork"),
    ]
    mine = await queue(db, file="File:Both.jpg", revision=40, collection="hallwyl", changes=two)
    theirs = await queue(db, file="File:Both.jpg", revision=40, collection="skokloster", changes=two)
    page = await (await anna.get(f"/changes/{mine[0]}")).text()
    assert "Accept all 2 by Editor in this edit" in page
    button = re.search(
        r'<form method="post" action="/changes/bulk" class="edit-form">(.*?)</form>', page, re.S
    )
    assert button is not None
    assert sorted(int(i) for i in re.findall(r'name="id" value="(\d+)"', button.group(1))) == mine
    assert not set(theirs) & set(ids_on(page))


@pytest.mark.playwright
@needs_chromium
async def test_the_collection_filter_in_a_browser(
    open_browser: BrowserOpener, records: dict[str, list[int]]
) -> None:
    async with open_browser() as (page, watch):
        assert await page.locator("article.change").count() == 5
        await page.click("details.filters summary")
        await page.select_option("select[name=collection]", label=SKOKLOSTER)
        await page.click("button:has-text('Filter')")
        await page.wait_for_url(lambda url: "collection=skokloster" in url)
        cards = page.locator("article.change")
        shown = [await c.get_attribute("id") for c in await cards.all()]
        assert sorted(int((i or "").removeprefix("change-")) for i in shown) == sorted(
            records["skokloster"] + records["shared_s"]
        )
        assert await page.locator("article.change .tag.collection").all_inner_texts() == [SKOKLOSTER] * 2
        # A decision in place: the tabs count the filtered collection's changes only.
        await cards.first.locator("button.accept").click()
        await expect(page.locator('.tabs .count[data-status="accepted"]')).to_have_text("1")
        await expect(page.locator('.tabs .count[data-status="pending"]')).to_have_text("1")
        assert watch.errors == [] and watch.csp == []
