"""The store on PostgreSQL (issue 20): :class:`PgDatabase` speaks to asyncpg as the store speaks to
aiosqlite, and :class:`LeaderLock` picks the one node of a deployment that follows the stream.

**One writer at a time.** The store's transactions were written for SQLite, where ``BEGIN IMMEDIATE``
makes every write transaction the only one: a read followed by a write inside one sees no other
writer between them. :meth:`PgDatabase.transaction` keeps that on PostgreSQL with a transaction-level
advisory lock (:data:`WRITE_LOCK_KEY`) taken first, so the store's read-then-write transactions stay
correct across every node of a deployment, as they are across the processes of one SQLite file.
Readers never wait for it.

**Statements as written.** Every statement goes through :data:`watcher.store.dialect.POSTGRESQL`; the
parameters are converted to the types the server inferred for them (SQLite stores an int in a TEXT
column, PostgreSQL refuses it), and ``sum()``'s numeric results come back as int, as SQLite's do.

**The leader.** :class:`LeaderLock` holds a session advisory lock on a connection of its own, with TCP
keepalives short enough that the server frees the lock within about 25 s of a node vanishing; a node
that loses the connection loses the lock with it, and :meth:`LeaderLock.held` says so before it
commits more stream work. Failing to reach the server is :class:`DatabaseUnavailable` (exit 75), which
callers retry with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import decimal
import functools
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Self, TypeAlias, cast

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from watcher.store.db import DatabaseError
from watcher.store.dialect import POSTGRESQL
from watcher.store.pg_schema import migrate_postgres, postgres_tables, postgres_version
from watcher.store.schema import SCHEMA_VERSION

log = logging.getLogger("watcher.store")

# Advisory lock keys (one 64-bit space per database): the letters WATCHWRT and WATCHLDR as numbers.
WRITE_LOCK_KEY = int.from_bytes(b"WATCHWRT")
LEADER_LOCK_KEY = int.from_bytes(b"WATCHLDR")
# How long a node that vanished (power, network) holds the leader's lock before the server notices:
# keepalive after 10 s idle, then every 5 s, given up after 3 unanswered: about 25 s, within the 30 s
# a standby is to take over in.
LEADER_KEEPALIVE = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}
_WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_QUERIES = re.compile(r"^\s*(SELECT|WITH|INSERT|UPDATE|DELETE|VALUES)\b", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
# Each statement's parameter types as the server inferred them (from the schema, so the same on every
# connection), asked once by a prepare: later runs then go through asyncpg's statement cache
# (``Connection.fetch`` and ``execute``), one round trip each. ``Connection.prepare`` never uses that
# cache, so preparing each time cost a parse and a round trip more on every statement.
_PARAMETER_TYPES: OrderedDict[str, tuple[str, ...]] = OrderedDict()
_PARAMETER_TYPES_KEPT = 2048  # statements (an IN list of each length is one): the least recent go
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
)
_SERVER_ERRORS: tuple[type[BaseException], ...] = (*_CONNECTION_ERRORS, asyncpg.PostgresError)


# A server connection: one of its own (the leader's lock) or one lent by the pool.
ServerConnection: TypeAlias = "asyncpg.Connection | PoolConnectionProxy[asyncpg.Record]"


class DatabaseUnavailable(DatabaseError):
    """The PostgreSQL server cannot be reached now (down, restarting, refusing): try again later."""

    exit_code = 75  # EX_TEMPFAIL


@dataclass(frozen=True)
class PgSettings:
    """How a node uses the server: its pool's size, how long one statement may run, how long
    connecting may take (``[watcher] database_pool`` and friends in the config, later)."""

    pool_min: int = 1
    pool_max: int = 10
    statement_timeout_s: float = 30.0
    connect_timeout_s: float = 10.0


@functools.lru_cache(maxsize=4096)
def translated(statement: str) -> str:
    """A statement in PostgreSQL's words, translated once per distinct text."""
    return POSTGRESQL.sql(statement)


