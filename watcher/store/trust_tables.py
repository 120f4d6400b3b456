"""Reverts and later edits (a migration step of watcher.store.schema): what Commons undid or changed again.

``reverted_by`` is the revision of the later edit that put a change's field back to its value before
(a pending change is then withdrawn); ``superseded_by`` the revision of the later edit that changed
the field again to a third value. ``reverting_changes`` keeps the changes of edits that undid queued
ones: they make no record in the queue, but whatever order edits are met in, what is known about a
field is the same set of changes (:mod:`watcher.pipeline.queueing`), so each is kept here, as the
queue row it would have been (``row``, JSON), to be queued after all should a later look at the
field find that it undid nothing. The index serves the look-up of one field's changes in both.

A queued change found later to be such an undoing change leaves the queue. So that its id is never
given to another change (alert cursors, links in sent messages and open pages name changes by id),
``state.changes_id_floor`` keeps the highest id that left, and a change inserted at or below it is
moved above it at once (SQLite reuses the highest id of a table whose last row was deleted).
"""

from __future__ import annotations

ID_FLOOR_KEY = "changes_id_floor"  # in `state`: the highest id of a change that left the queue

TRUST_COLUMNS: tuple[str, ...] = (
    "ALTER TABLE changes ADD COLUMN reverted_by INTEGER",
    "ALTER TABLE changes ADD COLUMN superseded_by INTEGER",
    "CREATE INDEX changes_field_identity ON changes(wiki, file, field, template, property, language)",
    """CREATE TABLE reverting_changes (
        id INTEGER PRIMARY KEY,
        wiki TEXT NOT NULL,
        file TEXT NOT NULL,
        field TEXT NOT NULL,
        template TEXT,
        property TEXT,
        language TEXT,
        revision INTEGER NOT NULL,
        unique_key TEXT NOT NULL UNIQUE,
        row TEXT NOT NULL
    )""",
    "CREATE INDEX reverting_changes_field ON reverting_changes(wiki, file, field, template, property, language)",
    f"""CREATE TRIGGER changes_fresh_ids AFTER INSERT ON changes
        WHEN NEW.id <= coalesce((SELECT CAST(value AS INTEGER) FROM state WHERE key = '{ID_FLOOR_KEY}'), 0)
        BEGIN
            UPDATE changes
            SET id = (SELECT CAST(value AS INTEGER) FROM state WHERE key = '{ID_FLOOR_KEY}') + 1
            WHERE id = NEW.id;
        END""",
)
