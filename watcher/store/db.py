"""The SQLite connection: WAL, ``synchronous=FULL``, one writer, migrations.

aiosqlite interleaves statements of concurrent tasks on one connection, so every write goes through
:meth:`Database.transaction`, which holds an ``asyncio.Lock`` around ``BEGIN IMMEDIATE … COMMIT``.
Readers (the CLI, the web page) open their own connection; WAL lets them read while the daemon writes.

Guards against losing edits without noticing (issue 13): :class:`DaemonLock` keeps a second daemon off
a database, :meth:`Database.check_still_there` notices the file being deleted or replaced under a
running daemon (and refuses writes from then on, and at close takes the connection's -wal off the
path, where SQLite would apply it to whatever file is there next), ``create=False`` keeps read-only commands from
creating an empty database at a mistyped path, ``verify=True`` runs ``PRAGMA quick_check`` at connect,
and a database (with its -wal and -shm files, which SQLite gives the same mode) and the folders made
for it are private to the user. Each kind of failure is its own :class:`DatabaseError` with the exit
code a command stops with.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from watcher.store.schema import MIGRATIONS

log = logging.getLogger("watcher.store")

BUSY_TIMEOUT_MS = 10_000


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message says why in plain words.

    ``exit_code`` is what a command exits with when this stops it (sysexits.h where one fits), so a
    script or systemd can tell a busy database from a missing or a damaged one.
    """

    exit_code = 1


class DatabaseLocked(DatabaseError):
    """Another watcher daemon holds the database's lock; ``holder`` is what it wrote there, if readable."""

    exit_code = 75  # EX_TEMPFAIL: try again once the other one has stopped

    def __init__(self, message: str, holder: LockHolder | None) -> None:
        super().__init__(message)
        self.holder = holder


class DatabaseMissing(DatabaseError):
    """No database at the path a command that must not create one was given (a typo, a wrong -c)."""

    exit_code = 66  # EX_NOINPUT


class DatabaseDamaged(DatabaseError):
    """The file is not a SQLite database or fails its integrity check; the message says how to restore."""

    exit_code = 65  # EX_DATAERR


class DatabaseGone(DatabaseError):
    """The file was deleted or replaced under an open connection, which now writes where nobody reads."""

    exit_code = 74  # EX_IOERR


@dataclass(frozen=True)
class LockHolder:
    """Who holds a :class:`DaemonLock`: written into the lock file as JSON."""

    pid: int
    host: str
    started: str

    def describe(self) -> str:
        here = socket.gethostname()
        where = "" if self.host == here else f" on {self.host}"
        return f"pid {self.pid}{where}, started {self.started}"


def lock_path(database: Path) -> Path:
    """The daemon lock file beside a database: ``<database>.lock``."""
    return database.with_name(database.name + ".lock")


