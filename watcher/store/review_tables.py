"""Review history (a migration step of watcher.store.schema): every decision kept, and `withdrawn`.

The ``changes`` table is rebuilt (SQLite cannot alter a CHECK constraint) so that its status may be
``withdrawn``; its rows, ids and indexes are carried over unchanged. ``review_events`` keeps every
accept, reject, reopen, note, undo and withdrawal with who, when and the note; ``changes`` keeps the
latest decision's reviewer, time and note as before, for listing without a join. Decisions made before
this step become one event each, so no change's history starts empty where a curator had decided.
"""

from __future__ import annotations

from watcher.base.values import REVIEW_ACTIONS, STATUSES


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


_CHANGE_COLUMNS = (
    "id, wiki, file, object_id, revision, old_revision, timestamp, user, comment, field, template, "
    "property, language, action, kind, old, new, detail, status, source, queued_at, reviewer, "
    "reviewed_at, note, exported_at, unique_key"
)

REVIEW_TABLES: tuple[str, ...] = (
    f"""CREATE TABLE changes_rebuilt (
        id INTEGER PRIMARY KEY,
        wiki TEXT NOT NULL,
        file TEXT NOT NULL,
        object_id TEXT,
        revision INTEGER NOT NULL,
        old_revision INTEGER,
        timestamp TEXT NOT NULL,
        user TEXT,
        comment TEXT,
        field TEXT NOT NULL,
        template TEXT,
        property TEXT,
        language TEXT,
        action TEXT NOT NULL CHECK (action IN ('added', 'removed', 'changed', 'tagged')),
        kind TEXT NOT NULL CHECK (kind IN ('content', 'maintenance')),
        old TEXT,
        new TEXT,
        detail TEXT,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ({_sql_list(STATUSES)})),
        source TEXT NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'history')),
        queued_at TEXT NOT NULL,
        reviewer TEXT,
        reviewed_at TEXT,
        note TEXT,
        exported_at TEXT,
        unique_key TEXT NOT NULL UNIQUE
    )""",
    f"INSERT INTO changes_rebuilt ({_CHANGE_COLUMNS}) SELECT {_CHANGE_COLUMNS} FROM changes",
    "DROP TABLE changes",
    "ALTER TABLE changes_rebuilt RENAME TO changes",
    "CREATE INDEX changes_status ON changes(status, kind, timestamp)",
    "CREATE INDEX changes_file ON changes(file)",
    "CREATE INDEX changes_object ON changes(object_id)",
    "CREATE INDEX changes_revision ON changes(wiki, revision)",
    "CREATE INDEX changes_queued ON changes(queued_at)",
    "CREATE INDEX web_changes_field ON changes(field, status, kind)",
    "CREATE INDEX web_changes_language ON changes(language, status, kind)",
    "CREATE INDEX web_changes_user ON changes(user, status, kind)",
    "CREATE INDEX web_changes_status_file ON changes(status, kind, file, timestamp)",
    "CREATE INDEX web_changes_export ON changes(status, exported_at)",
    # One row per review event. `status_before`/`status_after` make an undo exact and let the page
    # say "accepted, then rejected"; `exported_at` is when the collection system had been sent the
    # change at the time of the event (a changed decision it must hear about).
    f"""CREATE TABLE review_events (
        id INTEGER PRIMARY KEY,
        change_id INTEGER NOT NULL REFERENCES changes(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        actor TEXT,
        action TEXT NOT NULL CHECK (action IN ({_sql_list(REVIEW_ACTIONS)})),
        status_before TEXT NOT NULL,
        status_after TEXT NOT NULL,
        note TEXT,
        exported_at TEXT,
        revision INTEGER
    )""",
    "CREATE INDEX review_events_change ON review_events(change_id, id)",
    """INSERT INTO review_events (change_id, at, actor, action, status_before, status_after, note,
            exported_at)
        SELECT id, reviewed_at, reviewer, CASE status WHEN 'accepted' THEN 'accept' ELSE 'reject' END,
            'pending', status, note, exported_at
        FROM changes WHERE reviewed_at IS NOT NULL AND status IN ('accepted', 'rejected')""",
)


# 6: retractions. A change the collection system was sent and whose decision then moved away from
# "accepted" is due for a retraction row in the next routine export. Writing it clears `exported_at`
# (the system no longer has the change: accepted again, it is exported again) and keeps when, and
# which export it retracted, so a download that never reached its end can take the retraction back.
RETRACTION_COLUMNS: tuple[str, ...] = (
    "ALTER TABLE changes ADD COLUMN retracted_at TEXT",
    "ALTER TABLE changes ADD COLUMN retracted_export TEXT",
    # Before this step a "show me everything" export marked pending changes too (issue 12). An
    # undecided change was never sent as accepted: its mark is that bug's, not a retraction due. A
    # rejected one keeps its mark (it may have been sent while accepted): at worst the collection
    # system is told once to take back what it never had.
    "UPDATE changes SET exported_at = NULL WHERE status = 'pending' AND reviewer IS NULL",
)
