"""The database schema, as numbered migrations applied under ``PRAGMA user_version``.

Each step runs inside one ``BEGIN IMMEDIATE`` transaction together with the ``user_version`` bump,
so a crash mid-migration leaves the previous version intact. Append steps; never edit a released one.
"""

from __future__ import annotations

from watcher.store.collection_tables import COLLECTION_TABLES, OVERVIEW_INDEXES
from watcher.store.history_tables import HISTORY_TABLES
from watcher.store.label_tables import LABEL_TABLES
from watcher.store.notify_tables import NOTIFY_TABLES
from watcher.store.provenance_tables import PROVENANCE_TABLES
from watcher.store.review_tables import RETRACTION_COLUMNS, REVIEW_TABLES
from watcher.store.tally_tables import TALLY_TABLES
from watcher.store.tracked_tables import TRACKED_OBJECT_ID_COLUMNS
from watcher.store.trust_tables import TRUST_COLUMNS
from watcher.store.web_tables import WEB_TABLES

MIGRATIONS: list[tuple[str, ...]] = [
    # 1: the spine — state, tracked set, inbox of stream work, the change queue, notify and web tables.
    (
        """CREATE TABLE state (
            key TEXT PRIMARY KEY,
            value TEXT
        )""",
        """CREATE TABLE counters (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL DEFAULT 0
        )""",
        # One row per tracked file; `title` is the current title. Deleted files stay (state 'deleted')
        # so that an undeletion finds them again, and so do files that left the tracked set ('left').
        """CREATE TABLE tracked_files (
            title TEXT PRIMARY KEY,
            pageid INTEGER,
            state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'deleted', 'left')),
            added_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX tracked_files_pageid ON tracked_files(pageid)",
        # Why each file is tracked: one row per (source, detail), e.g. ('category', 'Category:X').
        """CREATE TABLE tracked_reasons (
            title TEXT NOT NULL REFERENCES tracked_files(title) ON UPDATE CASCADE ON DELETE CASCADE,
            source TEXT NOT NULL,
            detail TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (title, source, detail)
        )""",
        # The tracked categories after expanding category_depth, with the configured root they came from.
        """CREATE TABLE tracked_categories (
            title TEXT PRIMARY KEY,
            root TEXT NOT NULL,
            depth INTEGER NOT NULL
        )""",
        # Stream events that need the Action API (edits, new file versions, unresolved categorisations).
        # They are stored in the same transaction that advances the stream cursor, so the cursor never
        # runs ahead of work that is not durable. `event_key` (meta.id) makes a repeated delivery a no-op;
        # done rows are kept for a while for exactly that reason.
        """CREATE TABLE inbox (
            id INTEGER PRIMARY KEY,
            event_key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            event TEXT NOT NULL,
            received_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_error TEXT,
            done_at TEXT
        )""",
        "CREATE INDEX inbox_pending ON inbox(state, next_attempt_at, id)",
        """CREATE TABLE changes (
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
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
            source TEXT NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'history')),
            queued_at TEXT NOT NULL,
            reviewer TEXT,
            reviewed_at TEXT,
            note TEXT,
            exported_at TEXT,
            unique_key TEXT NOT NULL UNIQUE
        )""",
        "CREATE INDEX changes_status ON changes(status, kind, timestamp)",
        "CREATE INDEX changes_file ON changes(file)",
        "CREATE INDEX changes_object ON changes(object_id)",
        "CREATE INDEX changes_revision ON changes(wiki, revision)",
        "CREATE INDEX changes_queued ON changes(queued_at)",
        # The time of the last categorisation event applied per file and category: the job queue
        # delivers them out of order, and an older one must not undo a newer one.
        """CREATE TABLE categorisations (
            title TEXT NOT NULL,
            category TEXT NOT NULL,
            at TEXT NOT NULL,
            added INTEGER NOT NULL,
            PRIMARY KEY (title, category)
        )""",
        # Wikidata labels of Q-ids, cached.
        """CREATE TABLE labels (
            entity TEXT NOT NULL,
            languages TEXT NOT NULL,
            label TEXT,
            fetched_at TEXT NOT NULL,
            PRIMARY KEY (entity, languages)
        )""",
    ),
    # 2: notifications (outbox, digest ledger).
    NOTIFY_TABLES,
    # 3: the review page (reviewers, sessions).
    WEB_TABLES,
    # 4: `watcher history` (runs, per-file progress).
    HISTORY_TABLES,
    # 5: review history (every decision an event) and the `withdrawn` status.
    REVIEW_TABLES,
    # 6: retractions of exported changes whose decision changed.
    RETRACTION_COLUMNS,
    # 7: each tracked file's object id as `watcher tracked` last looked it up, and by which rule.
    TRACKED_OBJECT_ID_COLUMNS,
    # 8: who made each change: tags, editor facts and tools on changes; the editor and tag caches.
    PROVENANCE_TABLES,
    # 9: reverts and later edits: reverted_by, superseded_by, and the changes of edits that undid others.
    TRUST_COLUMNS,
    # 10: Wikidata labels per entity and language (replacing the `labels` cache), file thumbnails.
    LABEL_TABLES,
    # 11: many collections: each change's collection (records per collection), accounts limited to some.
    COLLECTION_TABLES,
    # 12: the agency overview's indexes (each collection's month, its last export).
    OVERVIEW_INDEXES,
    # 13: the change tallies (the review page's status tabs, page count and filter choices), kept by triggers.
    TALLY_TABLES,
]

SCHEMA_VERSION = len(MIGRATIONS)
