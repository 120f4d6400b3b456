"""Issue 13, item 4 (store part): a second daemon, a deleted or replaced file, a mistyped path, loose
permissions and a damaged file are all noticed, on real SQLite files."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from watcher.store.db import DaemonLock, Database, DatabaseError, DatabaseLocked, lock_path

# -- the daemon lock ------------------------------------------------------------------------------


def test_a_second_lock_on_one_database_names_the_first(tmp_path: Path) -> None:
    database = tmp_path / "w.sqlite3"
    with DaemonLock.acquire(database) as first:
        assert first.held and lock_path(database).exists()
        with pytest.raises(DatabaseLocked, match=rf"another watcher \(pid {os.getpid()}, started ") as info:
            DaemonLock.acquire(database)
        assert info.value.holder == first.holder
        assert str(database) in str(info.value)
        # Another database next to it is free.
        with DaemonLock.acquire(tmp_path / "other.sqlite3"):
            pass
    assert not first.held and not lock_path(database).exists()
    with DaemonLock.acquire(database) as again:  # released: free again
        assert again.held


def test_a_lock_held_by_another_process(tmp_path: Path) -> None:
    database = tmp_path / "w.sqlite3"
    code = (
        "import sys\nfrom pathlib import Path\nfrom watcher.store.db import DaemonLock\n"
        "lock = DaemonLock.acquire(Path(sys.argv[1]))\nprint('held', flush=True)\nsys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == b"held\n"
        with pytest.raises(DatabaseLocked, match=rf"pid {child.pid}\b") as info:
            DaemonLock.acquire(database)
        assert info.value.holder is not None and info.value.holder.pid == child.pid
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=60)
    # The holder is gone (its exit dropped the lock even though it never released it).
    with DaemonLock.acquire(database):
        pass


def test_the_lock_file_is_private(tmp_path: Path) -> None:
    with DaemonLock.acquire(tmp_path / "new" / "w.sqlite3") as lock:
        assert stat.S_IMODE(lock.path.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


# -- deleted or replaced while open ---------------------------------------------------------------


async def test_unlink_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path) as db:
        db.check_still_there()
        path.unlink()
        with pytest.raises(DatabaseError, match=r"was deleted while the watcher ran") as info:
            db.check_still_there()
        assert str(path.absolute()) in str(info.value)


async def test_replacement_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path) as db:
        async with Database.open(tmp_path / "restored.sqlite3"):
            pass
        os.replace(tmp_path / "restored.sqlite3", path)
        with pytest.raises(DatabaseError, match=r"was replaced while the watcher ran"):
            db.check_still_there()


# -- read-only commands never create one ----------------------------------------------------------


async def test_no_create_refuses_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "w.sqlite3"
    for kwargs in ({"create": False}, {"readonly": True}):
        with pytest.raises(DatabaseError, match=r"run `watcher run` first \(or check -c/--config\)") as info:
            await Database.connect(missing, **kwargs)
        assert f"no database at {missing.absolute()}" in str(info.value)
    assert not missing.exists() and not missing.parent.exists()


async def test_no_create_opens_an_existing_database(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path) as db:
        await db.write("INSERT INTO state(key, value) VALUES ('probe', '1')")
    async with Database.open(path, create=False, migrate=False) as db:
        assert await db.scalar("SELECT value FROM state WHERE key = 'probe'") == "1"


async def test_a_path_with_uri_characters(tmp_path: Path) -> None:
    path = tmp_path / "a?b#c%d" / "w.sqlite3"
    async with Database.open(path) as db:
        await db.write("INSERT INTO state(key, value) VALUES ('probe', '1')")
    assert path.exists()
    async with Database.open(path, create=False) as db:
        assert await db.scalar("SELECT value FROM state WHERE key = 'probe'") == "1"


# -- permissions ----------------------------------------------------------------------------------


async def test_created_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a usual umask: without care the files would be 0644
    try:
        path = tmp_path / "data" / "deeper" / "w.sqlite3"
        async with Database.open(path) as db:
            await db.write("INSERT INTO state(key, value) VALUES ('probe', '1')")
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            for item in files:
                assert item.exists(), item
                assert stat.S_IMODE(item.stat().st_mode) == 0o600, item
        for folder in (tmp_path / "data", tmp_path / "data" / "deeper"):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    finally:
        os.umask(old)


async def test_an_existing_files_mode_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path):
        pass
    path.chmod(0o640)  # the owner chose to share it with a group
    async with Database.open(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


# -- damaged files --------------------------------------------------------------------------------


async def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    with pytest.raises(
        DatabaseError, match=r"not a usable SQLite database.*restore it from a backup.*\.recover"
    ):
        await Database.connect(path)


async def test_a_corrupted_database_fails_the_check(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path) as db:
        async with db.transaction() as conn:
            await conn.execute("CREATE TABLE filler(n INTEGER PRIMARY KEY, text TEXT)")
            await conn.execute("CREATE INDEX filler_text ON filler(text)")
            await conn.executemany(
                "INSERT INTO filler(n, text) VALUES (?, ?)", [(i, f"row {i} " * 20) for i in range(3000)]
            )
        await db.scalar("PRAGMA wal_checkpoint(TRUNCATE)")
    with sqlite3.connect(path) as plain:
        page_size = int(plain.execute("PRAGMA page_size").fetchone()[0])
        root = int(
            plain.execute("SELECT rootpage FROM sqlite_master WHERE name = 'filler_text'").fetchone()[0]
        )
    plain.close()
    raw = bytearray(path.read_bytes())
    start = (root - 1) * page_size  # the index's root page: the table still reads, the check does not
    raw[start + 8 : start + page_size] = b"\xa5" * (page_size - 8)
    path.write_bytes(bytes(raw))

    with pytest.raises(DatabaseError, match=r"is damaged \(.*\): stop anything using it.*\.recover") as info:
        await Database.connect(path, verify=True)
    assert str(path.absolute()) in str(info.value)


async def test_a_healthy_database_passes_the_check(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path):
        pass
    async with Database.open(path, verify=True) as db:
        assert await asyncio.wait_for(db.user_version(), 60) > 0
