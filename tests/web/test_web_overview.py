"""The agency's overview page (issue 19): each collection the account may see, its month's figures
and weekly chart, readable without JavaScript; a limited account sees only its own collections, on the
page and in the summary it downloads."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support.web import COLLECTIONS_CONFIG_TEXT, PASSWORD, queue, sign_in
from tests.web.conftest import ClientFactory
from watcher.config import Config, parse_config
from watcher.export.overview import Month
from watcher.store import tracked as store_tracked
from watcher.store.db import Database, iso_utc
from watcher.web import auth
from watcher.web.app import create_app

HALLWYL, SKOKLOSTER = "The Hallwyl Museum", "Skokloster Castle"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config(COLLECTIONS_CONFIG_TEXT, tmp_path / "config.toml")


@pytest.fixture
async def seeded(db: Database) -> None:
    """A file in each collection, edited this month; anna sees both collections, hanna Hallwyl's."""
    now = iso_utc(datetime.now(UTC))
    async with db.transaction() as conn:
        await store_tracked.add_file(
            conn, "File:Hallwyl room.jpg", "category", "Category:Hallwyl", collection="hallwyl"
        )
        await store_tracked.add_file(conn, "File:Skokloster.jpg", "category", "Category:Skokloster", collection="skokloster")  # fmt: skip
    await queue(db, file="File:Hallwyl room.jpg", revision=1, timestamp=now, collection="hallwyl")
    await queue(db, file="File:Skokloster.jpg", revision=2, timestamp=now, collection="skokloster")
    await auth.add_user(db, "anna", PASSWORD, "reviewer")
    await auth.add_user(db, "hanna", PASSWORD, "readonly", collections=["hallwyl"])


async def client_of(
    aiohttp_client: ClientFactory, db: Database, config: Config, name: str
) -> TestClient[Any, Any]:
    client = await aiohttp_client(create_app(db, config))
    assert (await sign_in(client, name)).status == 303
    return client


def headings(page: str) -> list[str]:
    return re.findall(r'<h2 id="overview-\d+">([^<]+)', page)


async def test_the_overview_shows_every_collection_with_its_chart(
    aiohttp_client: ClientFactory, db: Database, config: Config, seeded: None
) -> None:
    anna = await client_of(aiohttp_client, db, config, "anna")
    response = await anna.get("/overview")
    assert response.status == 200
    page = await response.text()
    assert [h.strip() for h in headings(page)] == [HALLWYL, SKOKLOSTER]
    this_month = Month.of(datetime.now(UTC))
    assert f"<h1>Overview: {this_month.label}</h1>" in page
    assert f'<tr><th scope="row">Changes in {this_month.label}</th><td>1</td></tr>' in page
    assert page.count("<svg") == 2 and "<script>" not in page.split("</head>", 1)[1]
    # The chart is inline SVG, well-formed, its figures in words.
    svg = re.search(r"<svg.*?</svg>", page, re.S)
    assert svg is not None
    root = ET.fromstring(svg.group(0))
    assert "1 content" in (root.findtext("{http://www.w3.org/2000/svg}desc") or "")
    assert 'href="/?collection=hallwyl&amp;status=pending&amp;kind=all"' in page
    assert '<a href="/overview">Overview</a>' in page  # in every page's navigation
    assert f'href="/overview?month={this_month.previous().key}"' in page
    assert 'rel="next"' not in page  # no month after the one under way
    # A past month has a way forward.
    past = await (await anna.get(f"/overview?month={this_month.previous().key}")).text()
    assert f'href="/overview?month={this_month.key}" rel="next"' in past
    assert f'<tr><th scope="row">Changes in {this_month.previous().label}</th><td>0</td></tr>' in past


async def test_a_limited_account_sees_only_its_collections_overview_and_summary(
    aiohttp_client: ClientFactory, db: Database, config: Config, seeded: None
) -> None:
    hanna = await client_of(aiohttp_client, db, config, "hanna")
    page = await (await hanna.get("/overview")).text()
    assert [h.strip() for h in headings(page)] == [HALLWYL]
    assert SKOKLOSTER not in page and "Skokloster.jpg" not in page and "skokloster" not in page
    # The collection is not something the query string can widen.
    asked = await (await hanna.get("/overview?collection=skokloster")).text()
    assert SKOKLOSTER not in asked
    month = Month.of(datetime.now(UTC)).key
    download = await hanna.get(f"/overview/summary?month={month}")
    assert download.status == 200
    assert download.headers["Content-Disposition"] == f'attachment; filename="commons-watcher-{month}.html"'
    body = await download.text()
    assert f"<h2>{HALLWYL}</h2>" in body and SKOKLOSTER not in body and "Skokloster.jpg" not in body


async def test_a_month_that_is_no_month_says_so(
    aiohttp_client: ClientFactory, db: Database, config: Config, seeded: None
) -> None:
    anna = await client_of(aiohttp_client, db, config, "anna")
    page = await (await anna.get("/overview?month=2026-13")).text()
    assert "&#39;2026-13&#39; is not a month: give it as YYYY-MM, e.g. 2026-11; showing this month" in page
    bad = await anna.get("/overview/summary?month=soon")
    assert bad.status == 400


async def test_the_overview_needs_a_sign_in(
    aiohttp_client: ClientFactory, db: Database, config: Config
) -> None:
    client = await aiohttp_client(create_app(db, config))
    for path in ("/overview", "/overview/summary"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/login?next=")
