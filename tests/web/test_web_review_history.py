"""The change page's review history and undo (issue 12): every decision listed with who and when,
undo restores the one before, and a changed decision on an exported change says that the next routine
export retracts it; the download then carries the retraction."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support.web import csrf_of, queue, sign_in
from watcher.store.db import Database


@pytest.fixture
async def anna(client: TestClient[Any, Any]) -> TestClient[Any, Any]:
    assert (await sign_in(client, "anna")).status == 303
    return client


async def decide(client: TestClient[Any, Any], change: int, action: str, note: str | None = None) -> str:
    data = {"csrf": await csrf_of(client), "action": action, "next": f"/changes/{change}"}
    if note is not None:
        data["note"] = note
    response = await client.post(f"/changes/{change}/review", data=data)
    assert response.status == 200
    return await response.text()


def history_items(page: str) -> list[str]:
    section = page.split('<section class="panel review-history">', 1)[1].split("</section>", 1)[0]
    return [
        " ".join(re.sub(r"<[^>]+>", " ", item).split())
        for item in re.findall(r"<li>(.*?)</li>", section, re.S)
    ]


async def download(client: TestClient[Any, Any]) -> list[dict[str, str]]:
    response = await client.post("/export", data={"csrf": await csrf_of(client)})
    assert response.status == 200
    return list(csv.DictReader(io.StringIO((await response.read()).decode("utf-8-sig"))))


async def test_the_change_page_lists_every_decision_and_undo_restores(
    anna: TestClient[Any, Any], db: Database
) -> None:
    (change,) = await queue(db)
    page = await (await anna.get(f"/changes/{change}")).text()
    assert "No decision yet." in page
    await decide(anna, change, "reject", note="not our object")
    await decide(anna, change, "accept", note="it is, after all")
    page = await decide(anna, change, "undo")
    assert f"Undid the decision on #{change} (description, en) of File:Example 1.jpg." in page
    items = history_items(page)
    assert len(items) == 3
    assert "anna pending → rejected" in items[0] and "“not our object”" in items[0]
    assert "anna rejected → accepted" in items[1] and "“it is, after all”" in items[1]
    assert "undid the latest decision: accepted → rejected" in items[2]
    row = await db.fetchone("SELECT status FROM changes WHERE id = ?", (change,))
    assert row is not None and row[0] == "rejected"


async def test_rejecting_an_exported_change_warns_and_the_next_download_retracts_it(
    anna: TestClient[Any, Any], db: Database
) -> None:
    (change,) = await queue(db)
    await decide(anna, change, "accept")
    (sent,) = await download(anna)
    assert (sent["id"], sent["status"], sent["retracts"]) == (str(change), "accepted", "")
    page = await decide(anna, change, "reject")
    assert f"Already exported to the collection system: #{change}" in page
    assert "the next routine export retracts it" in page
    assert "already exported: retracted by the next export" in history_items(page)[-1]
    (retraction,) = await download(anna)
    assert (retraction["id"], retraction["status"]) == (str(change), "rejected")
    assert retraction["retracts"] == sent_time(await db.fetchone("SELECT retracted_export FROM changes"))
    page = await (await anna.get(f"/changes/{change}")).text()
    assert "retracted in the export of" in page


def sent_time(row: Any) -> str:
    assert row is not None and row[0]
    return str(row[0])


async def test_the_download_offers_the_wide_layout_and_the_profiles(
    anna: TestClient[Any, Any], db: Database
) -> None:
    (first,) = await queue(db, revision=1, object_id="LRK 1")
    (second,) = await queue(db, revision=2, object_id="LRK 2", file="File:Other.jpg")
    await decide(anna, first, "accept")
    await decide(anna, second, "accept")
    page = await (await anna.get("/")).text()
    assert 'name="layout"' in page and 'value="collectiveaccess"' in page
    csrf = await csrf_of(anna)
    wide = await anna.post("/export", data={"csrf": csrf, "layout": "wide", "all": "1"})
    rows = list(csv.DictReader(io.StringIO((await wide.read()).decode("utf-8-sig"))))
    assert sorted(r["object_id"] for r in rows) == ["LRK 1", "LRK 2"] and "description/en" in rows[0]
    ca = await anna.post("/export", data={"csrf": csrf, "profile": "collectiveaccess", "all": "1"})
    body = (await ca.read()).decode("utf-8")
    assert not body.startswith("\ufeff") and body.splitlines()[0].startswith("idno,")
    refused = await anna.post("/export", data={"csrf": csrf, "profile": "omeka", "format": "jsonl"})
    assert refused.status == 400 and "CSV file" in await refused.text()
    wrong = await anna.post("/export", data={"csrf": csrf, "profile": "excel"})
    assert wrong.status == 400
    marked = await db.fetchall("SELECT exported_at FROM changes")
    assert all(row[0] is None for row in marked)  # "all" selections mark nothing
