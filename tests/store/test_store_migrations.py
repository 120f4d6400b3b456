"""Opening and migrating the database: versions, refusals in plain words, WAL and synchronous=FULL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from watcher.store import Database, DatabaseError
from watcher.store import db as store_db
from watcher.store.schema import MIGRATIONS, SCHEMA_VERSION

SPINE_TABLES = {
    "state",
    "counters",
    "tracked_files",
    "tracked_reasons",
    "tracked_categories",
    "inbox",
    "changes",
}


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


async def test_a_fresh_database_reaches_the_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "w.sqlite3"  # folders are created
    async with Database.open(path) as db:
        assert await db.user_version() == SCHEMA_VERSION == len(MIGRATIONS)
    assert user_version(path) == SCHEMA_VERSION
    assert tables(path) >= SPINE_TABLES


async def test_reopening_is_a_no_op_that_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path) as db:
        await db.write("INSERT INTO state (key, value) VALUES ('k', 'v')")
    with sqlite3.connect(path) as conn:
        schema_before = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    for _ in range(2):
        async with Database.open(path) as db:
            assert await db.user_version() == SCHEMA_VERSION
            await db.migrate()
            assert await db.scalar("SELECT value FROM state WHERE key = 'k'") == "v"
    with sqlite3.connect(path) as conn:
        assert (
            conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
            == schema_before
        )


async def test_an_older_database_is_migrated_step_by_step(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    with sqlite3.connect(path) as conn:
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("INSERT INTO state (key, value) VALUES ('last_event_id', 'kept')")
        conn.execute("PRAGMA user_version = 1")
    async with Database.open(path) as db:
        assert await db.user_version() == SCHEMA_VERSION
        assert await db.scalar("SELECT value FROM state WHERE key = 'last_event_id'") == "kept"


async def test_without_migrate_an_old_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    sqlite3.connect(path).close()
    with pytest.raises(DatabaseError, match=f"schema version 0, this watcher needs {SCHEMA_VERSION}"):
        await Database.connect(path, migrate=False)
    assert user_version(path) == 0


async def test_a_newer_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseError) as caught:
        await Database.connect(path)
    message = str(caught.value)
    assert f"schema version {SCHEMA_VERSION + 1}" in message and "newer than this watcher" in message
    assert "upgrade watcher" in message
    assert user_version(path) == SCHEMA_VERSION + 1


async def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    path.write_bytes(b"this is a text file, not a database\n" * 200)
    with pytest.raises(DatabaseError, match="not a usable SQLite database"):
        await Database.connect(path)
    assert path.read_bytes().startswith(b"this is a text file")


async def test_a_database_path_whose_folder_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(DatabaseError, match="cannot create the folder"):
        await Database.connect(blocker / "w.sqlite3")


async def test_readonly_open_needs_an_existing_database(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="no database at"):
        await Database.connect(tmp_path / "missing.sqlite3", readonly=True)
    assert not (tmp_path / "missing.sqlite3").exists()


async def test_wal_synchronous_full_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path) as db:
        assert str(await db.scalar("PRAGMA journal_mode")).lower() == "wal"
        assert await db.scalar("PRAGMA synchronous") == 2  # FULL
        assert await db.scalar("PRAGMA foreign_keys") == 1
        assert await db.scalar("PRAGMA busy_timeout") == store_db.BUSY_TIMEOUT_MS
    with sqlite3.connect(path) as conn:  # WAL is a property of the file
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_a_failing_migration_step_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path):
        pass
    broken = [*MIGRATIONS, ("CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL")]
    monkeypatch.setattr(store_db, "MIGRATIONS", broken)
    with pytest.raises(sqlite3.Error):
        await Database.connect(path)
    assert user_version(path) == SCHEMA_VERSION
    assert "half_done" not in tables(path)


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO state (key, value) VALUES ('a', '1')")
            raise RuntimeError("boom")
    assert await db.scalar("SELECT count(*) FROM state") == 0
    assert await db.write("INSERT INTO state (key, value) VALUES ('b', '2')") == 1
    assert await db.writable() is True


async def test_readers_see_committed_data_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path) as writer, Database.open(path) as reader:
        await writer.write("INSERT INTO state (key, value) VALUES ('a', 'committed')")
        async with writer.transaction() as conn:
            await conn.execute("UPDATE state SET value = 'uncommitted' WHERE key = 'a'")
            assert await reader.scalar("SELECT value FROM state WHERE key = 'a'") == "committed"
        assert await reader.scalar("SELECT value FROM state WHERE key = 'a'") == "uncommitted"
