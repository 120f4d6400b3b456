"""The queue page and the review actions: grouping, diffs, filters, pagination, accept/reject/bulk/note."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support.queue_sample import fill_queue
from tests.support.web import csrf_of, queue, sign_in
from watcher.diff.model import FieldChange
from watcher.store.db import Database


@pytest.fixture
async def anna(client: TestClient[Any, Any]) -> TestClient[Any, Any]:
    assert (await sign_in(client, "anna")).status == 303
    return client


def ids_on(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="change[^"]*" id="change-(\d+)"', page)]


async def status_of(db: Database, change_id: int) -> tuple[Any, ...]:
    row = await db.fetchone(
        "SELECT status, reviewer, reviewed_at, note FROM changes WHERE id = ?", (change_id,)
    )
    assert row is not None
    return tuple(row)


async def test_queue_groups_changes_by_file_with_provenance(anna: TestClient[Any, Any], db: Database) -> None:
    a1 = await queue(
        db, file="File:Alpha.jpg", revision=10, timestamp="2026-03-01T08:00:00Z", object_id="EXM-A"
    )
    b = await queue(db, file="File:Beta.jpg", revision=20, timestamp="2026-03-02T08:00:00Z", object_id=None)
    a2 = await queue(
        db, file="File:Alpha.jpg", revision=30, timestamp="2026-03-03T08:00:00Z", user="Curious 1",
        comment="added a caption", changes=[FieldChange("caption", "added", None, "A ship", language="sv")],
    )  # fmt: skip
    page = await (await anna.get("/")).text()
    # Alpha has the newest change, so it comes first, its changes in edit order; then Beta.
    assert ids_on(page) == [*a1, *a2, *b]
    assert page.count('class="file-group"') == 2
    assert "EXM-A" in page and "(none found)" in page
    assert "added a caption" in page and "Curious 1" in page
    assert "https://commons.wikimedia.org/wiki/User:Curious_1" in page
    assert "https://commons.wikimedia.org/wiki/Special:Contributions/Curious_1" in page
    assert "https://commons.wikimedia.org/w/index.php?diff=30&amp;oldid=29" in page
    assert 'src="https://commons.wikimedia.org/wiki/Special:FilePath/Alpha.jpg?width=120"' in page
    assert "https://commons.wikimedia.org/wiki/File:Alpha.jpg" in page
    # UTC without script, in the text and on hover; app.js shows the curator's local time.
    assert (
        '<time datetime="2026-03-03T08:00:00Z" title="2026-03-03 08:00 UTC">2026-03-03 08:00 UTC</time>'
        in page
    )


async def test_old_and_new_are_shown_with_word_highlighting(anna: TestClient[Any, Any], db: Database) -> None:
    await queue(
        db,
        changes=[
            FieldChange("description", "changed", "A red ship at sea", "A blue ship at sea", "Information")
        ],
    )
    page = await (await anna.get("/")).text()
    assert "A <del>red</del> ship at sea" in page
    assert "A <ins>blue</ins> ship at sea" in page


async def test_detail_page_shows_the_edit_in_full(anna: TestClient[Any, Any], db: Database) -> None:
    ids = await queue(
        db, revision=77, comment="two fields",
        changes=[
            FieldChange("title", "changed", "Old title", "New title", "Artwork"),
            FieldChange("statement", "added", None, "Q42", property="P180", detail={"qualifiers": {"P2677": ["x"]}}),
        ],
    )  # fmt: skip
    await queue(db, revision=78, changes=[FieldChange("date", "added", None, "1888")])
    response = await anna.get(f"/changes/{ids[1]}")
    page = await response.text()
    assert response.status == 200
    assert "P180" in page and "Q42" in page and "P2677" in page
    assert "Other changes in the same edit" in page and "<ins>New</ins> title" in page  # its sibling
    assert "1888" in page  # another change of the same file
    assert (await anna.get("/changes/999999")).status == 404


async def test_accept_and_reject_one_change_record_who_and_when(
    anna: TestClient[Any, Any], db: Database
) -> None:
    first, second = await queue(
        db, changes=[FieldChange("title", "added", None, "One"), FieldChange("date", "added", None, "1900")]
    )
    csrf = await csrf_of(anna)
    response = await anna.post(
        f"/changes/{first}/review", data={"csrf": csrf, "action": "accept", "note": "  checked  against\nledger "},
        allow_redirects=False,
    )  # fmt: skip
    # Back where the form was, at the change (the change page has no next card to move on to).
    assert response.status == 303 and response.headers["Location"] == f"/changes/{first}#change-{first}"
    status, reviewer, reviewed_at, note = await status_of(db, first)
    assert (status, reviewer, note) == ("accepted", "anna", "checked against ledger")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", reviewed_at)
    await anna.post(
        f"/changes/{second}/review",
        data={"csrf": csrf, "action": "reject", "next": "/?status=all"},
        allow_redirects=False,
    )
    assert (await status_of(db, second))[:2] == ("rejected", "anna")
    page = await (await anna.get("/?status=all")).text()
    assert "Accepted by <strong>anna</strong>" in page and "Rejected by <strong>anna</strong>" in page
    said = f"Rejected #{second} (date) of File:Example 1.jpg."  # the last action's message, naming it, once
    assert said in page
    assert said not in await (await anna.get("/?status=all")).text()


async def test_note_alone_and_back_to_pending(anna: TestClient[Any, Any], db: Database) -> None:
    (change,) = await queue(db)
    csrf = await csrf_of(anna)
    await anna.post(
        f"/changes/{change}/review", data={"csrf": csrf, "action": "note", "note": "ask the registrar"}
    )
    assert await status_of(db, change) == ("pending", None, None, "ask the registrar")
    await anna.post(
        f"/changes/{change}/review", data={"csrf": csrf, "action": "accept", "note": "ask the registrar"}
    )
    await anna.post(f"/changes/{change}/review", data={"csrf": csrf, "action": "pending", "note": ""})
    status, reviewer, reviewed_at, note = await status_of(db, change)
    # Back to pending is a decision too: who and when are kept (and the history has every step).
    assert (status, reviewer, note) == ("pending", "anna", None) and reviewed_at


async def test_unknown_action_or_change(anna: TestClient[Any, Any], db: Database) -> None:
    (change,) = await queue(db)
    csrf = await csrf_of(anna)
    assert (
        await anna.post(f"/changes/{change}/review", data={"csrf": csrf, "action": "delete"})
    ).status == 400
    missing = await anna.post("/changes/424242/review", data={"csrf": csrf, "action": "accept", "next": "/"})
    assert "not found in the queue" in await missing.text()


async def test_bulk_accept_and_reject_selected(anna: TestClient[Any, Any], db: Database) -> None:
    ids = [i for n in range(5) for i in await queue(db, revision=100 + n, file=f"File:F{n}.jpg")]
    csrf = await csrf_of(anna)
    form: list[tuple[str, str]] = [("csrf", csrf), ("action", "accept"), ("next", "/"), ("note", "batch one")]
    response = await anna.post("/changes/bulk", data=[*form, ("id", str(ids[0])), ("id", str(ids[1]))])
    assert (
        f"Accepted 2 changes: #{ids[0]} (description, en) of File:F0.jpg, #{ids[1]} (description, en) of File:F1.jpg."
        in await response.text()
    )
    await anna.post("/changes/bulk", data=[("csrf", csrf), ("action", "reject"), ("id", str(ids[2]))])
    assert [(await status_of(db, i))[0] for i in ids] == [
        "accepted",
        "accepted",
        "rejected",
        "pending",
        "pending",
    ]
    assert (await status_of(db, ids[0]))[3] == "batch one"
    assert (await status_of(db, ids[2]))[3] is None  # no bulk note written: notes left alone
    nothing = await anna.post("/changes/bulk", data=[("csrf", csrf), ("action", "accept")])
    assert "Nothing was changed." in await nothing.text()


async def test_accept_all_shown_takes_exactly_the_page_shown(
    anna: TestClient[Any, Any], db: Database
) -> None:
    await fill_queue(db, 60, files=12)
    page = await (await anna.get("/?per_page=25")).text()
    shown = ids_on(page)
    assert len(shown) == 25
    hidden = re.search(r'name="shown" value="([\d,]+)"', page)
    assert hidden is not None and sorted(map(int, hidden.group(1).split(","))) == sorted(shown)
    csrf = await csrf_of(anna)
    await anna.post("/changes/bulk", data={"csrf": csrf, "action": "accept-shown", "shown": hidden.group(1)})
    accepted = [
        r[0] for r in await db.fetchall("SELECT id FROM changes WHERE status = 'accepted' ORDER BY id")
    ]
    assert accepted == sorted(shown)
    assert await db.scalar("SELECT count(*) FROM changes WHERE status = 'pending'") == 35


async def test_filters(anna: TestClient[Any, Any], db: Database) -> None:
    sv = await queue(
        db, revision=1, user="Sven", timestamp="2026-02-01T10:00:00Z",
        changes=[FieldChange("description", "changed", "a", "b", "Information", None, "sv")],
    )  # fmt: skip
    en = await queue(
        db, revision=2, user="Emma", timestamp="2026-02-10T10:00:00Z", source="history",
        changes=[FieldChange("title", "added", None, "t", "Artwork", None, "en")],
    )  # fmt: skip
    maint = await queue(
        db, revision=3, user="Emma", file="File:Other.jpg", object_id="EXM-9",
        changes=[FieldChange("category", "added", None, "Media needing categories", kind="maintenance")],
    )  # fmt: skip
    untagged = await queue(
        db, revision=4, changes=[FieldChange("date", "added", None, "1900", "Information")]
    )
    await db.write("UPDATE changes SET status = 'accepted' WHERE id = ?", (untagged[0],))

    async def shown(query: str) -> list[int]:
        response = await anna.get("/?" + query)
        assert response.status == 200
        return sorted(ids_on(await response.text()))

    assert await shown("") == sorted(sv + en)
    assert await shown("kind=maintenance") == maint
    assert await shown("kind=all") == sorted(sv + en + maint)
    assert await shown("status=accepted") == untagged
    assert await shown("status=all&kind=all") == sorted(sv + en + maint + untagged)
    assert await shown("language=sv") == sv
    assert await shown("language=none&status=all") == untagged
    assert await shown("field=title") == en
    assert await shown("user=Emma&kind=all") == sorted(en + maint)
    assert await shown("source=history") == en
    assert await shown("source=live&kind=all") == sorted(sv + maint)
    assert await shown("since=2026-02-05") == en
    assert await shown("until=2026-02-01") == sv  # the whole day counts
    assert await shown("file=Other.jpg&kind=all") == maint
    assert await shown("object=EXM-9&kind=all") == maint
    bad = await (await anna.get("/?status=bogus&since=yesterday")).text()
    assert "unknown value" in bad and "not a date" in bad
    assert sorted(ids_on(bad)) == sorted(sv + en)
    form = await (await anna.get("/")).text()
    assert '<option value="title">title</option>' in form and '<option value="sv">sv</option>' in form


async def test_pagination_covers_every_change_once(anna: TestClient[Any, Any], db: Database) -> None:
    await fill_queue(db, 130, files=20)
    total = await db.scalar("SELECT count(*) FROM changes WHERE status = 'pending' AND kind = 'content'")
    first = await (await anna.get("/?per_page=25")).text()
    pages = -(-total // 25)
    assert f"page 1 of {pages}" in first
    seen: list[int] = []
    for number in range(1, pages + 1):
        page = await (await anna.get(f"/?per_page=25&page={number}")).text()
        on_page = ids_on(page)
        assert len(on_page) == (25 if number < pages else total - 25 * (pages - 1))
        seen += on_page
        if number < pages:
            assert f"page={number + 1}" in page and 'rel="next"' in page
    assert sorted(seen) == sorted(set(seen)) and len(seen) == total
    beyond = await (await anna.get(f"/?per_page=25&page={pages + 5}")).text()  # clamps to the last page
    assert f"page {pages} of {pages}" in beyond


async def test_next_after_a_post_stays_on_this_site(anna: TestClient[Any, Any], db: Database) -> None:
    (change,) = await queue(db)
    csrf = await csrf_of(anna)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = await anna.post(
            f"/changes/{change}/review", data={"csrf": csrf, "action": "note", "note": "", "next": target},
            allow_redirects=False,
        )  # fmt: skip
        assert response.headers["Location"] == f"/changes/{change}#change-{change}"
