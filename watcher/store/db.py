"""The SQLite connection: WAL, ``synchronous=FULL``, one writer, migrations.

aiosqlite interleaves statements of concurrent tasks on one connection, so every write goes through
:meth:`Database.transaction`, which holds an ``asyncio.Lock`` around ``BEGIN IMMEDIATE … COMMIT``.
Readers (the CLI, the web page) open their own connection; WAL lets them read while the daemon writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from watcher.store.schema import MIGRATIONS

log = logging.getLogger("watcher.store")

BUSY_TIMEOUT_MS = 10_000


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message says why in plain words."""


def utcnow() -> str:
    """The current time as the contract spells times: ISO 8601, UTC, with a Z."""
    return iso_utc(datetime.now(UTC))


def iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Database:
    """One aiosqlite connection with a write lock. Use ``async with Database.open(path) as db``."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, path: Path, *, migrate: bool = True, readonly: bool = False
    ) -> AsyncIterator[Database]:
        db = await cls.connect(path, migrate=migrate, readonly=readonly)
        try:
            yield db
        finally:
            await db.close()

    @classmethod
    async def connect(cls, path: Path, *, migrate: bool = True, readonly: bool = False) -> Database:
        if readonly:
            if not path.exists():
                raise DatabaseError(f"no database at {path} yet: start `watcher run` first")
            target = f"file:{path}?mode=rw"
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create the folder for the database {path}: {exc}") from exc
            target = f"file:{path}"
        try:
            conn = await aiosqlite.connect(
                target, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
            )
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open the database {path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        db = cls(conn, path)
        try:
            await db._configure()
            if migrate:
                await db.migrate()
            elif await db.user_version() < len(MIGRATIONS):
                raise DatabaseError(
                    f"the database {path} is at schema version {await db.user_version()}, "
                    f"this watcher needs {len(MIGRATIONS)}: start `watcher run` once to migrate it"
                )
        except BaseException:
            await conn.close()
            raise
        return db

    async def _configure(self) -> None:
        try:
            await self.conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            mode = await self.scalar("PRAGMA journal_mode=WAL")
            if str(mode).lower() != "wal":
                log.warning("SQLite refused WAL mode for %s (journal_mode=%s)", self.path, mode)
            await self.conn.execute("PRAGMA synchronous=FULL")
            await self.conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"{self.path} is not a usable SQLite database: {exc}") from exc

    async def close(self) -> None:
        await self.conn.close()

    async def user_version(self) -> int:
        return int(await self.scalar("PRAGMA user_version") or 0)

    async def migrate(self) -> None:
        current = await self.user_version()
        if current > len(MIGRATIONS):
            raise DatabaseError(
                f"the database {self.path} has schema version {current}, newer than this watcher "
                f"({len(MIGRATIONS)}): upgrade watcher instead of downgrading the database"
            )
        for version in range(current + 1, len(MIGRATIONS) + 1):
            async with self.transaction() as conn:
                # Another process may have migrated while we waited for the write lock.
                cursor = await conn.execute("PRAGMA user_version")
                row = await cursor.fetchone()
                if row is not None and int(row[0]) >= version:
                    continue
                for statement in MIGRATIONS[version - 1]:
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version={version}")
            log.info("database %s migrated to schema version %d", self.path, version)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error or cancel."""
        async with self._write_lock:
            try:
                await asyncio.shield(self.conn.execute("BEGIN IMMEDIATE"))
            except asyncio.CancelledError:
                # The BEGIN may still run: never leave the shared connection inside a transaction.
                await asyncio.shield(self._rollback())
                raise
            try:
                yield self.conn
            except BaseException:
                await asyncio.shield(self._rollback())
                raise
            else:
                await asyncio.shield(self.conn.execute("COMMIT"))

    async def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            await self.conn.execute("ROLLBACK")

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        cursor = await self.conn.execute(sql, params)
        rows = await cursor.fetchall()
        await cursor.close()
        return list(rows)

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        cursor = await self.conn.execute(sql, params)
        row = await cursor.fetchone()
        await cursor.close()
        return row

    async def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def write(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """A single-statement write transaction; returns the number of rows changed."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

    async def write_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def writable(self) -> bool:
        """Whether a write transaction can be taken now (for health checks)."""
        try:
            async with self.transaction() as conn:
                await conn.execute("UPDATE state SET value = value WHERE key = 'health'")
        except sqlite3.Error:
            return False
        return True
