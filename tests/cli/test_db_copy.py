"""`watcher db copy`: a store with rows in every table to a real PostgreSQL server and back, exactly;
refusals (a target with rows, a server out of reach, a daemon on the source, a value of the wrong
type) each one clean message (issue 20)."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from click.testing import CliRunner, Result

from tests.support import postgres as pg
from tests.support.cli import CliShell
from tests.support.ports import free_port
from tests.support.web import PASSWORD, queue
from watcher.cli.main import main
from watcher.store import DaemonLock, Database
from watcher.store import tracked as store_tracked
from watcher.store.dialect import quote_identifier
from watcher.store.reviews import review
from watcher.store.trust_tables import ID_FLOOR_KEY
from watcher.web.auth import add_user

postgres = pg.postgres  # the session's server (tests/support/postgres.py)
postgres_dsn = pg.postgres_dsn  # a fresh database per test

Rows = dict[str, list[tuple[Any, ...]]]

# Rows for the tables no helper of the store fills in a few lines (the queue, reviews, the tracked set
# and the accounts are filled through their own code below).
OTHER_ROWS = [
    "INSERT INTO counters (name, value) VALUES ('stream_events', 41)",
    "INSERT INTO inbox (event_key, kind, title, event, received_at, attempts, next_attempt_at) "
    "VALUES ('e-1', 'edit', 'File:Example 1.jpg', '{\"rev\": 1}', '2026-03-01T10:00:00Z', 2, '2026-03-01T10:05:00Z')",
    "INSERT INTO categorisations (title, category, at, added) VALUES ('File:Example 1.jpg', 'Category:X', 't', 1)",
    "INSERT INTO entity_labels (entity, language, label, fetched_at) VALUES ('Q1', 'sv', 'Universum', 't')",
    "INSERT INTO entity_labels (entity, language, label, fetched_at) VALUES ('Q1', 'en', NULL, 't')",
    "INSERT INTO file_thumbnails (title, url, width, height, fetched_at) VALUES ('File:B.jpg', 'https://u/b', 120, 90, 't')",
    "INSERT INTO editors (name, facts, fetched_at) VALUES ('Editor', '{\"edits\": 12}', 't')",
    "INSERT INTO change_tags (tag, description, fetched_at) VALUES ('OAuth CID: 1', 'CropTool', 't')",
    "INSERT INTO notify_outbox (channel, target, target_label, kind, ref, title, body, body_format, "
    "next_attempt_at, give_up_at, lease_until, created_at) VALUES ('mail', 'mailto://x', 'x', 'alert', 'r1', "
    "'T', 'B', 'text', 1767225600.25, 1767312000.5, NULL, 't')",
    "INSERT INTO notify_cursors (channel, last_change_id, updated_at) VALUES ('mail', 2, 't')",
    "INSERT INTO notify_digests (channel, period, window_start, window_end, changes, messages, created_at) "
    "VALUES ('mail', '2026-03-01', 'a', 'b', 3, 1, 't')",
    "INSERT INTO history_runs (id, options, started_at, updated_at) VALUES (4, '{}', 't', 't')",
    "INSERT INTO history_progress (run_id, title, pageid, state, walk) VALUES (4, 'File:B.jpg', 9, 'walked', '[]')",
    "INSERT INTO reverting_changes (wiki, file, field, revision, unique_key, row, collection) "
    "VALUES ('commonswiki', 'File:B.jpg', 'description', 1003, 'k-r', '{}', 'skokloster')",
    "INSERT INTO web_sessions (token_hash, user, csrf_token, created_at, last_seen_at) "
    "VALUES ('h', 'anna', 'c', 't', 't')",  # another case than the account's: NOCASE on both engines
]


async def fill(path: Path) -> None:
    """Rows in every table, through the store's own code where it is short to call."""
    async with Database.open(path) as db:
        first = await queue(db)
        await queue(db, file="File:B.jpg", revision=1001, user="Bo", comment=None, object_id=None)
        other = await queue(db, file="File:B.jpg", revision=1002, collection="skokloster")
        gone = await queue(db, file="File:B.jpg", revision=1003, collection="skokloster")
        await review(db, first, "accept", actor="anna", note="ok")
        await review(db, other, "reject", actor="anna")
        async with db.transaction() as conn:
            for collection in ("default", "skokloster"):
                await store_tracked.add_file(
                    conn, "File:B.jpg", "category", "Category:X", pageid=9, collection=collection
                )
                await store_tracked.set_categories(
                    conn, "Category:X", [("Category:X", "Category:X", 0)], collection
                )
            await store_tracked.add_file(conn, "File:Example 1.jpg", "list", "museum", pageid=8)
            await store_tracked.set_object_ids(
                conn, [store_tracked.ObjectIdLookup("File:B.jpg", "B-1", "r", 1001)]
            )
            # A change that left the queue: its id is the floor, never to be given again.
            await conn.execute("DELETE FROM changes WHERE id = ?", (gone[-1],))
            await conn.execute("INSERT INTO state (key, value) VALUES (?, ?)", (ID_FLOOR_KEY, gone[-1]))
            await conn.execute("INSERT INTO state (key, value) VALUES ('stream_cursor', '[{\"t\": 1}]')")
        await add_user(db, "Anna", PASSWORD, collections=["default"])
        for statement in OTHER_ROWS:
            await db.write(statement)


