"""Who made each change (a migration step of watcher.store.schema): tags, editor facts, their caches.

``changes`` gains three JSON columns, filled when a record is queued and never rewritten: ``tags``
(the revision's change tags, a list), ``editor`` (the account's registration, edit count, groups and
block, as ``list=users`` gave them then; NULL for IP addresses and temporary accounts, and for records
queued before this step) and ``tools`` (the tags in words: "mobile edit", "CropTool").

``editors`` caches ``list=users`` answers by name for a day, so that an editor's hundredth edit costs
no request; ``facts`` is NULL where the wiki has no such account. ``change_tags`` keeps the wiki's tag
descriptions (``list=tags``), which name the tools behind ``OAuth CID: N`` tags.
"""

from __future__ import annotations

PROVENANCE_TABLES: tuple[str, ...] = (
    "ALTER TABLE changes ADD COLUMN tags TEXT",
    "ALTER TABLE changes ADD COLUMN editor TEXT",
    "ALTER TABLE changes ADD COLUMN tools TEXT",
    """CREATE TABLE editors (
        name TEXT PRIMARY KEY,
        facts TEXT,
        fetched_at TEXT NOT NULL
    )""",
    """CREATE TABLE change_tags (
        tag TEXT PRIMARY KEY,
        description TEXT NOT NULL,
        fetched_at TEXT NOT NULL
    )""",
)
