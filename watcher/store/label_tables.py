"""Tables of Wikidata labels and file thumbnails (issue 15); a migration step of watcher.store.schema.

``entity_labels`` replaces the first schema's ``labels`` cache, which was keyed by the entity and the
configured languages joined (``sv|en``) and held one label of whichever language had one: a row per
entity and language instead, so that the review page can show any of the ``[labels] languages`` and a
change of that list costs no lost labels. Rows of a single-language key are carried over (their
language is known); the others are dropped, as the cache they are: the labels task fetches them again.
A row with ``label`` NULL records that the entity has no label in that language (or no longer exists),
so that it is not asked for again until the row expires.

``file_thumbnails``: each tracked file's thumbnail as ``prop=imageinfo`` gave it, fetched in the same
request as the revisions of an edit (``watcher.mediawiki.client.ActionApi.revisions``).
"""

from __future__ import annotations

LABEL_TABLES: tuple[str, ...] = (
    """CREATE TABLE entity_labels (
        entity TEXT NOT NULL,
        language TEXT NOT NULL,
        label TEXT,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (entity, language)
    ) WITHOUT ROWID""",
    "CREATE INDEX entity_labels_fetched ON entity_labels(fetched_at)",
    """INSERT INTO entity_labels (entity, language, label, fetched_at)
        SELECT entity, languages, label, fetched_at FROM labels
        WHERE languages <> '' AND instr(languages, '|') = 0""",
    "DROP TABLE labels",
    """CREATE TABLE file_thumbnails (
        title TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        width INTEGER,
        height INTEGER,
        fetched_at TEXT NOT NULL
    )""",
)
