"""What the review page says of changes Commons undid, hid or changed again (issue 14).

The records are queued the way the pipeline queues them (watcher.pipeline.queueing), so the page shows
what the matching decided, not hand-set columns.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support.web import sign_in
from watcher.diff.model import FieldChange
from watcher.pipeline.queueing import queue_changes, withdraw_hidden
from watcher.store import reviews
from watcher.store.db import Database
from watcher.store.queue import Provenance

FILE = "File:Chair - EXM 7.jpg"


@pytest.fixture
async def anna(client: TestClient[Any, Any]) -> TestClient[Any, Any]:
    assert (await sign_in(client, "anna")).status == 303
    return client


async def edit(db: Database, revision: int, user: str, *changes: FieldChange) -> list[int]:
    provenance = Provenance(
        wiki="commonswiki", file=FILE, revision=revision, old_revision=revision - 1,
        timestamp=f"2026-03-01T10:{revision % 60:02d}:00Z", user=user, comment="", object_id="EXM 7",
    )  # fmt: skip
    async with db.transaction() as conn:
        await queue_changes(conn, provenance, changes)
    rows = await db.fetchall("SELECT id FROM changes WHERE revision = ? ORDER BY id", (revision,))
    return [int(r[0]) for r in rows]


def date(old: str | None, new: str | None) -> FieldChange:
    return FieldChange("date", "changed", old, new, "Information")


def text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", page).split())


def card(page: str, change: int) -> str:
    """The text of one change's card (the page also shows the file's other changes)."""
    return text(page.split(f'id="change-{change}">', 1)[1].split("</article>", 1)[0])


async def test_a_withdrawn_change_says_which_revision_undid_it(
    anna: TestClient[Any, Any], db: Database
) -> None:
    (vandal,) = await edit(db, 11, "Vandal", date("1900", "1999"))
    assert await edit(db, 12, "Patroller", date("1999", "1900")) == []  # the revert queues nothing
    page = await (await anna.get(f"/changes/{vandal}")).text()
    assert "Withdrawn: undone on Commons by Patroller · " in text(page)
    assert "?diff=12" in page
    queue = text(await (await anna.get("/")).text())
    assert "1999" not in queue  # the pending tab does not show it
    withdrawn_tab = await (await anna.get("/?status=withdrawn")).text()
    assert (
        f'href="/changes/{vandal}"' in withdrawn_tab
        and "Withdrawn: undone on Commons by Patroller · " in text(withdrawn_tab)
    )
    assert re.search(r"Withdrawn\s*<span class=\"count\"[^>]*>1</span>", withdrawn_tab)


async def test_a_change_undone_after_the_curator_decided_keeps_the_decision_and_says_so(
    anna: TestClient[Any, Any], db: Database
) -> None:
    (change,) = await edit(db, 21, "Alice", date("1900", "1901"))
    await reviews.review(db, [change], "accept", actor="anna")
    await edit(db, 22, "Bob", date("1901", "1900"))
    page = text(await (await anna.get(f"/changes/{change}")).text())
    assert "Reverted on Commons by Bob · " in page and "in revision 22 (after you decided)" in page
    assert "Accepted by anna" in page


async def test_a_change_accepted_after_it_was_withdrawn_says_it_was_undone_before(
    anna: TestClient[Any, Any], db: Database
) -> None:
    (change,) = await edit(db, 31, "Alice", date("1900", "1901"))
    await edit(db, 32, "Bob", date("1901", "1900"))
    await reviews.review(db, [change], "accept", actor="anna")
    page = text(await (await anna.get(f"/changes/{change}")).text())
    assert "Reverted on Commons by Bob · " in page


async def test_a_superseded_change_shows_the_value_now_first_and_both_to_decide(
    anna: TestClient[Any, Any], db: Database
) -> None:
    (first,) = await edit(db, 41, "Alice", date("1900", "1901"))
    (second,) = await edit(db, 42, "Bob", date("1901", "c. 1901"))
    (third,) = await edit(db, 43, "Carol", date("c. 1901", "circa 1901"))
    html = await (await anna.get(f"/changes/{first}")).text()
    page = text(html)
    now = page.index("Changed again later to circa 1901 by revision 43 (Carol)")
    assert now < page.index("Before")  # the value now, before this change's own values
    later = html.split('<section class="related later-changes">', 1)[1].split("</section>", 1)[0]
    for change in (second, third):
        assert f'action="/changes/{change}/review"' in later  # decide on the later ones right here
    assert "Changed again later (revision 42)" in card(html, first)
    middle = await (await anna.get(f"/changes/{second}")).text()
    assert "Changed again later (revision 43)" in card(middle, second)
    assert "Changed again later to circa 1901 by revision 43" in text(middle)
    latest = await (await anna.get(f"/changes/{third}")).text()
    assert "Changed again later" not in card(latest, third) and "value on Commons now" not in latest


async def test_a_hidden_revision_says_so(anna: TestClient[Any, Any], db: Database) -> None:
    (change,) = await edit(db, 51, "Vandal", date("1900", "offensive"))
    async with db.transaction() as conn:
        await withdraw_hidden(conn, "commonswiki", [51])
    page = text(await (await anna.get(f"/changes/{change}")).text())
    assert "Withdrawn: its revision was hidden on Commons (revision deletion)" in page
