"""The schema on a real PostgreSQL server: the same migrations give the same tables, columns, keys,
checks and indexes as on SQLite; migrating twice, concurrently or onto a newer database (issue 20)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.support import postgres as pg
from watcher.store import Database, DatabaseError, pg_schema
from watcher.store.dialect import POSTGRESQL, UntranslatableSQL
from watcher.store.pg_schema import (
    POSTGRESQL_TEXT,
    VERSION_TABLE,
    MigrationFailed,
    SchemaNewer,
    advance_identities,
    migrate_postgres,
    postgres_step,
    postgres_version,
)
from watcher.store.schema import MIGRATIONS, SCHEMA_VERSION
from watcher.store.trust_tables import ID_FLOOR_KEY

postgres = pg.postgres  # the session's server (tests/support/postgres.py)
postgres_dsn = pg.postgres_dsn  # a fresh database per test

Schema = dict[str, dict[str, Any]]

_TYPES = {"INTEGER": "bigint", "TEXT": "text", "REAL": "double precision", "BLOB": "bytea"}
_FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def _checks(create_sql: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each ``CHECK (column IN ('a', …))`` of a statement (or PostgreSQL's ``= ANY (ARRAY[…])``): the
    column and its allowed values."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for match in re.finditer(r"CHECK\s*\(", create_sql, re.I):
        depth, end = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(create_sql[end], 0)
            end += 1
        body = create_sql[match.end() : end - 1]
        column = re.search(r"[A-Za-z_]\w*", body)
        assert column is not None
        found.append((column.group(), tuple(sorted(re.findall(r"'([^']*)'", body)))))
    return sorted(found)


def _default(value: str | None) -> str | None:
    """A column default without PostgreSQL's cast (``'active'::text`` is SQLite's ``'active'``)."""
    return None if value is None else re.sub(r"::[a-z ]+$", "", value)


def sqlite_schema(path: Path) -> Schema:
    """Every table of a SQLite database: columns (name, type as PostgreSQL's, not null, default,
    identity), primary key, unique keys, foreign keys, checks and created indexes."""
    conn = sqlite3.connect(path)
    try:
        schema: Schema = {}
        tables = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        for table, sql in tables:
            info = conn.execute(
                'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)', (table,)
            )
            columns = info.fetchall()
            key = [name for name, *_, pk in sorted(columns, key=lambda c: c[4]) if pk]
            identity = (
                key if len(key) == 1 and next(c[1] for c in columns if c[0] == key[0]) == "INTEGER" else []
            )
            indexes: dict[str, tuple[Any, ...]] = {}
            unique: list[tuple[str, ...]] = []
            collations: dict[str, str] = {}
            for _, name, is_unique, origin, partial in conn.execute(
                "SELECT * FROM pragma_index_list(?)", (table,)
            ):
                cols = tuple(
                    str(r[0])
                    for r in conn.execute("SELECT name FROM pragma_index_info(?) ORDER BY seqno", (name,))
                )
                for column, coll in conn.execute(
                    "SELECT name, coll FROM pragma_index_xinfo(?) WHERE key", (name,)
                ):
                    if coll != "BINARY":
                        collations[column] = coll.lower()
                if origin == "c":
                    indexes[name] = (cols, bool(is_unique), bool(partial))
                elif origin == "u":
                    unique.append(cols)
            foreign: list[tuple[Any, ...]] = []
            for fk in conn.execute(
                'SELECT id, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq',
                (table,),
            ):
                foreign.append((fk[2], fk[1], fk[3], fk[4], fk[5]))
            schema[table] = {
                "columns": [
                    (name, _TYPES[kind], bool(notnull) or bool(pk), default, name in identity)
                    for name, kind, notnull, default, pk in columns
                ],
                "primary key": tuple(key),
                "unique": sorted(unique),
                "foreign keys": sorted(foreign),
                "checks": _checks(sql),
                "indexes": indexes,
                "collations": collations,
            }
        return schema
    finally:
        conn.close()


async def postgres_schema(conn: asyncpg.Connection) -> Schema:
    """The same description of the PostgreSQL database's tables (the version table left out)."""
    schema: Schema = {}
    tables = await conn.fetch(
        """SELECT table_name FROM information_schema.tables
           WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> $1""",
        VERSION_TABLE,
    )
    for (table,) in tables:
        columns = await conn.fetch(
            """SELECT column_name, data_type, is_nullable, column_default, is_identity, collation_name
               FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position""",
            table,
        )
        constraints = await conn.fetch(
            """SELECT c.contype::text AS contype, pg_get_constraintdef(c.oid) AS definition,
                      ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS cols,
                      ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                            JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) AS refs,
                      c.confrelid::regclass::text AS parent, c.confupdtype::text AS confupdtype, c.confdeltype::text AS confdeltype
               FROM pg_constraint c WHERE c.conrelid = $1::regclass""",
            table,
        )
        indexes = await conn.fetch(
            """SELECT i.relname AS name, x.indisunique AS is_unique, x.indpred IS NOT NULL AS partial,
                      ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o)
                            JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.o) AS cols
               FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               WHERE x.indrelid = $1::regclass
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
            table,
        )
        primary = [tuple(c["cols"]) for c in constraints if c["contype"] == "p"]
        schema[table] = {
            "columns": [
                (
                    c["column_name"],
                    c["data_type"],
                    c["is_nullable"] == "NO",
                    _default(c["column_default"]),
                    c["is_identity"] == "YES",
                )
                for c in columns
            ],
            "primary key": primary[0] if primary else (),
            "unique": sorted(tuple(c["cols"]) for c in constraints if c["contype"] == "u"),
            "foreign keys": sorted(
                (
                    c["cols"][0],
                    c["parent"],
                    c["refs"][0],
                    _FK_ACTIONS[c["confupdtype"]],
                    _FK_ACTIONS[c["confdeltype"]],
                )
                for c in constraints
                if c["contype"] == "f"
            ),
            "checks": sorted(
                check for c in constraints if c["contype"] == "c" for check in _checks(c["definition"])
            ),
            "indexes": {i["name"]: (tuple(i["cols"]), i["is_unique"], i["partial"]) for i in indexes},
            "collations": {c["column_name"]: c["collation_name"] for c in columns if c["collation_name"]},
        }
    return schema


async def test_an_empty_database_migrates_to_the_schema_version(pg_conn: asyncpg.Connection) -> None:
    assert await postgres_version(pg_conn) == 0
    assert await migrate_postgres(pg_conn) == 0
    assert await postgres_version(pg_conn) == SCHEMA_VERSION
    assert await pg_conn.fetchval(f"SELECT count(*) FROM {VERSION_TABLE}") == 1


async def test_the_tables_are_sqlites_column_by_column(pg_conn: asyncpg.Connection, tmp_path: Path) -> None:
    async with Database.open(tmp_path / "w.sqlite3"):
        pass
    await migrate_postgres(pg_conn)
    lite, server = sqlite_schema(tmp_path / "w.sqlite3"), await postgres_schema(pg_conn)
    assert sorted(server) == sorted(lite)
    for table in lite:
        for aspect in lite[table]:
            assert server[table][aspect] == lite[table][aspect], f"{table}: {aspect}"
    assert lite["web_users"]["collations"] == {"name": "nocase"}  # the comparison sees collations
    assert lite["changes"]["checks"] and lite["changes"]["foreign keys"] == []


async def test_nocase_names_are_one_name_on_both_engines(pg_conn: asyncpg.Connection, tmp_path: Path) -> None:
    await migrate_postgres(pg_conn)
    add_user = "INSERT INTO web_users (name, password_hash, created_at, updated_at) VALUES (?, 'h', 't', 't')"
    limit = "INSERT INTO web_user_collections (user, collection) VALUES (?, 'c')"
    async with Database.open(tmp_path / "w.sqlite3") as db:
        await db.write(add_user, ("Anna",))
        await db.write(limit, ("anna",))
        with pytest.raises(sqlite3.IntegrityError):
            await db.write(add_user, ("ANNA",))
        with pytest.raises(sqlite3.IntegrityError):
            await db.write(limit, ("ANNA",))
        assert await db.scalar("SELECT name FROM web_users WHERE name = ?", ("aNNa",)) == "Anna"
    await pg_conn.execute(POSTGRESQL.sql(add_user), "Anna")
    await pg_conn.execute(POSTGRESQL.sql(limit), "anna")
    with pytest.raises(asyncpg.UniqueViolationError):
        await pg_conn.execute(POSTGRESQL.sql(add_user), "ANNA")
    with pytest.raises(asyncpg.UniqueViolationError):
        await pg_conn.execute(POSTGRESQL.sql(limit), "ANNA")
    assert (
        await pg_conn.fetchval(POSTGRESQL.sql("SELECT name FROM web_users WHERE name = ?"), "aNNa") == "Anna"
    )


async def test_a_second_migrate_changes_nothing(pg_conn: asyncpg.Connection) -> None:
    await migrate_postgres(pg_conn)
    await pg_conn.execute("INSERT INTO state (key, value) VALUES ('k', 'v')")
    before = await postgres_schema(pg_conn)
    assert await migrate_postgres(pg_conn) == SCHEMA_VERSION
    assert await postgres_schema(pg_conn) == before
    assert await postgres_version(pg_conn) == SCHEMA_VERSION
    assert await pg_conn.fetchval("SELECT value FROM state WHERE key = 'k'") == "v"


async def test_a_newer_database_is_refused_in_words(pg_conn: asyncpg.Connection) -> None:
    await migrate_postgres(pg_conn)
    await pg_conn.execute(f"UPDATE {VERSION_TABLE} SET version = $1", SCHEMA_VERSION + 1)
    with pytest.raises(SchemaNewer) as refused:
        await migrate_postgres(pg_conn)
    assert isinstance(refused.value, DatabaseError)
    database = await pg_conn.fetchval("SELECT current_database()")
    port = await pg_conn.fetchval("SELECT inet_server_port()")
    assert str(refused.value) == (
        f"the PostgreSQL database {database} on {pg.HOST}:{port} has schema version {SCHEMA_VERSION + 1}, "
        f"newer than this watcher ({SCHEMA_VERSION}): upgrade watcher instead of downgrading the database"
    )
    assert await postgres_version(pg_conn) == SCHEMA_VERSION + 1  # untouched


async def test_migrators_at_once_end_at_one_version(postgres_dsn: str) -> None:
    conns = [await asyncpg.connect(postgres_dsn) for _ in range(4)]
    try:
        found = await asyncio.gather(*(migrate_postgres(conn) for conn in conns))
        assert set(found) <= set(range(SCHEMA_VERSION + 1))
        assert [await postgres_version(conn) for conn in conns] == [SCHEMA_VERSION] * 4
        assert await conns[0].fetchval(f"SELECT count(*) FROM {VERSION_TABLE}") == 1
    finally:
        for conn in conns:
            await conn.close()


async def test_a_failing_step_rolls_back_whole(
    pg_conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pg_schema.postgres_step

    def broken(version: int) -> tuple[str, ...]:
        return (*real(version), "SELECT no_such_function()") if version == 2 else real(version)

    monkeypatch.setattr(pg_schema, "postgres_step", broken)
    with pytest.raises(MigrationFailed, match=r"migration to schema version 2 failed .*stays at version 1"):
        await migrate_postgres(pg_conn)
    assert await postgres_version(pg_conn) == 1
    assert await pg_conn.fetchval("SELECT to_regclass('notify_outbox')") is None
    monkeypatch.setattr(pg_schema, "postgres_step", real)
    assert await migrate_postgres(pg_conn) == 1
    assert await postgres_version(pg_conn) == SCHEMA_VERSION


def test_every_step_translates_and_each_replacement_is_needed() -> None:
    for version in range(1, SCHEMA_VERSION + 1):
        assert postgres_step(version)
    for (version, index), replacement in POSTGRESQL_TEXT.items():
        statement = MIGRATIONS[version - 1][index]
        assert replacement.replaces in statement
        with pytest.raises(UntranslatableSQL):
            POSTGRESQL.sql(statement)  # else the dialect's translation should be used


async def test_identity_counters_pass_the_copied_ids_and_the_id_floor(pg_conn: asyncpg.Connection) -> None:
    await migrate_postgres(pg_conn)
    change = (
        "INSERT INTO changes (id, wiki, file, revision, timestamp, field, action, kind, queued_at, unique_key) "
        "VALUES ($1, 'w', 'F', 1, 't', 'f', 'added', 'content', 't', $2)"
    )
    await pg_conn.execute(change, 7, "a")
    await pg_conn.execute("INSERT INTO state (key, value) VALUES ($1, '40')", ID_FLOOR_KEY)
    await pg_conn.execute("INSERT INTO counters (name) VALUES ('x')")
    await pg_conn.execute(
        "INSERT INTO inbox (id, event_key, kind, title, event, received_at) VALUES (5, 'k', 'e', 'T', '{}', 't')"
    )
    await advance_identities(pg_conn)
    await advance_identities(pg_conn)  # never backwards, never further than needed
    fresh = change.replace("(id, ", "(").replace("($1, ", "(").replace("$2", "$1") + " RETURNING id"
    assert await pg_conn.fetchval(fresh, "b") == 41
    assert (
        await pg_conn.fetchval(
            "INSERT INTO inbox (event_key, kind, title, event, received_at) VALUES ('l', 'e', 'T', '{}', 't') RETURNING id"
        )
        == 6
    )
