"""Helpers of the trust tests: editor facts as list=users gives them, records and queued changes with them."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from watcher.base.tags import tool_words
from watcher.diff.model import FieldChange
from watcher.store import Database, iso_utc
from watcher.store.queue import ChangeRecord, Provenance, insert_changes

_revisions = itertools.count(7_000_000)


def facts(
    registered: str | None = "2020-01-01T00:00:00Z",
    edits: int | None = 500,
    groups: tuple[str, ...] = ("user", "autoconfirmed"),
    *,
    blocked_since: str | None = None,
    partial: bool = False,
) -> dict[str, Any]:
    """An ``editor`` object as the worker stores it (watcher.mediawiki.accounts.Account.as_json)."""
    return {
        "registered": registered, "edits": edits, "groups": list(groups), "blocked": blocked_since is not None,
        "blocked_since": blocked_since, "block_expiry": "infinite" if blocked_since else None,
        "block_partial": partial,
    }  # fmt: skip


NEWBIE = facts("2026-02-27T09:00:00Z", 12)  # three days old at EDIT_TIME
VETERAN = facts("2011-05-04T12:00:00Z", 45_000)
EDIT_TIME = "2026-03-02T10:00:00Z"


def record(**extra: Any) -> ChangeRecord:
    """A change record (no database) with the given fields."""
    values: dict[str, Any] = {
        "id": 1, "wiki": "commonswiki", "file": "File:Vase.jpg", "object_id": "EXM-1", "revision": 1001,
        "old_revision": 1000, "timestamp": EDIT_TIME, "user": "Alice", "comment": "c", "field": "description",
        "template": "Information", "property": None, "language": "en", "action": "changed",
        "kind": "content", "old": "a", "new": "b", "status": "pending", "source": "live",
        "queued_at": EDIT_TIME, "reviewer": None, "reviewed_at": None, "note": None, "exported_at": None,
        "detail": None,
    }  # fmt: skip
    values.update(extra)
    return ChangeRecord(**values)


async def add_trusted_change(
    db: Database,
    *,
    user: str = "Alice",
    editor: dict[str, Any] | None = None,
    tags: tuple[str, ...] = (),
    file: str = "File:Vase.jpg",
    new: str = "new text",
    timestamp: str = EDIT_TIME,
    queued_at: datetime | None = None,
) -> int:
    """Queue one change record with its editor facts and tags, as the worker queues it; returns its id."""
    revision = next(_revisions)
    provenance = Provenance(
        wiki="commonswiki", file=file, revision=revision, old_revision=revision - 1, timestamp=timestamp,
        user=user, comment="edit", object_id="EXM-1", tags=tags, editor=editor,
        tools=tuple(tool_words(tags)),
    )  # fmt: skip
    change = FieldChange("description", "changed", "old text", new, template="Information", language="en")
    async with db.transaction() as conn:
        await insert_changes(conn, provenance, [change])
        cursor = await conn.execute("SELECT max(id) FROM changes")
        row = await cursor.fetchone()
        assert row is not None
        if queued_at is not None:
            await conn.execute("UPDATE changes SET queued_at = ? WHERE id = ?", (iso_utc(queued_at), row[0]))
    return int(row[0])