def _value(value: Any) -> Any:
    """A result value as SQLite would give it: integral numerics (``sum`` of integers) as int."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class PgRow(Sequence[Any]):
    """A result row read by position and by column name, like ``sqlite3.Row``."""

    __slots__ = ("_names", "_values")

    def __init__(self, record: asyncpg.Record) -> None:
        self._names = tuple(record.keys())
        self._values = tuple(_value(v) for v in record.values())

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return self._values[self._names.index(key)]
            except ValueError:
                raise IndexError(f"no column {key!r}") from None
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def keys(self) -> list[str]:
        return list(self._names)

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._names, self._values, strict=True))!r})"


class PgCursor:
    """What ``execute`` gives back: the rows (all fetched), ``rowcount`` as SQLite counts it (rows
    changed by INSERT/UPDATE/DELETE, -1 for a query); ``lastrowid`` is never known (use RETURNING)."""

    lastrowid: int | None = None

    def __init__(self, rows: list[PgRow], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    async def fetchone(self) -> PgRow | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[PgRow]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest

    async def close(self) -> None:
        self._rows = []

    def __aiter__(self) -> AsyncIterator[PgRow]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[PgRow]:
        while (row := await self.fetchone()) is not None:
            yield row


def _rowcount(status: str | None, sql: str) -> int:
    """``INSERT 0 3`` → 3, ``UPDATE 2`` → 2; a query (or anything else) → -1, as sqlite3 says."""
    if not status or not _WRITES.match(sql):
        return -1
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


def _coerce(value: Any, type_name: str) -> Any:
    """A parameter as the server typed it: SQLite took an int for TEXT and a digit string for INTEGER."""
    if value is None:
        return None
    if type_name in ("text", "varchar", "bpchar", "name"):
        if isinstance(value, bool):
            return str(int(value))
        return value if isinstance(value, str) else str(value)
    if type_name in ("int2", "int4", "int8"):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    if type_name in ("float4", "float8", "numeric") and isinstance(value, int | str):
        return float(value) if type_name != "numeric" else decimal.Decimal(str(value))
    return value


class PgConnection:
    """One server connection, spoken to as the store speaks to an aiosqlite connection: ``execute``
    and ``executemany`` with ``?`` placeholders and a sequence of parameters."""

    def __init__(self, conn: ServerConnection) -> None:
        self.conn = conn

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> PgCursor:
        statement = translated(sql)
        if not parameters and not _QUERIES.match(statement):
            status = await self.conn.execute(statement)  # DDL and the like: the simple protocol
            return PgCursor([], _rowcount(status, statement))
        args = await self._arguments(statement, parameters)
        if _WRITES.match(statement) and not _RETURNING.search(statement):
            status = await self.conn.execute(statement, *args)
            return PgCursor([], _rowcount(status, statement))
        records = await self.conn.fetch(statement, *args)
        written = len(records) if _WRITES.match(statement) else -1  # RETURNING: a row for each row written
        return PgCursor([PgRow(r) for r in records], written)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> PgCursor:
        statement = translated(sql)
        changed = 0
        for row in rows:  # one by one, so that rowcount adds up as sqlite3's executemany does
            status = await self.conn.execute(statement, *await self._arguments(statement, row))
            changed += max(_rowcount(status, statement), 0)
        return PgCursor([], changed)

    async def _arguments(self, statement: str, parameters: Sequence[Any]) -> list[Any]:
        """``parameters`` as the server types the statement's parameters (see :func:`_coerce`)."""
        kinds = _PARAMETER_TYPES.get(statement)
        if kinds is None:
            prepared = await self.conn.prepare(statement)
            kinds = tuple(t.name for t in prepared.get_parameters())
            _PARAMETER_TYPES[statement] = kinds
            if len(_PARAMETER_TYPES) > _PARAMETER_TYPES_KEPT:
                _PARAMETER_TYPES.popitem(last=False)
        else:
            _PARAMETER_TYPES.move_to_end(statement)
        return [_coerce(v, t) for v, t in zip(parameters, kinds, strict=False)]


def describe_url(url: str) -> str:
    """The URL for messages and logs: its password masked, in the URL or its query (user, host, port
    and database kept, so an operator can tell which server is meant)."""
    masked = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)
    return re.sub(r"(?i)([?&](?:password|passfile)=)[^&]*", r"\1***", masked)


