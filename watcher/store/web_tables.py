"""Tables of the review page (reviewers, sessions); a migration step of watcher.store.schema."""

from __future__ import annotations

WEB_TABLES: tuple[str, ...] = (
    # Reviewers who may sign in. Names compare without case so that "Anna" and "anna" are one person.
    """CREATE TABLE web_users (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'reviewer' CHECK (role IN ('reviewer', 'readonly')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    # Server-side sessions. Only a SHA-256 of the cookie's token is kept, so a copy of the database
    # does not let anyone sign in; `csrf_token` is the synchronizer token of the session's forms.
    """CREATE TABLE web_sessions (
        token_hash TEXT PRIMARY KEY,
        user TEXT NOT NULL REFERENCES web_users(name) ON UPDATE CASCADE ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        flash TEXT
    )""",
    "CREATE INDEX web_sessions_user ON web_sessions(user)",
    # The queue's filters: distinct-value lists for the filter form and equality filters on each.
    "CREATE INDEX web_changes_field ON changes(field, status, kind)",
    "CREATE INDEX web_changes_language ON changes(language, status, kind)",
    "CREATE INDEX web_changes_user ON changes(user, status, kind)",
    "CREATE INDEX web_changes_status_file ON changes(status, kind, file, timestamp)",
    "CREATE INDEX web_changes_export ON changes(status, exported_at)",
)
