"""What the store's query functions need of a connection, whichever engine is behind it (issue 20).

The functions that run inside a transaction (``async with db.transaction() as conn``) take a
:class:`Connection`: ``execute`` and ``executemany`` with ``?`` placeholders, a :class:`Cursor` with
``fetchone``/``fetchall``/``rowcount``, rows read by position and column name (:class:`Row`). An
aiosqlite connection is one as it is; :class:`watcher.store.pg.PgConnection` is the PostgreSQL one.
Only structure, no behaviour: SQLite's path stays aiosqlite's, call for call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Iterator, Sequence
from typing import Any, Protocol


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
