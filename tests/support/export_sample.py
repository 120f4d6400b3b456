"""Records for the wide layout and the import profiles, queued and reviewed through the real store.

``queue_edit`` queues one edit's changes with ``insert_changes``; ``review`` accepts or rejects them
with ``watcher.store.reviews.review``; ``records`` reads them back as the export reads them.
``TRICKY`` are the values a cell must survive: separators, quotes, line breaks, non-Latin scripts,
emoji, formula starters and the backslashes PHP's CSV reader treats as escapes.
"""

from __future__ import annotations

from watcher.base.values import Action, ReviewAction, StatusChoice
from watcher.diff.model import FieldChange
from watcher.store import reviews
from watcher.store.db import Database
from watcher.store.queue import ChangeFilter, ChangeRecord, Provenance, insert_changes, list_changes

TRICKY = {
    "separators": 'Stol; ek, "Gustaviansk"',
    "lines": "Rad ett\r\nrad två\nrad tre",
    "scripts": "Åsa Öberg målade ängen — Привет, мир · 中文 · 🎨🖼️",
    "formula": '=HYPERLINK("http://evil.example/","klicka")',
    "minus": "-2+3+cmd",
    "backslash end, quoted": "C:\\Bilder\\, mapp\\",
    "backslash quote": 'Han sa \\"hej\\" och gick, sedan \\\\"mer"',
    "backslash plain": "ends with a backslash\\",
    "padded": "  leading and trailing spaces kept  ",
}


async def queue_edit(
    db: Database,
    changes: list[FieldChange],
    *,
    revision: int,
    timestamp: str,
    object_id: str | None = "EXM-1",
    file: str = "File:Example museum object 1.jpg",
    user: str | None = "Editor",
) -> list[int]:
    """Queue one edit's changes; returns their queue ids."""
    provenance = Provenance(
        wiki="commonswiki", file=file, revision=revision, old_revision=revision - 1, timestamp=timestamp,
        user=user, comment="edit", object_id=object_id,
    )  # fmt: skip
    async with db.transaction() as conn:
        added = await insert_changes(conn, provenance, changes)
    assert added == len(changes), "each change is new"
    rows = await db.fetchall("SELECT id FROM changes WHERE revision = ? ORDER BY id", (revision,))
    return [int(r[0]) for r in rows]


async def review(
    db: Database, ids: list[int], action: ReviewAction = "accept", actor: str = "curator"
) -> None:
    outcome = await reviews.review(db, ids, action, actor=actor)
    assert sorted(outcome.found) == sorted(ids)


async def records(db: Database, status: StatusChoice = "accepted") -> list[ChangeRecord]:
    """The records an export of ``status`` (every kind) reads."""
    return await list_changes(db, ChangeFilter(status=status, kind="all"))


def desc(language: str | None, old: str | None, new: str | None) -> FieldChange:
    """A description change in one language (added, removed or changed, from old and new)."""
    action: Action = "added" if old is None else "removed" if new is None else "changed"
    return FieldChange("description", action, old, new, template="Information", language=language)


def category(action: Action, name: str) -> FieldChange:
    old, new = (None, name) if action == "added" else (name, None)
    return FieldChange("category", action, old, new)


def depicts(action: Action, item: str) -> FieldChange:
    old, new = (None, item) if action == "added" else (item, None)
    return FieldChange("statement", action, old, new, property="P180")


async def museum_sample(db: Database) -> dict[str, list[int]]:
    """A small accepted queue over two objects and a file without an object id, with tricky values."""
    ids: dict[str, list[int]] = {}
    ids["first"] = await queue_edit(
        db,
        [desc("sv", "gammal", TRICKY["separators"]), desc("en", None, TRICKY["scripts"]),
         category("added", "Chairs in Nordiska museet"), depicts("added", "Q15026")],
        revision=101, timestamp="2026-03-01T10:00:00Z", user="Åsa",
    )  # fmt: skip
    ids["second"] = await queue_edit(
        db,
        [desc(None, None, TRICKY["lines"]), FieldChange("date", "changed", "1780", "ca 1785", "Information"),
         category("added", "Gustavian furniture")],
        revision=102, timestamp="2026-03-02T10:00:00Z", user="Иван",
    )  # fmt: skip
    ids["third"] = await queue_edit(
        db,
        [FieldChange("title", "added", None, TRICKY["formula"], "Artwork"),
         FieldChange("medium", "added", None, TRICKY["minus"], "Artwork"),
         FieldChange("dimensions", "added", None, TRICKY["backslash end, quoted"], "Artwork")],
        revision=201, timestamp="2026-03-03T10:00:00Z", object_id="EXM-2",
        file="File:Example museum object 2.jpg", user="🦊 Fox",
    )  # fmt: skip
    ids["fourth"] = await queue_edit(
        db,
        [desc("sv", None, TRICKY["backslash quote"]), desc("fi", None, TRICKY["backslash plain"]),
         FieldChange("source", "added", None, TRICKY["padded"], "Information")],
        revision=301, timestamp="2026-03-04T10:00:00Z", object_id=None, file="File:Unnumbered; a photo.jpg",
    )  # fmt: skip
    for group in ids.values():
        await review(db, group)
    return ids