def _make_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parents, each 0700 (the database's folder is private)."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    if not missing and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
    for item in reversed(missing):
        try:
            item.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(item, 0o700)  # mkdir's mode is masked by the umask; ask for exactly 0700


def _create_private(path: Path) -> None:
    """Create an empty database file 0600 if none is there (SQLite then gives -wal and -shm its mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _uri(path: Path, mode: str | None) -> str:
    uri = path.absolute().as_uri()  # percent-encodes '?', '#' and '%' in the path
    return f"{uri}?mode={mode}" if mode else uri


_RESTORE_HINT = (
    "restore it from a backup, or salvage what is left with `sqlite3 {path} .recover > recovered.sql`"
    " and load that into a new database (`sqlite3 new.sqlite3 < recovered.sql`)"
)


# SQLite's primary result codes for a damaged file (an exception's sqlite_errorcode is the extended one).
_DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def explain_sqlite_error(path: Path, exc: sqlite3.Error) -> DatabaseError:
    """A :class:`DatabaseError` in plain words for an error SQLite raised while using ``path``.

    A damaged file (``SQLITE_CORRUPT``, ``SQLITE_NOTADB``) gets :class:`DatabaseDamaged` with the
    way to restore it; anything else (locked past the busy timeout, disk full, …) says what failed.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _DAMAGE_CODES:
        return DatabaseDamaged(
            f"the database {path.absolute()} is damaged ({exc}): stop anything using it, then "
            + _RESTORE_HINT.format(path=path)
        )
    return DatabaseError(f"the database {path.absolute()} failed: {exc}")


class DaemonLock:
    """An exclusive lock a daemon holds on its database for its whole life.

    ``flock`` on ``<database>.lock`` (the kernel drops it when the process dies, so a crash leaves no
    stale lock), with the holder's pid, host and start time inside for the next one's error message.
    Use ``with DaemonLock.acquire(path):`` or call :meth:`release`. Only processes sharing the
    folder's filesystem see each other (``flock`` over NFS is not reliable).
    """

    def __init__(self, path: Path, fd: int, holder: LockHolder) -> None:
        self.path = path
        self.holder = holder
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, database: Path) -> DaemonLock:
        """Take the lock for ``database`` or raise :class:`DatabaseLocked` naming its holder (or
        :class:`DatabaseError` if the lock file cannot be made)."""
        path = lock_path(database)
        try:
            _make_folder(path.parent)
        except OSError as exc:
            raise DatabaseError(f"cannot create the folder for the database {database}: {exc}") from exc
        for _ in range(10):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                raise DatabaseError(f"cannot create the lock file {path}: {exc}") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_holder(fd)
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise DatabaseError(f"cannot lock {path}: {exc}") from exc
                who = f" ({holder.describe()})" if holder else ""
                raise DatabaseLocked(
                    f"another watcher{who} is running on this database {database}: stop it first, "
                    f"or give this one another database (its lock is {path})",
                    holder,
                ) from None
            # A releasing holder unlinks the file: make sure ours is still the one at the path.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            holder = LockHolder(os.getpid(), socket.gethostname(), utcnow())
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder.__dict__).encode() + b"\n", 0)
            return cls(path, fd, holder)
        raise DatabaseError(f"cannot lock {path}: it keeps being replaced")

    def release(self) -> None:
        """Give the lock up (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _read_holder(fd: int) -> LockHolder | None:
    try:
        raw = json.loads(os.pread(fd, 4096, 0))
        return LockHolder(int(raw["pid"]), str(raw["host"]), str(raw["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


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
        self._identity: tuple[int, int] | None = None
        self._lost: str | None = None  # why check_still_there failed: writes are refused from then on
        self._companions: dict[str, tuple[int, int]] = {}  # our -wal and -shm files, by suffix

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        path: Path,
        *,
        migrate: bool = True,
        readonly: bool = False,
        create: bool = True,
        verify: bool = False,
    ) -> AsyncIterator[Database]:
        db = await cls.connect(path, migrate=migrate, readonly=readonly, create=create, verify=verify)
        try:
            yield db
        finally:
            await db.close()

    @classmethod
    async def connect(
        cls,
        path: Path,
        *,
        migrate: bool = True,
        readonly: bool = False,
        create: bool = True,
        verify: bool = False,
    ) -> Database:
        """Open (and by default create and migrate) the database at ``path``.

        ``create=False`` (implied by ``readonly``) refuses a missing file instead of making an empty
        database there; ``verify=True`` runs ``PRAGMA quick_check`` first (the daemon's start).
        """
        if readonly or not create:
            if not path.exists():
                raise DatabaseMissing(
                    f"no database at {path.absolute()}: run `watcher run` first (or check -c/--config)"
                )
            target = _uri(path, "rw")
        else:
            try:
                _make_folder(path.parent)
            except OSError as exc:
                raise DatabaseError(f"cannot create the folder for the database {path}: {exc}") from exc
            try:
                _create_private(path)
            except OSError as exc:
                raise DatabaseError(f"cannot create the database {path}: {exc}") from exc
            target = _uri(path, None)
        try:
            conn = await aiosqlite.connect(
                target, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
            )
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open the database {path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        db = cls(conn, path)
        try:
            st = os.stat(path)
            db._identity = (st.st_dev, st.st_ino)
            await db._configure()
            if verify:
                await db.verify()
            if migrate:
                await db.migrate()
            elif await db.user_version() < len(MIGRATIONS):
                raise DatabaseError(
                    f"the database {path} is at schema version {await db.user_version()}, "
                    f"this watcher needs {len(MIGRATIONS)}: start `watcher run` once to migrate it"
                )
            db._note_companions()
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
            raise DatabaseDamaged(
                f"{self.path} is not a usable SQLite database ({exc}): if it was one, "
                + _RESTORE_HINT.format(path=self.path)
            ) from exc

    async def verify(self) -> None:
        """``PRAGMA quick_check``: raise :class:`DatabaseError` with a way out if the file is damaged."""
        try:
            rows = await self.fetchall("PRAGMA quick_check(20)")
            lines = [line for row in rows for line in str(row[0]).splitlines()]
            problems = [line for line in lines if line.strip() and not line.startswith("***")]
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems != ["ok"]:
            shown = "; ".join(problems[:3]) + ("; …" if len(problems) > 3 else "")
            raise DatabaseDamaged(
                f"the database {self.path.absolute()} is damaged ({shown}): stop anything using it, then "
                + _RESTORE_HINT.format(path=self.path)
            )

    def check_still_there(self) -> None:
        """Raise :class:`DatabaseGone` if the file at :attr:`path` is gone or is no longer the one this
        connection opened (deleted, or replaced by a restore or a move); cheap: a ``stat`` or three.

        Once it has raised, every later :meth:`transaction` raises too: nothing more is committed
        into a file nobody else can read.
        """
        if self._lost is not None:
            raise DatabaseGone(self._lost)
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        if st is not None and (st.st_dev, st.st_ino) == self._identity:
            self._note_companions()
            return
        what = "deleted" if st is None else "replaced"
        self._lost = (
            f"the database file {self.path.absolute()} was {what} while the watcher ran "
            "(this process still writes to the old one, which nothing else reads): stop the "
            "watcher, put the right database back at that path, and start it again"
        )
        raise DatabaseGone(self._lost)

    async def close(self) -> None:
        await self.conn.close()
        if self._lost is not None:
            self._set_companions_aside()

    def _companion(self, suffix: str) -> Path:
        return self.path.with_name(self.path.name + suffix)

    def _note_companions(self) -> None:
        """Remember which -wal and -shm files at the path are this connection's: the first ones seen
        while its database file is there (SQLite keeps them, same inode, while a connection is open)."""
        for suffix in ("-wal", "-shm"):
            if suffix in self._companions:
                continue
            with contextlib.suppress(OSError):
                st = os.stat(self._companion(suffix))
                self._companions[suffix] = (st.st_dev, st.st_ino)

    def _set_companions_aside(self) -> None:
        """After the file was deleted or replaced: take this connection's -wal and -shm off the path.

        SQLite neither checkpoints nor deletes the write-ahead log of a database file that moved
        under it, and the next connection at the path would apply those frames to whatever file is
        there now (a restored backup, a new empty database), damaging it. The log is kept beside it
        under another name (its last writes, for an expert); the -shm index is only a cache.
        """
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        for suffix, identity in self._companions.items():
            companion = self._companion(suffix)
            try:
                st = os.stat(companion)
                if (st.st_dev, st.st_ino) != identity:
                    continue  # someone else's (restored together with the database): leave it
                if suffix == "-wal" and st.st_size > 0:
                    aside = companion.with_name(f"{companion.name}.orphaned-{stamp}")
                    os.replace(companion, aside)
                    log.warning(
                        "moved the write-ahead log of the lost database to %s, so that it is not applied "
                        "to whatever file is at %s now",
                        aside,
                        self.path,
                    )
                else:
                    os.unlink(companion)
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.error(
                    "cannot remove %s (%s): delete it before the next start, or it damages the database "
                    "at %s",
                    companion,
                    exc,
                    self.path,
                )

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
            if self._lost is not None:
                raise DatabaseGone(self._lost)
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

    async def table_columns(self) -> dict[str, list[str]]:
        """Every table with its columns in order."""
        tables: dict[str, list[str]] = {}
        for row in await self.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            columns = await self.fetchall("SELECT name FROM pragma_table_info(?) ORDER BY cid", (row[0],))
            tables[str(row[0])] = [str(column[0]) for column in columns]
        return tables

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, for several reads in a row outside a write transaction (the store's
        :class:`~watcher.store.engine.Store`; a PostgreSQL store lends a pooled connection)."""
        yield self.conn

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
