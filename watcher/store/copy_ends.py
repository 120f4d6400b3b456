"""The two ends of ``watcher db copy`` (watcher.store.copy): a source read in one snapshot and a
target filled in one transaction, on either engine, and the conversion of SQLite's loosely typed
values to the PostgreSQL column's type (a value that cannot be converted is a :class:`Problem`)."""

from __future__ import annotations

import contextlib
import math
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
import asyncpg

from watcher.store.db import Database, DatabaseError
from watcher.store.dialect import quote_identifier
from watcher.store.open import location_text
from watcher.store.pg_schema import advance_identities, migrate_postgres, postgres_tables, postgres_version

CONNECT_TIMEOUT_S = 10.0
# Collations that order text bytewise, as SQLite does (ISO timestamps, titles, ORDER BY agree).
BYTEWISE_COLLATIONS = frozenset({"C", "POSIX", "C.UTF-8", "C.utf8"})

Row = tuple[Any, ...]


class CopyRefused(DatabaseError):
    """The copy cannot start: the target is not empty, or the two databases are not at one schema."""

    exit_code = 73  # EX_CANTCREAT: the output cannot be created


@dataclass(frozen=True)
class Problem:
    """A value that could not be converted to its target column's type; its row was left out."""

    table: str
    column: str
    key: str  # the row's key, e.g. "id=5" or "entity='Q1', language='sv'"
    value: Any
    wanted: str

    def describe(self) -> str:
        return f"{self.table}.{self.column} of the row {self.key}: {self.value!r} is no {self.wanted}"


# -- value conversion -------------------------------------------------------------------------------

_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*")
_BIGINT = (-(2**63), 2**63 - 1)


