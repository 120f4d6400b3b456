"""Records per collection (issue 19): one edit of a file in two collections queues its changes once
per collection, each with that collection's object id; reverts settle within a collection; the
filter selects by collection; rows from before collections existed are the collection ``default``."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from watcher.diff.model import FieldChange
from watcher.pipeline.queueing import queue_changes
from watcher.store import Database
from watcher.store.queue import ChangeFilter, Provenance, list_changes, unique_key
from watcher.store.schema import MIGRATIONS

FILE = "File:Armour - LSH 1.jpg"


def provenance(revision: int, collection: str, object_id: str, user: str = "Alice") -> Provenance:
    return Provenance(
        wiki="commonswiki", file=FILE, revision=revision, old_revision=revision - 1,
        timestamp=f"2026-03-01T10:{revision % 60:02d}:00Z", user=user, comment="",
        object_id=object_id, collection=collection,
    )  # fmt: skip


def date(old: str, new: str) -> FieldChange:
    return FieldChange("date", "changed", old, new, "Information")


async def queue(db: Database, p: Provenance, *changes: FieldChange) -> None:
    async with db.transaction() as conn:
        await queue_changes(conn, p, changes)


async def test_one_edit_of_a_shared_file_is_queued_once_per_collection(db: Database) -> None:
    await queue(db, provenance(11, "hallwyl", "HWY 1"), date("1600", "1601"))
    await queue(db, provenance(11, "armoury", "LRK 1"), date("1600", "1601"))
    await queue(db, provenance(11, "armoury", "LRK 1"), date("1600", "1601"))  # a repeat: nothing new
    every = await list_changes(db, ChangeFilter(status="all"))
    assert sorted((r.collection, r.object_id) for r in every) == [("armoury", "LRK 1"), ("hallwyl", "HWY 1")]
    hallwyl = await list_changes(db, ChangeFilter(status="all", collections=["hallwyl"]))
    assert [(r.collection, r.object_id) for r in hallwyl] == [("hallwyl", "HWY 1")]
    assert await list_changes(db, ChangeFilter(status="all", collections=[])) == []
    assert all(r.as_contract()["collection"] == r.collection for r in every)


async def test_a_revert_withdraws_within_each_collection_that_queued_it(db: Database) -> None:
    for collection, object_id in (("hallwyl", "HWY 1"), ("armoury", "LRK 1")):
        await queue(db, provenance(21, collection, object_id, "Vandal"), date("1600", "1999"))
    # The revert reaches only the armoury so far (the worker queues per collection, one at a time).
    await queue(db, provenance(22, "armoury", "LRK 1", "Patroller"), date("1999", "1600"))
    rows = {r.collection: r for r in await list_changes(db, ChangeFilter(status="all"))}
    assert rows["armoury"].status == "withdrawn" and rows["armoury"].reverted_by == 22
    assert rows["hallwyl"].status == "pending" and rows["hallwyl"].reverted_by is None
    await queue(db, provenance(22, "hallwyl", "HWY 1", "Patroller"), date("1999", "1600"))
    withdrawn = await list_changes(db, ChangeFilter(status="withdrawn"))
    assert sorted(r.collection for r in withdrawn) == ["armoury", "hallwyl"]
    assert {r.reverted_by_user for r in withdrawn} == {"Patroller"}


def test_the_default_collection_keeps_the_keys_it_had() -> None:
    change = date("1600", "1601")
    assert unique_key("commonswiki", 5, change) == unique_key("commonswiki", 5, change, "default")
    assert unique_key("commonswiki", 5, change, "hallwyl") != unique_key("commonswiki", 5, change)


async def test_rows_from_before_collections_are_the_default_collection(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as conn:
        for step in MIGRATIONS[:10]:
            for statement in step:
                await conn.execute(statement)
        await conn.execute(f"PRAGMA user_version = {10}")
        await conn.execute(
            """INSERT INTO changes (wiki, file, revision, timestamp, field, action, kind, queued_at,
                   unique_key) VALUES ('commonswiki', ?, 1, '2026-01-01T00:00:00Z', 'date', 'changed',
                   'content', '2026-01-01T00:00:00Z', 'k1')""",
            (FILE,),
        )
        await conn.commit()
    db = await Database.connect(path)
    try:
        (record,) = await list_changes(db, ChangeFilter(status="all"))
        assert record.collection == "default"
    finally:
        await db.close()
