"""The store on a real PostgreSQL server (issue 20): rows, counts and parameters as the store reads
them from SQLite, one writer at a time across nodes, a clean error where the server cannot be reached,
and the leader's lock handed over when its holder stops or is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator

import pytest

from tests.support.ports import free_port
from watcher.store.pg import (
    DatabaseUnavailable,
    LeaderLock,
    PgDatabase,
    PgSettings,
    describe_url,
)

TAKE_OVER_S = 30.0


@pytest.fixture
async def db(postgres_dsn: str) -> AsyncIterator[PgDatabase]:
    async with PgDatabase.open(postgres_dsn, PgSettings(pool_min=1, pool_max=4)) as database:
        async with database.transaction() as conn:
            await conn.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT)")
            await conn.execute(
                "CREATE TABLE changes (id INTEGER PRIMARY KEY, user TEXT, n INTEGER NOT NULL DEFAULT 0)"
            )
        yield database


async def test_rows_counts_and_parameters_read_as_sqlite_gives_them(db: PgDatabase) -> None:
    async with db.transaction() as conn:
        inserted = await conn.execute(
            "INSERT INTO changes (user, n) VALUES (?, ?), (?, ?)", ("anna", 2, "otto", 3)
        )
        assert inserted.rowcount == 2
        # SQLite takes an int for a TEXT column and a digit string for an INTEGER one; so does the store.
        await conn.execute("INSERT INTO state (key, value) VALUES (?, ?)", ("floor", 41))
        await conn.execute("UPDATE changes SET n = ? WHERE user = ?", ("5", "otto"))
    row = await db.fetchone("SELECT id, user, n FROM changes WHERE user = ?", ("otto",))
    assert row is not None and (row[1], row["n"], row.keys()) == ("otto", 5, ["id", "user", "n"])
    assert await db.scalar("SELECT value FROM state WHERE key = 'floor'") == "41"
    total = await db.scalar("SELECT sum(n) FROM changes")
    assert total == 7 and type(total) is int  # numeric, as SQLite's integer sum
    assert await db.write("UPDATE changes SET n = n + 1") == 2
    assert await db.write("DELETE FROM changes WHERE user IS ?", (None,)) == 0
    async with db.transaction() as conn:
        cursor = await conn.execute("SELECT user FROM changes ORDER BY id")
        assert cursor.rowcount == -1
        assert [r[0] for r in await cursor.fetchall()] == ["anna", "otto"]
        many = await conn.executemany(
            "UPDATE changes SET n = 0 WHERE user = ?", [("anna",), ("nobody",), ("otto",)]
        )
        assert many.rowcount == 2


async def test_a_failed_transaction_leaves_nothing(db: PgDatabase) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO changes (user) VALUES (?)", ("half",))
            raise RuntimeError("the work failed after its first write")
    assert await db.scalar("SELECT count(*) FROM changes") == 0


async def test_one_writer_at_a_time_across_nodes(postgres_dsn: str, db: PgDatabase) -> None:
    """Two nodes each read a counter and write it back plus one, 40 times, at once. Under PostgreSQL's
    read committed alone they would lose increments; the store's write lock makes it SQLite's single
    writer, so none is lost."""
    await db.write("INSERT INTO state (key, value) VALUES ('counter', '0')")

    async def increments(node: PgDatabase) -> None:
        for _ in range(40):
            async with node.transaction() as conn:
                cursor = await conn.execute("SELECT value FROM state WHERE key = 'counter'")
                row = await cursor.fetchone()
                assert row is not None
                await asyncio.sleep(0)  # let the other node's transaction interleave if it can
                await conn.execute("UPDATE state SET value = ? WHERE key = 'counter'", (int(row[0]) + 1,))

    async with PgDatabase.open(postgres_dsn) as other:
        await asyncio.gather(increments(db), increments(other), increments(db))
    assert await db.scalar("SELECT value FROM state WHERE key = 'counter'") == "120"


async def test_an_unreachable_server_is_one_clean_error_with_the_password_masked() -> None:
    url = f"postgresql://watcher:hunter2@127.0.0.1:{free_port()}/nowhere"
    with pytest.raises(DatabaseUnavailable) as raised:
        await PgDatabase.connect(url, PgSettings(connect_timeout_s=3))
    assert "hunter2" not in str(raised.value) and "cannot reach the database" in str(raised.value)
    assert raised.value.exit_code == 75
    assert "hunter2" not in describe_url(url)


async def test_the_leaders_lock_is_one_nodes_and_passes_on_release(postgres_dsn: str) -> None:
    first, second = LeaderLock(postgres_dsn), LeaderLock(postgres_dsn)
    try:
        assert await first.try_acquire() and await first.held()
        assert not await second.try_acquire() and not await second.held()
        assert await first.try_acquire()  # asking again while holding it keeps it
        await first.release()
        assert not await first.held()
        assert await second.try_acquire() and await second.held()
    finally:
        await first.release()
        await second.release()


async def test_a_leader_whose_connection_dies_knows_it_lost_the_lock(postgres_dsn: str) -> None:
    leader, standby = LeaderLock(postgres_dsn), LeaderLock(postgres_dsn)
    try:
        assert await leader.try_acquire()
        assert leader._conn is not None
        pid = leader._conn.get_server_pid()
        async with PgDatabase.open(postgres_dsn) as admin:
            # With a timeout it returns once the backend is gone (without, as soon as it is signalled).
            assert await admin.scalar("SELECT pg_terminate_backend(?, 20000)", (pid,)) is True
        assert not await leader.held()  # it must stop committing stream work now
        assert await standby.try_acquire()
    finally:
        await leader.release()
        await standby.release()


_HOLDER = """
import asyncio, sys
from watcher.store.pg import LeaderLock

async def main() -> None:
    lock = LeaderLock(sys.argv[1])
    assert await lock.try_acquire()
    print("leader", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_standby_takes_over_within_30_s_of_the_leader_being_killed(postgres_dsn: str) -> None:
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HOLDER, postgres_dsn, stdout=asyncio.subprocess.PIPE, env=dict(os.environ)
    )
    standby = LeaderLock(postgres_dsn)
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(holder.stdout.readline(), 60)
        assert line.strip() == b"leader"
        assert not await standby.try_acquire()
        holder.send_signal(signal.SIGKILL)
        await asyncio.wait_for(holder.wait(), 30)
        killed = time.monotonic()
        await asyncio.wait_for(standby.wait(poll_s=0.5), TAKE_OVER_S)
        assert time.monotonic() - killed < TAKE_OVER_S and await standby.held()
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()
        await standby.release()


async def test_the_store_tells_whether_any_node_leads(postgres_dsn: str, db: PgDatabase) -> None:
    """What `watcher status` asks on a shared store (a stored pid is some other machine's)."""
    assert not await db.leader_present()
    lock = LeaderLock(postgres_dsn)
    try:
        assert await lock.try_acquire()
        assert await db.leader_present()
    finally:
        await lock.release()
    assert not await db.leader_present()