def sqlite_rows(path: Path) -> Rows:
    with sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            table: sorted(
                (tuple(row) for row in conn.execute(f"SELECT * FROM {quote_identifier(table)}")), key=repr
            )
            for table in tables
        }


async def postgres_rows(dsn: str) -> Rows:
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_name <> 'watcher_schema'"
        )
        return {
            t: sorted((tuple(r) for r in await conn.fetch(f"SELECT * FROM {quote_identifier(t)}")), key=repr)
            for (t,) in tables
        }
    finally:
        await conn.close()


async def watcher(*args: str) -> Result:
    """``watcher ARGS`` through click's runner, in a thread (the command runs its own event loop)."""
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
async def shell(tmp_path: Path) -> AsyncIterator[CliShell]:
    made = await asyncio.to_thread(CliShell, tmp_path)
    await fill(made.database)
    yield made


async def test_a_store_goes_to_postgresql_and_back_exactly(
    shell: CliShell, postgres_dsn: str, tmp_path: Path
) -> None:
    original = sqlite_rows(shell.database)
    assert all(original.values()), [t for t, rows in original.items() if not rows]  # every table has rows
    before = digest(shell.database)

    there = await watcher("db", "copy", "-c", str(shell.config), "--to", postgres_dsn)
    assert there.exit_code == 0, (there.stdout, there.stderr)
    assert await postgres_rows(postgres_dsn) == original
    assert digest(shell.database) == before  # the source was not written
    lines = there.stdout.splitlines()
    assert lines[0].split() == ["table", "source", "target"]
    assert f"changes{' ' * 10}" in there.stdout or any(line.split()[:1] == ["changes"] for line in lines)
    counted = {line.split()[0]: line.split()[1:] for line in lines[1 : len(original) + 1]}
    assert counted == {table: [str(len(rows))] * 2 for table, rows in original.items()}
    assert lines[-1].startswith(f"copied {sum(map(len, original.values()))} rows of {len(original)} tables")

    back = tmp_path / "back" / "w.sqlite3"
    home = await watcher("db", "copy", "--from", postgres_dsn, "--to", str(back))
    assert home.exit_code == 0, (home.stdout, home.stderr)
    assert sqlite_rows(back) == original

    # PostgreSQL numbers new rows past the copied ids and past the floor (the id of a change that left).
    conn = await asyncpg.connect(postgres_dsn)
    try:
        floor = int(await conn.fetchval("SELECT value FROM state WHERE key = $1", ID_FLOOR_KEY))
        assert floor > await conn.fetchval("SELECT max(id) FROM changes")
        new = await conn.fetchval(
            """INSERT INTO changes (wiki, file, revision, timestamp, field, action, kind, queued_at, unique_key)
               VALUES ('w', 'F', 1, 't', 'f', 'added', 'content', 't', 'new') RETURNING id"""
        )
        assert new == floor + 1
        run = await conn.fetchval(
            "INSERT INTO history_runs (options, started_at, updated_at) VALUES ('{}', 't', 't') RETURNING id"
        )
        assert run == 5
    finally:
        await conn.close()


