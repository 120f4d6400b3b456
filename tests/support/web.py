"""Helpers of the review page's tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from watcher.config_collections import DEFAULT_COLLECTION
from watcher.diff.model import FieldChange
from watcher.store.engine import Store
from watcher.store.queue import Provenance, insert_changes

PASSWORD = "correct horse battery"
CONFIG_TEXT = """
[watcher]
user_agent = "Test/1.0 (test@example.org)"
database = "w.sqlite3"
[tracking]
categories = ["Category:X"]
[web]
listen = "127.0.0.1:0"
"""
# Two collections (issue 19): the review page's accounts may be limited to either.
COLLECTIONS_CONFIG_TEXT = """
[watcher]
user_agent = "Test/1.0 (test@example.org)"
database = "w.sqlite3"
[[collection]]
name = "hallwyl"
title = "The Hallwyl Museum"
categories = ["Category:Hallwyl"]
[[collection]]
name = "skokloster"
title = "Skokloster Castle"
categories = ["Category:Skokloster"]
[web]
listen = "127.0.0.1:0"
"""

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')


async def sign_in(
    client: TestClient[Any, Any], name: str, password: str = PASSWORD, next_path: str = "/"
) -> Any:
    """Fetch the sign-in form (for its token and cookie) and post it, as a browser would."""
    form_page = await client.get("/login")
    token = _LOGIN_TOKEN.search(await form_page.text())
    assert token is not None
    return await client.post(
        "/login",
        data={"login_token": token.group(1), "name": name, "password": password, "next": next_path},
        allow_redirects=False,
    )


async def csrf_of(client: TestClient[Any, Any], path: str = "/") -> str:
    page = await client.get(path)
    match = _CSRF.search(await page.text())
    assert match is not None, "no CSRF token on the page"
    return match.group(1)


async def queue(
    db: Store,
    *,
    file: str = "File:Example 1.jpg",
    revision: int = 1000,
    user: str | None = "Editor",
    comment: str | None = "fix",
    timestamp: str = "2026-03-01T10:00:00Z",
    object_id: str | None = "EXM-1",
    source: str = "live",
    changes: list[FieldChange] | None = None,
    collection: str = DEFAULT_COLLECTION,
) -> list[int]:
    """Queue one edit's changes (in ``collection``); returns their ids."""
    changes = changes or [
        FieldChange("description", "changed", "old text", "new text", "Information", None, "en")
    ]
    provenance = Provenance(
        wiki="commonswiki", file=file, revision=revision, old_revision=revision - 1, timestamp=timestamp,
        user=user, comment=comment, object_id=object_id, source=source,  # type: ignore[arg-type]
        collection=collection,
    )  # fmt: skip
    async with db.transaction() as conn:
        await insert_changes(conn, provenance, changes)
    rows = await db.fetchall(
        "SELECT id FROM changes WHERE revision = ? AND collection = ? ORDER BY id", (revision, collection)
    )
    return [int(r[0]) for r in rows]