class PgDatabase:
    """The store on a PostgreSQL database: a pool for reads, one writer at a time across every node."""

    def __init__(self, pool: asyncpg.Pool, url: str, settings: PgSettings) -> None:
        self.pool = pool
        self.url = url
        self.path = describe_url(url)  # what messages name, as a SQLite Database names its file
        self.settings = settings
        self._write_lock = asyncio.Lock()  # one of this process's transactions at a time, as on SQLite

    @classmethod
    async def connect(cls, url: str, settings: PgSettings | None = None) -> Self:
        """A pool on ``url`` (password from the URL, ``$PGPASSWORD`` or a passfile, as libpq reads them)."""
        settings = settings or PgSettings()
        server_settings = {"statement_timeout": str(int(settings.statement_timeout_s * 1000))}
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=settings.pool_min,
                max_size=settings.pool_max,
                timeout=settings.connect_timeout_s,
                server_settings=server_settings,
            )
        except _CONNECTION_ERRORS as exc:
            raise DatabaseUnavailable(f"cannot reach the database {describe_url(url)}: {exc}") from exc
        except asyncpg.PostgresError as exc:
            raise DatabaseError(f"the database {describe_url(url)} refused the connection: {exc}") from exc
        return cls(pool, url, settings)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, url: str, settings: PgSettings | None = None) -> AsyncIterator[Self]:
        db = await cls.connect(url, settings)
        try:
            yield db
        finally:
            await db.close()

    async def close(self) -> None:
        await self.pool.close()

    def check_still_there(self) -> None:
        """A server database cannot be swapped under a running node as a file can: nothing to check."""

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[ServerConnection]:
        try:
            async with self.pool.acquire() as conn:
                yield conn
        except _CONNECTION_ERRORS as exc:
            raise DatabaseUnavailable(f"lost the database {self.path}: {exc}") from exc

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgConnection]:
        """One write transaction, the only one of the deployment while it runs (see the module's
        docstring); rolled back on any error or cancel."""
        async with self._write_lock, self._connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK_KEY)
            yield PgConnection(conn)

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[PgConnection]:
        """A pooled connection for several reads in a row (each statement its own snapshot)."""
        async with self._connection() as conn:
            yield PgConnection(conn)

    async def table_columns(self) -> dict[str, list[str]]:
        """Every table of the schema with its columns in order."""
        async with self._connection() as conn:
            return await postgres_tables(cast(asyncpg.Connection, conn))  # a pool's proxy of one

    async def leader_present(self) -> bool:
        """Whether some node of the deployment holds the leader's lock on this database now (what
        `watcher status` asks on a shared store, where the stored pid is another machine's)."""
        async with self._connection() as conn:
            return bool(
                await conn.fetchval(
                    "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = "
                    "current_database()) AND ((classid::bigint << 32) | objid::bigint) = $1",
                    LEADER_LOCK_KEY,
                )
            )

    async def user_version(self) -> int:
        """The schema version of the database (0 for an empty one)."""
        async with self._connection() as conn:
            return await postgres_version(cast(asyncpg.Connection, conn))  # a pool's proxy of one

    async def migrate(self) -> None:
        """Bring the schema to this watcher's version (refused where the database is newer)."""
        async with self._connection() as conn:
            found = await migrate_postgres(cast(asyncpg.Connection, conn))  # a pool's proxy of one
        if found < SCHEMA_VERSION:
            log.info("database %s migrated from schema version %d to %d", self.path, found, SCHEMA_VERSION)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[PgRow]:
        async with self._connection() as conn:
            return await (await PgConnection(conn).execute(sql, params)).fetchall()

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> PgRow | None:
        async with self._connection() as conn:
            return await (await PgConnection(conn).execute(sql, params)).fetchone()

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def write(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self.transaction() as conn:
            return (await conn.execute(sql, params)).rowcount

    async def write_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def writable(self) -> bool:
        """Whether a write transaction can be taken now (for health checks)."""
        try:
            async with self.transaction() as conn:
                await conn.execute("UPDATE state SET value = value WHERE key = 'health'")
        except (DatabaseError, asyncpg.PostgresError):
            return False
        return True


class LeaderLock:
    """The one node that follows the stream: a session advisory lock on a connection of its own.

    ``try_acquire`` answers at once; ``wait`` polls until this node is the leader; ``held`` checks the
    lock's connection still stands (a node whose connection died lost the lock, and another may hold
    it already: it must stop committing stream work). ``release`` lets a standby take over at once.
    """

    def __init__(self, url: str, *, key: int = LEADER_LOCK_KEY, connect_timeout_s: float = 10.0) -> None:
        self.url = url
        self.key = key
        self.connect_timeout_s = connect_timeout_s
        self._conn: asyncpg.Connection | None = None

    async def _connect(self) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(
                self.url, timeout=self.connect_timeout_s, server_settings=dict(LEADER_KEEPALIVE)
            )
        except _CONNECTION_ERRORS as exc:
            raise DatabaseUnavailable(f"cannot reach the database {describe_url(self.url)}: {exc}") from exc

    async def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True where this node holds it now."""
        if self._conn is not None and await self.held():
            return True
        conn = self._conn = await self._connect()
        try:
            got = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key))
        except _SERVER_ERRORS:
            await self._drop()
            raise
        if not got:
            await self._drop()
        return got

    async def wait(self, poll_s: float = 2.0) -> None:
        """Until this node is the leader; a server that cannot be reached is tried again at each poll."""
        while True:
            try:
                if await self.try_acquire():
                    return
            except DatabaseUnavailable as exc:
                log.warning("%s; trying again in %.0f s", exc, poll_s)
            await asyncio.sleep(poll_s)

    async def held(self) -> bool:
        """Whether the lock's connection still stands (and so the lock with it)."""
        conn = self._conn
        if conn is None or conn.is_closed():
            return False
        try:
            return bool(
                await conn.fetchval(
                    "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND objsubid = 1 AND pid = pg_backend_pid() "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "AND ((classid::bigint << 32) | objid::bigint) = $1",
                    self.key,
                    timeout=self.connect_timeout_s,
                )
            )
        except _SERVER_ERRORS:
            await self._drop()
            return False

    async def release(self) -> None:
        conn = self._conn
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(*_SERVER_ERRORS):
                await conn.execute("SELECT pg_advisory_unlock($1)", self.key)
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(*_SERVER_ERRORS):
                await conn.close(timeout=2)
