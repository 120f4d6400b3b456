"""Each tracked file's object id as last looked up (migration 7 of watcher.store.schema).

``object_id`` is what the first matching ``[[tracking.object_id]]`` rule read (NULL where none
matched), ``object_id_rule`` that rule as text (``template Artwork, param accession number``, or
``file name pattern …``: the rule itself, not its position, so that a reordered config cannot make an
old answer look like another rule's), ``object_id_revision`` the revision whose wikitext was read (NULL
where the file name alone decided) and ``object_id_checked_at`` when (NULL: never looked up). The
columns live on ``tracked_files``, so they follow a page move like the row does.
"""

from __future__ import annotations

TRACKED_OBJECT_ID_COLUMNS: tuple[str, ...] = (
    "ALTER TABLE tracked_files ADD COLUMN object_id TEXT",
    "ALTER TABLE tracked_files ADD COLUMN object_id_rule TEXT",
    "ALTER TABLE tracked_files ADD COLUMN object_id_revision INTEGER",
    "ALTER TABLE tracked_files ADD COLUMN object_id_checked_at TEXT",
)
