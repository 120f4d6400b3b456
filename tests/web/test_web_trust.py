"""The review page says who made each change and how far to trust them, and filters on it."""

from __future__ import annotations

import html
import re
from typing import Any

from aiohttp.test_utils import TestClient

from tests.support.trust import NEWBIE, VETERAN, add_trusted_change, facts
from tests.support.web import sign_in
from watcher.store.db import Database

Client = TestClient[Any, Any]


def _card(page: str, change_id: int) -> str:
    match = re.search(rf'<article class="change[^"]*" id="change-{change_id}">(.*?)</article>', page, re.S)
    assert match is not None, f"no card of change {change_id}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).split())  # the text a reader sees


def _shown(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'id="change-(\d+)"', page)}


async def _queue(db: Database) -> dict[str, int]:
    return {
        "newbie": await add_trusted_change(db, user="Newbie", editor=NEWBIE, tags=("mobile edit",)),
        "veteran": await add_trusted_change(db, user="Veteran", editor=VETERAN, tags=("contenttranslation",)),
        "ip": await add_trusted_change(db, user="192.0.2.7", editor=None, file="File:Other.jpg"),
        "blocked": await add_trusted_change(
            db,
            user="Vandal",
            editor=facts("2026-03-01T00:00:00Z", 4, blocked_since="2026-03-02T12:00:00Z"),
            file="File:Third.jpg",
        ),
        "bot": await add_trusted_change(
            db,
            user="Tidy Bot",
            editor=facts("2014-01-01T00:00:00Z", 2_000_000, ("bot", "user")),
            file="File:Fourth.jpg",
        ),
    }


async def test_each_card_says_how_far_the_editor_can_be_trusted(client: Client, db: Database) -> None:
    ids = await _queue(db)
    await db.write("UPDATE changes SET reverted_by = 4242 WHERE id = ?", (ids["bot"],))
    await sign_in(client, "anna")
    page = await (await client.get("/")).text()
    assert "new account (3 days, 12 edits) · mobile edit" in _card(page, ids["newbie"])
    veteran = _card(page, ids["veteran"])
    assert "long-standing editor (since 2011, 45,000 edits) · made with Content Translation" in veteran
    assert "IP address (no account)" in _card(page, ids["ip"])
    assert "blocked since 2026-03-02 · new account (1 day, 4 edits)" in _card(page, ids["blocked"])
    bot = _card(page, ids["bot"])
    assert "bot · long-standing editor (since 2014, 2,000,000 edits) · reverted on Commons by r4242" in bot
    # And on the change's own page, under the user name.
    detail = await (await client.get(f"/changes/{ids['newbie']}")).text()
    assert re.search(
        r'class="user"[^<]*>Newbie</a>.*?class="trust".*?new account \(3 days, 12 edits\)', detail, re.S
    )


async def test_the_editor_filter_shows_new_accounts_only_or_none_of_them(
    client: Client, db: Database
) -> None:
    ids = await _queue(db)
    await sign_in(client, "anna")
    new_only = await (await client.get("/?editor=new")).text()
    assert _shown(new_only) == {ids["newbie"], ids["ip"], ids["blocked"]}
    established = await (await client.get("/?editor=established")).text()
    assert _shown(established) == {ids["veteran"], ids["bot"]}
    assert _shown(await (await client.get("/")).text()) == set(ids.values())
    assert '<option value="new" selected>' in new_only  # the form shows the choice
    unknown = await (await client.get("/?editor=trusted")).text()
    assert "editor: unknown value 'trusted'" in html.unescape(unknown) and _shown(unknown) == set(
        ids.values()
    )
