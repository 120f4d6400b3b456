"""Many collections in one deployment (a migration step of watcher.store.schema; issue 19).

Every change belongs to one collection (``changes.collection``, its ``[[collection]]`` name; rows from
before are ``default``, the name the ``[tracking]`` form has). A file in two collections gives its
records once per collection, so the collection is part of what makes a record unique
(:func:`watcher.store.queue.unique_key`) and of what "the same field" means when reverts are matched
(:mod:`watcher.pipeline.queueing`): the kept undoing changes carry it too.

The tracked set is one for the deployment (one row per file in ``tracked_files``, so one stream match
and one revision fetch serve every collection), and *why* a file is tracked is per collection: each
``tracked_reasons`` row and each expanded category (``tracked_categories``) names the collection whose
source it is. A file is a collection's while it has a reason of that collection. The object id, read
by each collection's own rules, moves to ``tracked_object_ids`` (one row per file and collection;
the old columns of ``tracked_files`` are copied over as ``default`` and no longer read). The two
tables are rebuilt, as SQLite changes a primary key no other way.

``web_user_collections`` limits a review-page account to collections: an account with no rows sees
every collection (as every account did before), one with rows sees only those.
"""

from __future__ import annotations

COLLECTION_TABLES: tuple[str, ...] = (
    "ALTER TABLE changes ADD COLUMN collection TEXT NOT NULL DEFAULT 'default'",
    "CREATE INDEX changes_collection ON changes(collection, status, kind, timestamp)",
    "ALTER TABLE reverting_changes ADD COLUMN collection TEXT NOT NULL DEFAULT 'default'",
    """CREATE TABLE web_user_collections (
        user TEXT NOT NULL COLLATE NOCASE
            REFERENCES web_users(name) ON UPDATE CASCADE ON DELETE CASCADE,
        collection TEXT NOT NULL,
        PRIMARY KEY (user, collection)
    )""",
    """CREATE TABLE tracked_reasons_by_collection (
        title TEXT NOT NULL REFERENCES tracked_files(title) ON UPDATE CASCADE ON DELETE CASCADE,
        source TEXT NOT NULL,
        detail TEXT NOT NULL,
        collection TEXT NOT NULL DEFAULT 'default',
        added_at TEXT NOT NULL,
        PRIMARY KEY (title, source, detail, collection)
    )""",
    "INSERT INTO tracked_reasons_by_collection (title, source, detail, added_at) "
    "SELECT title, source, detail, added_at FROM tracked_reasons",
    "DROP TABLE tracked_reasons",
    "ALTER TABLE tracked_reasons_by_collection RENAME TO tracked_reasons",
    "CREATE INDEX tracked_reasons_source ON tracked_reasons(source, detail, collection)",
    """CREATE TABLE tracked_categories_by_collection (
        title TEXT NOT NULL,
        root TEXT NOT NULL,
        depth INTEGER NOT NULL,
        collection TEXT NOT NULL DEFAULT 'default',
        PRIMARY KEY (title, collection)
    )""",
    "INSERT INTO tracked_categories_by_collection (title, root, depth) "
    "SELECT title, root, depth FROM tracked_categories",
    "DROP TABLE tracked_categories",
    "ALTER TABLE tracked_categories_by_collection RENAME TO tracked_categories",
    """CREATE TABLE tracked_object_ids (
        title TEXT NOT NULL REFERENCES tracked_files(title) ON UPDATE CASCADE ON DELETE CASCADE,
        collection TEXT NOT NULL,
        object_id TEXT,
        object_id_rule TEXT,
        object_id_revision INTEGER,
        object_id_checked_at TEXT NOT NULL,
        PRIMARY KEY (title, collection)
    )""",
    "INSERT INTO tracked_object_ids (title, collection, object_id, object_id_rule, object_id_revision, "
    "object_id_checked_at) SELECT title, 'default', object_id, object_id_rule, object_id_revision, "
    "object_id_checked_at FROM tracked_files WHERE object_id_checked_at IS NOT NULL",
)


# 12: the agency overview (watcher.export.overview) reads each collection's month by edit time and its
# last export; these keep it to index ranges however many changes the store holds. A source two
# collections track is listed once a resolution and copied from the first collection's reasons a page
# at a time in title order (watcher.store.tracked.source_files): the reasons' index takes the title.
OVERVIEW_INDEXES: tuple[str, ...] = (
    "CREATE INDEX tracked_reasons_listing ON tracked_reasons(source, detail, collection, title)",
    "DROP INDEX tracked_reasons_source",
    "CREATE INDEX changes_collection_time ON changes(collection, timestamp)",
    "CREATE INDEX changes_collection_exported ON changes(collection, exported_at) WHERE exported_at IS NOT NULL",
    "CREATE INDEX changes_collection_retracted ON changes(collection, retracted_at) WHERE retracted_at IS NOT NULL",
    "CREATE INDEX changes_collection_reviewed ON changes(collection, reviewed_at) WHERE reviewed_at IS NOT NULL",
)