async def test_a_target_with_rows_is_refused_saying_what_is_in_it(shell: CliShell, postgres_dsn: str) -> None:
    assert (await watcher("db", "copy", "-c", str(shell.config), "--to", postgres_dsn)).exit_code == 0
    again = await watcher("db", "copy", "-c", str(shell.config), "--to", postgres_dsn)
    assert again.exit_code == 73
    assert again.stderr.startswith(
        f"error: the PostgreSQL database {postgres_dsn} is not empty: it holds rows in "
    )
    assert "changes (3)" in again.stderr and "web_users (1)" in again.stderr
    onto_itself = await watcher("db", "copy", "--from", postgres_dsn, "--to", str(shell.database))
    assert onto_itself.exit_code == 73
    assert "there is a file at" in onto_itself.stderr and "changes (3)" in onto_itself.stderr


async def test_a_server_out_of_reach_is_one_line(shell: CliShell, postgres: pg.PostgresServer) -> None:
    url = f"postgresql://watcher@127.0.0.1:{free_port()}/watcher"
    result = await watcher("db", "copy", "-c", str(shell.config), "--to", url)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: cannot reach the PostgreSQL database {url}: ")
    assert len(result.stderr.splitlines()) == 1


async def test_a_password_never_shows(shell: CliShell, postgres: pg.PostgresServer) -> None:
    url = f"postgresql://watcher:s3cret@127.0.0.1:{free_port()}/watcher"
    result = await watcher("db", "copy", "-c", str(shell.config), "--to", url)
    assert "s3cret" not in result.stderr and "watcher:***@127.0.0.1" in result.stderr


async def test_a_running_daemon_on_the_source_is_refused_unless_forced(
    shell: CliShell, postgres_dsn: str
) -> None:
    with DaemonLock.acquire(shell.database):
        refused = await watcher("db", "copy", "-c", str(shell.config), "--to", postgres_dsn)
        assert refused.exit_code == 75
        assert "another watcher" in refused.stderr and "--force" in refused.stderr
        assert await postgres_rows(postgres_dsn) == {}  # not even migrated
        forced = await watcher("db", "copy", "-c", str(shell.config), "--to", postgres_dsn, "--force")
    assert forced.exit_code == 0, forced.stderr
    assert await postgres_rows(postgres_dsn) == sqlite_rows(shell.database)


async def test_a_value_postgresql_cannot_hold_is_named_and_nothing_is_kept(
    shell: CliShell, postgres_dsn: str
) -> None:
    """SQLite keeps text in an INTEGER column where it is no number; the copy names it and keeps nothing."""
    with sqlite3.connect(shell.database) as conn:
        conn.execute("UPDATE tracked_files SET pageid = 'nine' WHERE title = 'File:B.jpg'")
    result = await watcher("db", "copy", "-c", str(shell.config), "--to", postgres_dsn, "--batch", "1")
    assert result.exit_code == 1
    assert "error: tracked_files.pageid of the row title='File:B.jpg': 'nine' is no integer" in result.stderr
    assert "the copy was rolled back" in result.stderr
    tracked = next(line for line in result.stdout.splitlines() if line.startswith("tracked_files "))
    assert tracked.split()[1:] == ["2", "0", "differs"]  # its bad row comes first: nothing after it
    rows = await postgres_rows(postgres_dsn)
    assert rows and not any(rows.values())  # migrated, and empty
