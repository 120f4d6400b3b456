"""The review page's download marks only what the routine selection wrote, like `watcher export`.

Every selection the export form can send is tried through the page (aiohttp's test client, signed in
as a browser would): what it downloads, whether it marks, and that the routine download afterwards
still has every accepted change. Then the defect scenario through the page, the read-only view never
showing a pending change as exported, the nothing-new message instead of a header-only file, the
BOM, and the formula guard with its "raw" opt-out.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.support.web import csrf_of, queue, sign_in
from watcher.diff.model import FieldChange
from watcher.store.db import Database

Client = TestClient[Any, Any]


class Queue:
    """Two accepted changes (content, maintenance), one pending, one rejected."""

    accepted: int
    maintenance: int
    pending: int
    rejected: int

    @classmethod
    async def fill(cls, db: Database) -> Queue:
        q = cls()
        (q.accepted,) = await queue(
            db, revision=101, file="File:Armband.jpg", timestamp="2026-03-01T10:00:00Z"
        )
        (q.maintenance,) = await queue(
            db, revision=102, file="File:Stol.jpg", timestamp="2026-03-05T10:00:00Z",
            changes=[FieldChange("category", "added", None, "Needing checks", kind="maintenance")],
        )  # fmt: skip
        (q.pending,) = await queue(
            db, revision=103, file="File:Armband.jpg", timestamp="2026-03-03T10:00:00Z"
        )
        (q.rejected,) = await queue(
            db, revision=104, file="File:Stol.jpg", timestamp="2026-03-04T10:00:00Z", user="Other"
        )
        await db.write(
            "UPDATE changes SET status = 'accepted' WHERE id IN (?, ?)", (q.accepted, q.maintenance)
        )
        await db.write("UPDATE changes SET status = 'rejected' WHERE id = ?", (q.rejected,))
        return q

    def named(self, names: str) -> set[int]:
        return {getattr(self, name) for name in names.split()} if names else set()


@pytest.fixture
async def q(db: Database) -> Queue:
    return await Queue.fill(db)


async def download(client: Client, **form: str) -> tuple[Any, bytes]:
    response = await client.post("/export", data={"csrf": await csrf_of(client), **form})
    return response, await response.read()


def ids_in(body: bytes) -> set[int]:
    assert body.startswith(b"\xef\xbb\xbf")
    return {int(row["id"]) for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))}


async def marked(db: Database) -> set[int]:
    return {int(row[0]) for row in await db.fetchall("SELECT id FROM changes WHERE exported_at IS NOT NULL")}


# (the form's fields besides csrf, the changes downloaded, whether it marks them)
SELECTIONS: list[tuple[dict[str, str], str, bool]] = [
    ({}, "accepted maintenance", True),
    ({"status": "accepted"}, "accepted maintenance", True),
    ({"format": "csv", "status": "accepted", "next": "/?status=accepted"}, "accepted maintenance", True),
    ({"kind": "all"}, "accepted maintenance", True),
    ({"raw": "1"}, "accepted maintenance", True),
    ({"all": "1"}, "accepted maintenance", False),
    ({"status": "pending"}, "pending", False),
    ({"status": "rejected"}, "rejected", False),
    ({"status": "all"}, "accepted maintenance pending rejected", False),
    ({"status": "all", "all": "1"}, "accepted maintenance pending rejected", False),
    ({"kind": "content"}, "accepted", False),
    ({"kind": "maintenance"}, "maintenance", False),
    ({"since": "2026-03-02"}, "maintenance", False),
    ({"since": "2026-01-01"}, "accepted maintenance", False),  # the same records: still not routine
    ({"until": "2026-03-02"}, "accepted", False),
    ({"file": "Armband.jpg"}, "accepted", False),
    ({"field": "description"}, "accepted", False),
    ({"language": "en"}, "accepted", False),
    ({"user": "Editor"}, "accepted maintenance", False),
    ({"object": "EXM-1"}, "accepted maintenance", False),
    ({"source": "live"}, "accepted maintenance", False),
]


@pytest.mark.parametrize(
    ("form", "names", "marks"),
    SELECTIONS,
    ids=["&".join(f"{k}={v}" for k, v in s[0].items()) or "routine" for s in SELECTIONS],
)
async def test_each_selection_marks_only_if_it_is_the_routine_one(
    client: Client, db: Database, q: Queue, form: dict[str, str], names: str, marks: bool
) -> None:
    await sign_in(client, "anna")
    response, body = await download(client, **form)
    assert response.status == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert ids_in(body) == q.named(names)
    assert response.headers["X-Export-Marked"] == ("yes" if marks else "no")
    assert await marked(db) == (q.named(names) if marks else set())
    # Whatever came before, the routine download has what it has not had yet.
    again, routine = await download(client)
    if marks:
        assert "Content-Disposition" not in again.headers and b"Nothing new since " in routine
    else:
        assert ids_in(routine) == q.named("accepted maintenance")
    assert await marked(db) == q.named("accepted maintenance")


async def test_a_read_only_routine_download_marks_nothing(client: Client, db: Database, q: Queue) -> None:
    await sign_in(client, "otto")
    response, body = await download(client)
    assert ids_in(body) == q.named("accepted maintenance") and response.headers["X-Export-Marked"] == "no"
    assert await marked(db) == set()


async def test_a_download_that_cannot_be_finished_takes_its_marks_back(
    client: Client, db: Database, q: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in(client, "anna")
    csrf = await csrf_of(client)
    ends: list[set[int]] = []

    async def connection_lost(self: web.StreamResponse, data: bytes = b"") -> None:
        ends.append(await marked(db))  # every record was sent and marked: then the connection goes
        raise ConnectionResetError("the browser went away")

    monkeypatch.setattr(web.StreamResponse, "write_eof", connection_lost)
    with contextlib.suppress(aiohttp.ClientError):
        await (await client.post("/export", data={"csrf": csrf})).read()
    monkeypatch.undo()
    assert ends == [q.named("accepted maintenance")]
    assert await marked(db) == set()
    _, routine = await download(client)
    assert ids_in(routine) == q.named("accepted maintenance")


async def test_the_defect_through_the_page(client: Client, db: Database, q: Queue) -> None:
    """Issue 12: a status "all" download marked pending changes; the one accepted later was lost."""
    await sign_in(client, "anna")
    _, everything = await download(client, status="all", all="1")
    assert ids_in(everything) == q.named("accepted maintenance pending rejected")
    assert await marked(db) == set()
    _, first = await download(client)
    assert ids_in(first) == q.named("accepted maintenance")
    accept = await client.post(
        f"/changes/{q.pending}/review",
        data={"csrf": await csrf_of(client), "action": "accept", "next": "/"},
        allow_redirects=False,
    )
    assert accept.status == 303
    _, routine = await download(client)
    assert ids_in(routine) == {q.pending}
    assert await marked(db) == q.named("accepted maintenance pending")


async def test_the_read_only_view_never_shows_a_pending_change_as_exported(
    client: Client, db: Database, q: Queue
) -> None:
    await sign_in(client, "anna")
    await download(client, status="all", all="1")
    await download(client)  # the routine one: marks the accepted ones
    # (A pending change an old watcher's bug marked is cleared by schema migration 6: tests/store.)
    await client.post("/logout", data={"csrf": await csrf_of(client)})
    await sign_in(client, "otto")
    pending_page = await (await client.get("/?status=pending")).text()
    assert f'id="change-{q.pending}"' in pending_page
    assert 'class="exported' not in pending_page and "Exported" not in pending_page
    detail = await (await client.get(f"/changes/{q.pending}")).text()
    assert "<dt>Exported</dt><dd>not yet</dd>" in detail
    accepted_page = await (await client.get("/?status=accepted&kind=all")).text()
    assert accepted_page.count('class="exported"') == 2
    detail = await (await client.get(f"/changes/{q.accepted}")).text()
    assert re.search(
        r"<dt>Exported</dt><dd><time datetime=\"[^\"]+\" title=\"[^\"]+\">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time></dd>",
        detail,
    )


async def test_nothing_new_is_a_message_not_a_header_only_file(client: Client, db: Database) -> None:
    (change,) = await queue(db, revision=1)
    await sign_in(client, "anna")
    response, page = await download(client)  # followed to the page, which shows the message once
    assert response.status == 200 and "Content-Disposition" not in response.headers
    assert "Nothing accepted to export yet: nothing to download." in page.decode()
    await db.write("UPDATE changes SET status = 'accepted' WHERE id = ?", (change,))
    _, body = await download(client)
    assert ids_in(body) == {change}
    stamp = await db.scalar("SELECT exported_at FROM changes WHERE id = ?", (change,))
    redirect = await client.post(
        "/export", data={"csrf": await csrf_of(client), "next": "/?per_page=25"}, allow_redirects=False
    )
    assert redirect.status == 303 and redirect.headers["Location"] == "/?per_page=25"
    shown = await (await client.get("/?per_page=25")).text()
    assert f"Nothing new since {stamp}: nothing to download." in shown
    assert "Nothing new since" not in await (await client.get("/?per_page=25")).text()  # said once
    assert await marked(db) == {change}


async def test_a_filter_the_page_cannot_read_exports_nothing(client: Client, db: Database, q: Queue) -> None:
    await sign_in(client, "anna")
    response, body = await download(client, since="last tuesday")
    assert response.status == 400 and b"Nothing was exported" in body
    assert await marked(db) == set()


PAYLOADS = ('=HYPERLINK("http://x","y")', "+cmd", "@SUM(1)", "-2+3+cmd", "\t=1+1", "\r=1")


async def test_the_download_guards_formulas_unless_raw(client: Client, db: Database) -> None:
    for n, payload in enumerate(PAYLOADS):
        await queue(
            db, revision=300 + n, file=f"File:P {n}.jpg", user=payload,
            changes=[FieldChange("title", "changed", payload, payload, "Artwork")],
        )  # fmt: skip
    await db.write("UPDATE changes SET status = 'accepted'")
    await sign_in(client, "anna")
    page = await (await client.get("/")).text()
    assert 'name="raw"' in page and "Raw (no formula guard)" in page and 'name="spreadsheet"' not in page
    _, guarded = await download(client, all="1")
    rows = list(csv.DictReader(io.StringIO(guarded.decode("utf-8-sig"), newline="")))
    assert [(r["old"], r["new"], r["user"]) for r in rows] == [("'" + p,) * 3 for p in PAYLOADS]
    _, raw = await download(client, all="1", raw="1")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert [(r["old"], r["new"], r["user"]) for r in rows] == [(p,) * 3 for p in PAYLOADS]