def _to_bigint(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        if not _BIGINT[0] <= value <= _BIGINT[1]:
            raise ValueError
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        return _to_bigint(int(value))
    raise ValueError


def _to_double(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        number = float(value)
        if math.isfinite(number):
            return number
    raise ValueError


def _to_text(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # what SQLite's CAST(x AS TEXT) gives for an int; repr for a float
    if isinstance(value, bytes):
        return value.decode("utf-8")
    raise ValueError


def _to_bytes(value: Any) -> Any:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise ValueError


_CONVERTERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "bigint": ("integer", _to_bigint),
    "integer": ("integer", _to_bigint),
    "smallint": ("integer", _to_bigint),
    "double precision": ("number", _to_double),
    "real": ("number", _to_double),
    "text": ("text", _to_text),
    "bytea": ("byte string", _to_bytes),
}


# -- the two ends --------------------------------------------------------------------------------


class Source(Protocol):
    """A database read in one snapshot."""

    async def version(self) -> int: ...
    async def tables(self) -> dict[str, list[str]]: ...  # table: its columns in order
    async def parents(self) -> dict[str, set[str]]: ...  # table: the tables its foreign keys name
    async def key(self, table: str) -> list[str]: ...  # the primary key's columns (row order)
    async def count(self, table: str) -> int: ...
    def batches(self, table: str, columns: Sequence[str], size: int) -> AsyncIterator[list[Row]]: ...


def _select(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    order = f" ORDER BY {', '.join(map(quote_identifier, key))}" if key else ""
    return f"SELECT {', '.join(map(quote_identifier, columns))} FROM {quote_identifier(table)}{order}"


class SqliteSource:
    """A SQLite file opened read-only (``mode=ro``: this process cannot write to it)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, path: Path) -> AsyncIterator[SqliteSource]:
        if not path.is_file():
            raise DatabaseError(f"no SQLite database at {path.absolute()}")
        try:
            conn = await aiosqlite.connect(
                f"{path.absolute().as_uri()}?mode=ro", uri=True, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open the database {path} read-only: {exc}") from exc
        try:
            await conn.execute("BEGIN")  # one read transaction: one snapshot for every table
            yield cls(conn)
        except sqlite3.Error as exc:
            raise DatabaseError(f"reading the database {path} failed: {exc}") from exc
        finally:
            await conn.close()

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = await self.conn.execute(sql, params)
        rows = await cursor.fetchall()
        await cursor.close()
        return [tuple(row) for row in rows]

    async def version(self) -> int:
        return int((await self._rows("PRAGMA user_version"))[0][0])

    async def tables(self) -> dict[str, list[str]]:
        names = await self._rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return {
            str(name): [
                str(r[0])
                for r in await self._rows("SELECT name FROM pragma_table_info(?) ORDER BY cid", (name,))
            ]
            for (name,) in names
        }

    async def parents(self) -> dict[str, set[str]]:
        return {
            table: {
                str(r[0])
                for r in await self._rows('SELECT "table" FROM pragma_foreign_key_list(?)', (table,))
            }
            for table in await self.tables()
        }

    async def key(self, table: str) -> list[str]:
        rows = await self._rows("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (table,))
        return [str(r[0]) for r in rows]

    async def count(self, table: str) -> int:
        return int((await self._rows(f"SELECT count(*) FROM {quote_identifier(table)}"))[0][0])

    async def batches(self, table: str, columns: Sequence[str], size: int) -> AsyncIterator[list[Row]]:
        cursor = await self.conn.execute(_select(table, columns, await self.key(table)))
        try:
            while rows := await cursor.fetchmany(size):
                yield [tuple(row) for row in rows]
        finally:
            await cursor.close()


async def connect_postgres(url: str) -> asyncpg.Connection:
    """A connection to ``url`` (password from the URL, $PGPASSWORD or a passfile), errors in words."""
    try:
        return await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError) as exc:
        raise DatabaseError(
            f"cannot reach the PostgreSQL database {location_text(url)}: {exc or type(exc).__name__}"
        ) from exc
    except asyncpg.PostgresError as exc:
        raise DatabaseError(
            f"the PostgreSQL database {location_text(url)} refused the connection: {exc}"
        ) from exc


class PostgresSource:
    """A PostgreSQL database read in one ``REPEATABLE READ READ ONLY`` transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, url: str) -> AsyncIterator[PostgresSource]:
        conn = await connect_postgres(url)
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                yield cls(conn)
        except asyncpg.PostgresError as exc:
            raise DatabaseError(
                f"reading the PostgreSQL database {location_text(url)} failed: {exc}"
            ) from exc
        finally:
            await conn.close()

    async def version(self) -> int:
        return await postgres_version(self.conn)

    async def tables(self) -> dict[str, list[str]]:
        return await postgres_tables(self.conn)

    async def parents(self) -> dict[str, set[str]]:
        rows = await self.conn.fetch(
            """SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
               JOIN pg_namespace n ON n.oid = c.connamespace
               WHERE c.contype = 'f' AND n.nspname = current_schema()"""
        )
        found: dict[str, set[str]] = {table: set() for table in await self.tables()}
        for child, parent in rows:
            found.setdefault(str(child), set()).add(str(parent))
        return found

    async def key(self, table: str) -> list[str]:
        rows = await self.conn.fetch(
            """SELECT a.attname FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY k(n, i), pg_attribute a
               WHERE c.conrelid = $1::regclass AND c.contype = 'p' AND a.attrelid = c.conrelid
                 AND a.attnum = k.n ORDER BY k.i""",
            quote_identifier(table),
        )
        return [str(r[0]) for r in rows]

    async def count(self, table: str) -> int:
        return int(await self.conn.fetchval(f"SELECT count(*) FROM {quote_identifier(table)}"))

    async def batches(self, table: str, columns: Sequence[str], size: int) -> AsyncIterator[list[Row]]:
        cursor = await self.conn.cursor(_select(table, columns, await self.key(table)))
        while records := await cursor.fetch(size):
            yield [tuple(record) for record in records]


async def _describe_rows(counts: dict[str, int]) -> str:
    held = {table: n for table, n in counts.items() if n}
    return ", ".join(f"{table} ({n})" for table, n in sorted(held.items()))


class PostgresTarget:
    """An empty PostgreSQL database, migrated and filled in one transaction."""

    def __init__(self, url: str, conn: asyncpg.Connection) -> None:
        self.url = url
        self.conn = conn
        self.types: dict[str, dict[str, str]] = {}

    async def prepare(self, tables: Sequence[str]) -> None:
        """Refuse a non-empty database or one that orders text otherwise than SQLite; migrate it."""
        where = location_text(self.url)
        row = await self.conn.fetchrow(
            "SELECT datcollate, to_jsonb(d) ->> 'datlocprovider' FROM pg_database d WHERE datname = current_database()"
        )
        assert row is not None
        if row[0] not in BYTEWISE_COLLATIONS or row[1] not in (None, "c"):
            raise CopyRefused(
                f"the PostgreSQL database {where} sorts text by the collation {row[0]!r}"
                f"{' (ICU)' if row[1] == 'i' else ''}; the watcher compares text bytewise as SQLite does: "
                "create the database with TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"
            )
        present = await postgres_tables(self.conn)
        foreign = sorted(set(present) - set(tables))
        if foreign:
            raise CopyRefused(
                f"the PostgreSQL database {where} is not empty: it holds tables the watcher does not make "
                f"({', '.join(foreign)}): copy into a new, empty database"
            )
        counts = {
            t: int(await self.conn.fetchval(f"SELECT count(*) FROM {quote_identifier(t)}")) for t in present
        }
        if any(counts.values()):
            raise CopyRefused(
                f"the PostgreSQL database {where} is not empty: it holds rows in {await _describe_rows(counts)} "
                "(schema version "
                f"{await postgres_version(self.conn)}): copy into a new, empty database"
            )
        await migrate_postgres(self.conn)
        rows = await self.conn.fetch(
            """SELECT table_name, column_name, data_type FROM information_schema.columns
               WHERE table_schema = current_schema()"""
        )
        for table, column, kind in rows:
            self.types.setdefault(str(table), {})[str(column)] = str(kind)

    async def columns(self, table: str) -> list[str]:
        return list(self.types.get(table, {}))

    def convert(
        self,
        table: str,
        columns: Sequence[str],
        key_of: Callable[[Row], str],
        rows: list[Row],
        problems: list[Problem],
    ) -> list[Row]:
        converters = [_CONVERTERS.get(self.types[table][c], ("value", lambda v: v)) for c in columns]
        converted: list[Row] = []
        for row in rows:
            values: list[Any] = []
            for column, (wanted, convert), value in zip(columns, converters, row, strict=True):
                if value is None:
                    values.append(None)
                    continue
                try:
                    values.append(convert(value))
                except (ValueError, UnicodeDecodeError, OverflowError):
                    problems.append(Problem(table, column, key_of(row), value, wanted))
                    break
            else:
                converted.append(tuple(values))
        return converted

    async def insert(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def count(self, table: str) -> int:
        return int(await self.conn.fetchval(f"SELECT count(*) FROM {quote_identifier(table)}"))

    async def finish(self) -> None:
        await advance_identities(self.conn)


class SqliteTarget:
    """A new SQLite file, created and migrated by :class:`~watcher.store.db.Database`, filled in one
    write transaction. Values go in as PostgreSQL gave them (SQLite takes every type)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn: aiosqlite.Connection = db.conn

    @staticmethod
    async def refuse_existing(path: Path) -> None:
        """A file with anything in it is not a new database: say what it holds."""
        if not path.exists() or (path.is_file() and path.stat().st_size == 0):
            return
        held = ""
        with contextlib.suppress(sqlite3.Error, DatabaseError, OSError):
            async with SqliteSource.open(path) as existing:
                held = await _describe_rows({t: await existing.count(t) for t in await existing.tables()})
                held = f": it holds rows in {held}" if held else ": a database with no rows"
        raise CopyRefused(
            f"there is a file at {path.absolute()} already{held or ''}: give the path of a new file"
        )

    async def columns(self, table: str) -> list[str]:
        cursor = await self.conn.execute("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))
        return [str(r[0]) for r in await cursor.fetchall()]

    def convert(
        self,
        table: str,
        columns: Sequence[str],
        key_of: Callable[[Row], str],
        rows: list[Row],
        problems: list[Problem],
    ) -> list[Row]:
        return rows

    async def insert(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        names = ", ".join(map(quote_identifier, columns))
        marks = ", ".join("?" * len(columns))
        await self.conn.executemany(f"INSERT INTO {quote_identifier(table)} ({names}) VALUES ({marks})", rows)

    async def count(self, table: str) -> int:
        cursor = await self.conn.execute(f"SELECT count(*) FROM {quote_identifier(table)}")
        row = await cursor.fetchone()
        return int(row[0]) if row is not None else 0

    async def finish(self) -> None:
        """Nothing to set: SQLite numbers from the highest id, and its trigger keeps the id floor."""


class Target(Protocol):
    async def columns(self, table: str) -> list[str]: ...
    def convert(
        self,
        table: str,
        columns: Sequence[str],
        key_of: Callable[[Row], str],
        rows: list[Row],
        problems: list[Problem],
    ) -> list[Row]: ...
    async def insert(self, table: str, columns: Sequence[str], rows: list[Row]) -> None: ...
    async def count(self, table: str) -> int: ...
    async def finish(self) -> None: ...
