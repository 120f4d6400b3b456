"""What the store's query functions need of a connection, whichever engine is behind it (issue 20).

The functions that run inside a transaction (``async with db.transaction() as conn``) take a
:class:`Connection`: ``execute`` and ``executemany`` with ``?`` placeholders, a :class:`Cursor` with
``fetchone``/``fetchall``/``rowcount``, rows read by position and column name (:class:`Row`). An
aiosqlite connection is one as it is; :class:`watcher.store.pg.PgConnection` is the PostgreSQL one.
Only structure, no behaviour: SQLite's path stays aiosqlite's, call for call.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import asyncpg

from watcher.store.db import DatabaseError


class Row(Protocol):
    """A result row: ``row[0]``, ``row["title"]``, ``row.keys()`` (``sqlite3.Row``, ``PgRow``)."""

    def __getitem__(self, key: Any, /) -> Any: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Any]: ...
    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """What ``execute`` gives back."""

    @property
    def rowcount(self) -> int: ...
    @property
    def lastrowid(self) -> int | None: ...
    async def fetchone(self) -> Row | None: ...
    async def fetchall(self) -> Iterable[Row]: ...
    async def close(self) -> None: ...


class Connection(Protocol):
    """A connection inside one of the store's transactions."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Awaitable[Cursor]: ...
    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Awaitable[Cursor]: ...


class Store(Protocol):
    """A database of the watcher's, whichever engine: what the stages above the store use of one
    (``watcher.store.db.Database`` on SQLite, ``watcher.store.pg.PgDatabase`` on PostgreSQL)."""

    @property
    def path(self) -> os.PathLike[str] | str:
        """What messages name: the SQLite file, or the server's URL with its password masked."""

    async def fetchall(self, sql: str, params: Sequence[Any] = ..., /) -> Sequence[Row]: ...
    async def fetchone(self, sql: str, params: Sequence[Any] = ..., /) -> Row | None: ...
    async def scalar(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...
    async def write(self, sql: str, params: Sequence[Any] = ..., /) -> int: ...
    async def write_many(self, sql: str, rows: Iterable[Sequence[Any]], /) -> None: ...
    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...
    def reading(self) -> AbstractAsyncContextManager[Connection]:
        """A connection for several reads in a row, outside a write transaction."""

    async def user_version(self) -> int: ...
    async def table_columns(self) -> dict[str, list[str]]:
        """Every table of the store with its columns in order (what later migrations added shows)."""

    async def writable(self) -> bool: ...
    def check_still_there(self) -> None: ...
    async def close(self) -> None: ...


# What a statement of either engine raises when the database refuses it or is not there (the store's
# own DatabaseError subclasses say it in words where the store can): what a stage that reads an optional
# figure catches, rather than one engine's exception type.
STATEMENT_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, asyncpg.PostgresError)
# The same, and the store's own errors in words (a database gone, locked, damaged or unreachable).
STORE_ERRORS: tuple[type[Exception], ...] = (*STATEMENT_ERRORS, DatabaseError)
