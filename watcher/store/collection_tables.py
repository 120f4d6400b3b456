"""Many collections in one deployment (a migration step of watcher.store.schema; issue 19).

Every change belongs to one collection (``changes.collection``, its ``[[collection]]`` name; rows from
before are ``default``, the name the ``[tracking]`` form has). A file in two collections gives its
records once per collection, so the collection is part of what makes a record unique
(:func:`watcher.store.queue.unique_key`) and of what "the same field" means when reverts are matched
(:mod:`watcher.pipeline.queueing`): the kept undoing changes carry it too.

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
)
