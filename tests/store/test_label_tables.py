"""Migration 10: the label cache per entity and language (the old cache carried over where it can be),
and the file thumbnails table with its reader for the review page."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from watcher.mediawiki.types import Thumbnail
from watcher.store import Database
from watcher.store.labels import cached_labels
from watcher.store.schema import MIGRATIONS
from watcher.store.thumbnails import store_thumbnails, thumbnails

LABEL_STEP = 10  # the migration that brings entity_labels and file_thumbnails


def database_before_label_step(path: Path) -> None:
    """A database as the watcher before migration 10 left it, with rows in the old `labels` cache."""
    with sqlite3.connect(path) as conn:
        for statements in MIGRATIONS[: LABEL_STEP - 1]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {LABEL_STEP - 1}")
        conn.executemany(
            "INSERT INTO labels (entity, languages, label, fetched_at) VALUES (?, ?, ?, ?)",
            [
                ("Q42", "en", "Douglas Adams", "2026-02-01T00:00:00Z"),
                ("Q1", "en", None, "2026-02-01T00:00:00Z"),  # no English label: known
                ("Q5", "sv|en", "människa", "2026-02-01T00:00:00Z"),  # which language? unknown: dropped
                ("Q7", "", "seven", "2026-02-01T00:00:00Z"),
            ],
        )


async def test_the_old_cache_is_carried_over_where_its_language_is_known(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    database_before_label_step(path)
    async with Database.open(path) as db:
        assert await db.user_version() >= LABEL_STEP
        rows = [tuple(r) for r in await db.fetchall("SELECT * FROM entity_labels ORDER BY entity")]
        assert rows == [
            ("Q1", "en", None, "2026-02-01T00:00:00Z"),
            ("Q42", "en", "Douglas Adams", "2026-02-01T00:00:00Z"),
        ]
        assert await cached_labels(db, ["Q42", "Q5", "Q1"], ["sv", "en"]) == {"Q42": "Douglas Adams"}
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "labels" not in tables and {"entity_labels", "file_thumbnails"} <= tables


async def test_thumbnails_are_stored_per_file_and_replaced_by_newer_ones(db: Database) -> None:
    first = Thumbnail(
        "File:A.jpg", "https://upload.wikimedia.org/wikipedia/commons/thumb/a/ab/A.jpg/240px-A.jpg", 240, 180
    )
    other = Thumbnail("File:B.png", "https://upload.wikimedia.org/wikipedia/commons/c/cd/B.png", None, None)
    assert await store_thumbnails(db, [first, other], now=datetime(2026, 3, 1, tzinfo=UTC)) == 2
    newer = Thumbnail("File:A.jpg", first.url.replace("240px", "239px"), 239, 179)  # a new upload
    assert await store_thumbnails(db, [newer]) == 1
    assert await thumbnails(db, ["File:A.jpg", "File:B.png", "File:None.jpg", "File:A.jpg"]) == {
        "File:A.jpg": newer.url,
        "File:B.png": other.url,
    }
    row = await db.fetchone(
        "SELECT width, height, fetched_at FROM file_thumbnails WHERE title = 'File:A.jpg'"
    )
    assert row is not None and (row[0], row[1]) == (239, 179) and row[2] > "2026-03-01T00:00:00Z"
    assert await store_thumbnails(db, []) == 0 and await thumbnails(db, []) == {}
    many = [f"File:{n}.jpg" for n in range(1200)]  # more titles than one statement takes
    assert await thumbnails(db, [*many, "File:B.png"]) == {"File:B.png": other.url}
