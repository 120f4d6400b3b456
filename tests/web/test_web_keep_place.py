"""The review page keeps its place without script (issue 15): a decision posts, the answer is a 303 back
to the same view at the next card, and the message names the change with an Undo that takes it back.
Also the script's JSON answer, the bulk actions each tab offers, "accept all in this edit" and
grouping by edit."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support.web import csrf_of, queue, sign_in
from watcher.diff.model import FieldChange
from watcher.store.db import Database


@pytest.fixture
async def anna(client: TestClient[Any, Any]) -> TestClient[Any, Any]:
    assert (await sign_in(client, "anna")).status == 303
    return client


def caption(text: str) -> FieldChange:
    return FieldChange("caption", "added", None, text, language="sv")


def ids_on(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="change[^"]*" id="change-(\d+)"', page)]


def card_html(page: str, change: int) -> str:
    return page.split(f'id="change-{change}">', 1)[1].split("</article>", 1)[0]


def flash_of(page: str) -> str:
    match = re.search(r'<span class="flash-text">(.*?)</span>', page, re.S)
    assert match is not None, "no message on the page"
    return unescape(match.group(1))


def undo_ids(page: str) -> list[int]:
    form = re.search(r'<form method="post" action="/changes/bulk" class="undo-form">(.*?)</form>', page, re.S)
    return [int(i) for i in re.findall(r'name="id" value="(\d+)"', form.group(1))] if form else []


async def status_of(db: Database, change: int) -> str:
    return str(await db.scalar("SELECT status FROM changes WHERE id = ?", (change,)))


async def three_files(db: Database) -> list[int]:
    ids: list[int] = []
    for n in range(3):
        ids += await queue(
            db, revision=100 + n, file=f"File:Harbour {n}.jpg", timestamp=f"2026-03-0{n + 1}T10:00:00Z",
            changes=[caption(f"Hamnen, nr {n}")],
        )  # fmt: skip
    return ids


async def test_a_decision_comes_back_to_the_same_view_at_the_next_card_and_can_be_undone(
    anna: TestClient[Any, Any], db: Database
) -> None:
    await three_files(db)
    view = "/?language=sv"
    page = await (await anna.get(view)).text()
    first, second, third = ids_on(page)
    # Each card's form says where to land after deciding it: the next card; the last, the one before.
    assert re.findall(r'name="then" value="(\d+)"', page) == [str(second), str(third), str(second)]
    csrf = await csrf_of(anna, view)
    form = {"csrf": csrf, "action": "accept", "next": view, "then": str(second), "note": ""}
    response = await anna.post(f"/changes/{first}/review", data=form, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"{view}#change-{second}"
    assert await status_of(db, first) == "accepted"
    shown = await (await anna.get(view)).text()
    file_of_first = "File:Harbour 2.jpg"  # the newest file comes first
    assert flash_of(shown) == f"Accepted #{first} (caption, sv) of {file_of_first}."
    assert undo_ids(shown) == [first]
    assert first not in ids_on(shown)  # gone from the pending tab
    assert "flash-text" not in await (await anna.get(view)).text()  # said once

    # The Undo of the message: back to the same view, at the change that came back.
    response = await anna.post(
        "/changes/bulk",
        data=[("csrf", csrf), ("next", view), ("then", str(first)), ("id", str(first)), ("action", "undo")],
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == f"{view}#change-{first}"
    assert await status_of(db, first) == "pending"
    shown = await (await anna.get(view)).text()
    assert flash_of(shown) == f"Undid the decision on #{first} (caption, sv) of {file_of_first}."
    assert undo_ids(shown) == []  # an undo offers no undo of its own
    assert first in ids_on(shown)


async def test_a_note_stays_on_its_card_and_a_foreign_fragment_is_dropped(
    anna: TestClient[Any, Any], db: Database
) -> None:
    first, second, _ = await three_files(db)
    csrf = await csrf_of(anna)
    response = await anna.post(
        f"/changes/{first}/review",
        data={"csrf": csrf, "action": "note", "note": "ask", "next": "/?status=all#elsewhere", "then": str(second)},
        allow_redirects=False,
    )  # fmt: skip
    assert response.headers["Location"] == f"/?status=all#change-{first}"
    for then in ("x", "-1", "1" * 30):  # not a change id: no fragment but the card's own
        response = await anna.post(
            f"/changes/{first}/review", data={"csrf": csrf, "action": "accept", "then": then, "next": "/"},
            allow_redirects=False,
        )  # fmt: skip
        assert response.headers["Location"] == f"/#change-{first}"


async def test_the_script_gets_the_message_and_the_redrawn_card(
    anna: TestClient[Any, Any], db: Database
) -> None:
    first, second, _ = await three_files(db)
    csrf = await csrf_of(anna)
    response = await anna.post(
        f"/changes/{first}/review",
        data={"csrf": csrf, "action": "reject", "next": "/?language=sv", "then": str(second)},
        headers={"Accept": "application/json"},
        allow_redirects=False,
    )
    assert response.status == 200
    answer = await response.json()
    assert answer["message"] == f"Rejected #{first} (caption, sv) of File:Harbour 0.jpg."
    assert answer["undo"] == [first] and answer["decided"] == [first] and answer["moves_on"] is True
    card = answer["cards"][str(first)]
    assert card.startswith(f'<article class="change status-rejected" id="change-{first}">')
    assert "Rejected by <strong>anna</strong>" in card
    assert 'name="next" value="/?language=sv"' in card  # its forms go back to the page it is on
    assert (
        'class="undo-form"' in answer["message_html"]
        and f'name="id" value="{first}"' in answer["message_html"]
    )
    assert answer["counts"] == {"pending": 2, "accepted": 0, "rejected": 1, "withdrawn": 0}
    # The script's answer is not kept for the next page as well.
    assert "flash-text" not in await (await anna.get("/")).text()


async def test_bulk_actions_are_the_ones_that_make_sense_on_each_tab(
    anna: TestClient[Any, Any], db: Database
) -> None:
    first, second, third = await three_files(db)
    await db.write("UPDATE changes SET status = 'accepted' WHERE id = ?", (second,))
    await db.write("UPDATE changes SET status = 'rejected' WHERE id = ?", (third,))

    async def bulk_buttons(query: str) -> list[str]:
        page = await (await anna.get("/" + query)).text()
        bar = page.split('id="bulk"', 1)[1].split("</form>", 1)[0] if 'id="bulk"' in page else ""
        return re.findall(r'name="action" value="([\w-]+)"', bar)

    assert await bulk_buttons("") == ["accept", "reject", "accept-shown"]
    assert await bulk_buttons("?status=accepted") == ["reject", "pending"]
    assert await bulk_buttons("?status=rejected") == ["accept", "pending"]
    assert await bulk_buttons("?status=all") == ["accept", "reject", "pending"]
    csrf = await csrf_of(anna)
    page = await (
        await anna.post(
            "/changes/bulk",
            data=[("csrf", csrf), ("action", "pending"), ("id", str(second)), ("id", str(third))],
        )
    ).text()
    assert flash_of(page).startswith("Put back to pending 2 changes: ")
    assert [await status_of(db, i) for i in (first, second, third)] == ["pending"] * 3
    assert sorted(undo_ids(page)) == [second, third]
    refused = await anna.post(
        "/changes/bulk", data={"csrf": csrf, "action": "note-shown", "shown": str(first)}
    )
    assert refused.status == 400


async def test_accept_all_by_this_editor_in_this_edit(anna: TestClient[Any, Any], db: Database) -> None:
    edit = await queue(
        db, revision=300, file="File:Chair.jpg", user="Lena", timestamp="2026-03-05T10:00:00Z",
        changes=[caption("Stol"), FieldChange("title", "added", None, "Stol", "Artwork"),
                 FieldChange("date", "added", None, "{{other date|ca|1750}}", "Artwork")],
    )  # fmt: skip
    (alone,) = await queue(
        db, revision=301, file="File:Chair.jpg", user="Olle", timestamp="2026-03-06T10:00:00Z",
        changes=[caption("Karmstol")],
    )  # fmt: skip
    (other,) = await queue(db, revision=302, file="File:Table.jpg", timestamp="2026-03-01T10:00:00Z")
    await db.write("UPDATE changes SET status = 'accepted' WHERE id = ?", (edit[2],))  # decided already
    page = await (await anna.get("/")).text()
    for change in edit[:2]:
        card = card_html(page, change)
        assert "Accept all 2 by Lena in this edit" in card
        form = card.split('class="edit-form"', 1)[1].split("</form>", 1)[0]
        assert re.findall(r'name="id" value="(\d+)"', form) == [str(edit[0]), str(edit[1])]
    assert "in this edit" not in card_html(page, alone)  # an edit of one change has no such button
    # Without script the page lands on the first card that is not part of the edit.
    then = re.search(r'class="edit-form">.*?name="then" value="(\d+)"', card_html(page, edit[0]), re.S)
    assert then is not None and int(then.group(1)) == alone
    csrf = await csrf_of(anna)
    response = await anna.post(
        "/changes/bulk",
        data=[("csrf", csrf), ("next", "/"), ("then", then.group(1)), ("action", "accept"),
              ("id", str(edit[0])), ("id", str(edit[1]))],
        allow_redirects=False,
    )  # fmt: skip
    assert response.headers["Location"] == f"/#change-{alone}"
    assert [await status_of(db, i) for i in (*edit, alone, other)] == ["accepted"] * 3 + ["pending"] * 2
    said = flash_of(await (await anna.get("/")).text())
    assert said == f"Accepted 2 changes of File:Chair.jpg: #{edit[0]} (caption, sv), #{edit[1]} (title)."


async def test_grouping_by_edit_is_a_toggle_that_the_links_keep(
    anna: TestClient[Any, Any], db: Database
) -> None:
    one = await queue(
        db, revision=10, file="File:A.jpg", user="Lena", timestamp="2026-03-01T10:00:00Z",
        changes=[caption("Ett"), FieldChange("title", "added", None, "Ett", "Artwork")],
    )  # fmt: skip
    two = await queue(db, revision=11, file="File:A.jpg", user="Olle", timestamp="2026-03-02T10:00:00Z")
    three = await queue(db, revision=12, file="File:B.jpg", user="Lena", timestamp="2026-03-03T10:00:00Z")
    by_file = await (await anna.get("/")).text()
    assert by_file.count('class="file-group"') == 2 and ids_on(by_file) == [*three, *one, *two]
    assert 'href="/?group=edit"' in by_file
    by_edit = await (await anna.get("/?group=edit")).text()
    assert by_edit.count('class="file-group edit-group"') == 3
    assert ids_on(by_edit) == [*three, *two, *one]  # newest edit first
    headings = re.findall(
        r'<h2 class="file-title" id="group-\d+">Edit by (\w+) · <time datetime="([^"]+)"', by_edit
    )
    assert headings == [
        ("Lena", "2026-03-03T10:00:00Z"),
        ("Olle", "2026-03-02T10:00:00Z"),
        ("Lena", "2026-03-01T10:00:00Z"),
    ]
    assert "group=edit" in re.search(r'<a href="([^"]+)"[^>]*>Accepted', by_edit).group(1)  # type: ignore[union-attr]
    assert 'href="/"' in by_edit.split('class="grouping"', 1)[1].split("</p>", 1)[0]  # back to by file
    assert ids_on(await (await anna.get("/?group=bogus")).text()) == [*three, *one, *two]


async def test_the_answer_redraws_the_other_pending_cards_of_the_same_edit(
    anna: TestClient[Any, Any], db: Database
) -> None:
    edit = await queue(
        db, revision=400, user="Lena",
        changes=[caption("Stol"), FieldChange("title", "added", None, "Stol", "Artwork")],
    )  # fmt: skip
    page = await (await anna.get("/")).text()
    assert "Accept all 2 by Lena in this edit" in card_html(page, edit[1])
    csrf = await csrf_of(anna)
    answer = await (
        await anna.post(
            f"/changes/{edit[0]}/review",
            data={"csrf": csrf, "action": "accept", "next": "/"},
            headers={"Accept": "application/json"},
        )
    ).json()
    assert sorted(answer["cards"]) == sorted(map(str, edit)) and answer["decided"] == [edit[0]]
    assert "in this edit" not in answer["cards"][str(edit[1])]  # one pending change left in the edit


async def test_the_export_page_keeps_the_queues_filters(anna: TestClient[Any, Any], db: Database) -> None:
    page = await (await anna.get("/export?language=sv&status=rejected")).text()
    form = page.split('class="export-form"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="language" value="sv">' in form
    assert '<option value="rejected" selected>rejected</option>' in form
    plain = await (await anna.get("/export")).text()
    assert '<option value="accepted" selected>accepted</option>' in plain  # the routine export's status
    assert '<a href="/export?language=sv">' in await (await anna.get("/?language=sv")).text()
    response = await anna.post("/export", data={"csrf": await csrf_of(anna), "next": "/export"})
    assert response.url.path == "/export"  # nothing to download: said on the export page itself
    assert "nothing to download" in flash_of(await response.text())
