"""The tracked set per collection (issue 19): one row per file, the reasons, expanded categories and
object ids of each collection apart; a database from before collections keeps its tracked set as the
collection ``default``."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from watcher.store import Database
from watcher.store import tracked as store
from watcher.store.schema import MIGRATIONS
from watcher.store.tracked import ObjectIdLookup

SHARED = "File:Helmet - LSH 1.jpg"
ALONE = "File:Chair - LSH 2.jpg"


async def active(db: Database) -> set[str]:
    return {r[0] for r in await db.fetchall("SELECT title FROM tracked_files WHERE state = 'active'")}


async def test_a_file_in_two_collections_is_one_file_with_reasons_of_each(db: Database) -> None:
    async with db.transaction() as conn:
        assert await store.add_file(conn, SHARED, "category", "Category:Hallwyl", collection="hallwyl")
        assert not await store.add_file(conn, SHARED, "uploader", "LSH upload", collection="armoury")
        await store.add_files(conn, [(ALONE, 7)], "uploader", "LSH upload", collection="armoury")
        assert await store.collections_of(conn, SHARED) == ["armoury", "hallwyl"]
        assert await store.collections_of(conn, ALONE) == ["armoury"]
    assert (await store.count_files(db))["active"] == 2
    assert await store.collection_file_count(db, "armoury") == 2
    assert await store.collection_file_count(db, "hallwyl") == 1

    # A full resolution of the armoury's uploader no longer listing the shared file: it stays tracked,
    # now the Hallwyl's only.
    async with db.transaction() as conn:
        left = await store.replace_reasons(conn, "uploader", "LSH upload", {ALONE}, "armoury")
        assert left == [] and await store.collections_of(conn, SHARED) == ["hallwyl"]
        # Leaving the category (a stream event: every collection's reason for it goes).
        assert await store.remove_reason(conn, SHARED, "category", "Category:Hallwyl")
    assert await active(db) == {ALONE}


async def test_categories_and_object_ids_are_per_collection(db: Database) -> None:
    async with db.transaction() as conn:
        await store.add_file(conn, SHARED, "category", "Category:Arms", collection="hallwyl")
        await store.add_file(conn, SHARED, "category", "Category:Arms", collection="armoury")
        await store.set_categories(conn, "Category:Arms", [("Category:Arms", "Category:Arms", 0)], "hallwyl")
        await store.set_categories(
            conn, "Category:Armour", [("Category:Armour", "Category:Armour", 0), ("Category:Arms", "Category:Armour", 1)],
            "armoury",
        )  # fmt: skip
        assert await store.category_roots(conn, "Category:Arms") == [
            ("armoury", "Category:Armour"), ("hallwyl", "Category:Arms"),
        ]  # fmt: skip
        await store.set_object_ids(
            conn, [ObjectIdLookup(SHARED, "HWY 1", "r", 10, "hallwyl"), ObjectIdLookup(SHARED, "1", "p", None, "armoury")]
        )  # fmt: skip
    assert sorted(await store.categories(db)) == ["Category:Armour", "Category:Arms"]
    listed = await store.tracked_files(db)
    assert [(f.collection, f.object_id) for f in listed] == [("armoury", "1"), ("hallwyl", "HWY 1")]
    (hallwyl,) = await store.tracked_files(db, collection="hallwyl")
    assert hallwyl.reasons == (("category", "Category:Arms"),) and hallwyl.object_id_revision == 10
    summary = await store.tracked_summary(db, "armoury")
    assert summary.files == 1 and summary.with_object_id == 1 and summary.by_rule == {"p": 1}
    assert (await store.tracked_summary(db)).with_object_id == 2

    # A move takes every collection's reasons and object ids along.
    async with db.transaction() as conn:
        await store.rename_file(conn, SHARED, "File:Helmet (LSH 1).jpg")
    assert [(f.title, f.collection) for f in await store.tracked_files(db)] == [
        ("File:Helmet (LSH 1).jpg", "armoury"), ("File:Helmet (LSH 1).jpg", "hallwyl"),
    ]  # fmt: skip

    # A collection taken out of the config: its reasons, categories and object ids go; a file no other
    # collection holds leaves the tracked set.
    async with db.transaction() as conn:
        await store.add_file(conn, ALONE, "uploader", "LSH upload", collection="armoury")
        left = await store.drop_other_collections(conn, ["hallwyl"])
    assert left == [ALONE]
    assert [(f.title, f.collection) for f in await store.tracked_files(db)] == [
        ("File:Helmet (LSH 1).jpg", "hallwyl")
    ]
    assert await store.categories(db) == ["Category:Arms"]


async def test_a_tracked_set_from_before_collections_is_the_default_collection(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as conn:
        for step in MIGRATIONS[:10]:
            for statement in step:
                await conn.execute(statement)
        await conn.execute("PRAGMA user_version = 10")
        now = "2026-01-01T00:00:00Z"
        await conn.execute(
            "INSERT INTO tracked_files (title, state, added_at, updated_at, object_id, object_id_rule, "
            "object_id_checked_at) VALUES (?, 'active', ?, ?, 'EXM 1', 'rule', ?)",
            (SHARED, now, now, now),
        )
        await conn.execute(
            "INSERT INTO tracked_reasons (title, source, detail, added_at) VALUES (?, 'category', 'Category:X', ?)",
            (SHARED, now),
        )
        await conn.execute(
            "INSERT INTO tracked_categories (title, root, depth) VALUES ('Category:X', 'Category:X', 0)"
        )
        await conn.commit()
    db = await Database.connect(path)
    try:
        (file,) = await store.tracked_files(db)
        assert (file.collection, file.reasons, file.object_id) == (
            "default",
            (("category", "Category:X"),),
            "EXM 1",
        )
        async with db.transaction() as conn:
            assert await store.category_roots(conn, "Category:X") == [("default", "Category:X")]
    finally:
        await db.close()
