"""``watcher db copy``: a whole store from one engine to the other, ids kept, counts verified (issue 20).

The source is read in one read-only snapshot (SQLite opened ``mode=ro`` in one read transaction;
PostgreSQL in one ``REPEATABLE READ READ ONLY`` transaction), so the copy is consistent even where
something writes to the source meanwhile. The target must be empty; it is migrated to the schema
version first (the same version the source must be at), then filled in one transaction, table by
table in an order the foreign keys accept, in batches (``COPY`` on PostgreSQL, ``executemany`` on
SQLite); on any failure nothing is kept (a new SQLite file is removed again). PostgreSQL's identity
counters are then set past the copied ids and the id floor. Tables the schema's triggers keep from
others (the change tallies) are not copied: the target's triggers make them as the rows go in. After
the commit every table's rows are counted on both sides.

SQLite is loosely typed: a column declared INTEGER may hold text that is no number. Values are
converted by the PostgreSQL column's type; one that cannot be is reported (table, column, row key),
nothing more is written but every remaining value is still checked (all are reported at once), and the
copy is rolled back: the counts show what it had written when it stopped.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from watcher.store.copy_ends import (
    CONNECT_TIMEOUT_S,
    CopyRefused,
    PostgresSource,
    PostgresTarget,
    Problem,
    Row,
    Source,
    SqliteSource,
    SqliteTarget,
    Target,
    connect_postgres,
)
from watcher.store.db import DaemonLock, Database, DatabaseError, DatabaseLocked
from watcher.store.dialect import Engine, engine_of
from watcher.store.open import location_text
from watcher.store.pg import LeaderLock
from watcher.store.schema import SCHEMA_VERSION
from watcher.store.tally_tables import DERIVED_TABLES

BATCH_ROWS = 5000
MAX_PROBLEMS_SHOWN = 20
# Copied last: SQLite's trigger changes_fresh_ids renumbers a change inserted at or below the id floor
# kept in `state`, so the changes must all be in before the floor is.
LAST_TABLES = ("state",)


@dataclass
class CopyReport:
    """Each table's rows on both sides after the copy, the values left out, and how long it took."""

    source: str
    target: str
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # table: (source, target)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    kept: bool = False  # False: rolled back (the target holds no copied rows)

    @property
    def differing(self) -> list[str]:
        return [table for table, (a, b) in self.counts.items() if a != b]

    @property
    def rows(self) -> int:
        return sum(a for a, _ in self.counts.values())


def copy_order(parents: dict[str, set[str]]) -> list[str]:
    """Tables in an order the foreign keys accept (parents first; by name among equals), with
    :data:`LAST_TABLES` at the end."""
    ordered: list[str] = []
    remaining = {table: set(found) & set(parents) - {table} for table, found in parents.items()}
    while remaining:
        ready = sorted(t for t, needs in remaining.items() if not needs - set(ordered))
        if not ready:
            raise DatabaseError(f"the foreign keys of {', '.join(sorted(remaining))} form a cycle")
        ordered.extend(ready)
        for table in ready:
            del remaining[table]
    last = [t for t in LAST_TABLES if t in ordered]
    return [t for t in ordered if t not in last] + last


# -- the copy ------------------------------------------------------------------------------------


class _RollBack(Exception):
    """Values were left out: undo the copy (the report says which)."""


@contextlib.asynccontextmanager
async def _daemon_lock(database: str, *, role: str, force: bool) -> AsyncIterator[None]:
    """Hold the daemon's lock of ``database`` for the copy (no daemon starts on it meanwhile); where a
    daemon holds it, refuse, or with ``force`` (the source only) copy without it."""
    running = f"a watcher daemon is running on the {role} {location_text(database)}"
    if engine_of(database) is Engine.POSTGRESQL:
        leader = LeaderLock(database, connect_timeout_s=CONNECT_TIMEOUT_S)
        try:
            got = await leader.try_acquire()
        except (DatabaseError, asyncpg.PostgresError, OSError) as exc:
            cause = exc.__cause__ or exc
            raise DatabaseError(
                f"cannot reach the PostgreSQL database {location_text(database)}: {cause}"
            ) from exc
        try:
            if not got and not force:
                raise DatabaseLocked(
                    f"{running}: stop it first{_FORCE_HINT if role == 'source' else ''}", None
                )
            yield
        finally:
            await leader.release()
        return
    try:
        lock = DaemonLock.acquire(Path(database))
    except DatabaseLocked as exc:
        if not force:
            raise DatabaseLocked(f"{exc}{_FORCE_HINT if role == 'source' else ''}", exc.holder) from None
        yield
        return
    except DatabaseError:
        yield  # no lock file can be made beside it (a read-only folder): nothing starts a daemon there
        return
    with lock:
        yield


_FORCE_HINT = " (or copy a snapshot anyway with --force: what it writes after the snapshot is not copied)"


def _same(source: str, target: str) -> bool:
    if engine_of(source) is Engine.POSTGRESQL or engine_of(target) is Engine.POSTGRESQL:
        return source == target
    return Path(source).absolute() == Path(target).absolute() or (
        Path(target).exists() and Path(source).exists() and os.path.samefile(source, target)
    )


@contextlib.asynccontextmanager
async def _source(database: str) -> AsyncIterator[Source]:
    if engine_of(database) is Engine.POSTGRESQL:
        async with PostgresSource.open(database) as pg_source:
            yield pg_source
    else:
        async with SqliteSource.open(Path(database)) as lite_source:
            yield lite_source


async def _fill(
    source: Source, target: Target, tables: dict[str, list[str]], batch: int, report: CopyReport
) -> None:
    """Every table's rows, parents first, in batches."""
    for table in copy_order(await source.parents()):
        if table in DERIVED_TABLES:
            continue  # the target's triggers fill it from the rows copied
        columns = tables[table]
        missing = sorted(set(columns) - set(await target.columns(table)))
        if missing:
            raise CopyRefused(
                f"the source's table {table} has columns the schema does not make ({', '.join(missing)})"
            )
        key = [columns.index(k) for k in await source.key(table)]

        def key_of(row: Row, key: list[int] = key, columns: list[str] = columns) -> str:
            return ", ".join(f"{columns[i]}={row[i]!r}" for i in key) or "(no key)"

        async for rows in source.batches(table, columns, batch):
            rows = target.convert(table, columns, key_of, rows, report.problems)
            if not rows or report.problems:
                continue  # once a row is left out the copy is rolled back: only look for more problems
            try:
                await target.insert(table, columns, rows)
            except (asyncpg.PostgresError, sqlite3.Error) as exc:
                raise DatabaseError(f"copying the table {table} failed: {str(exc).splitlines()[0]}") from exc


async def copy_database(
    source: str, target: str, *, force: bool = False, batch: int = BATCH_ROWS
) -> CopyReport:
    """Copy the store at ``source`` (a SQLite path or a PostgreSQL URL) into the empty ``target``.

    Raises :class:`CopyRefused` (target not empty, schema versions apart), ``DatabaseLocked`` (a
    daemon runs on the source, without ``force``, or on the target) or ``DatabaseError``.
    """
    if _same(source, target):
        raise CopyRefused(f"the source and the target are the same database ({location_text(source)})")
    report = CopyReport(location_text(source), location_text(target))
    async with _daemon_lock(source, role="source", force=force), _source(source) as reader:
        version = await reader.version()
        if version != SCHEMA_VERSION:
            advice = (
                "run any watcher command on it once to migrate it"
                if version < SCHEMA_VERSION
                else "use that newer watcher to copy it"
            )
            raise CopyRefused(
                f"the source {location_text(source)} is at schema version {version}, this watcher's is "
                f"{SCHEMA_VERSION}: {advice}"
            )
        tables = await reader.tables()
        sources = {table: await reader.count(table) for table in tables}
        started = time.monotonic()
        if engine_of(target) is Engine.POSTGRESQL:
            targets = await _into_postgres(reader, target, tables, batch, report, force)
        else:
            targets = await _into_sqlite(reader, Path(target), tables, batch, report, force)
        report.seconds = time.monotonic() - started
    report.counts = {table: (sources[table], targets.get(table, 0)) for table in sorted(tables)}
    return report


async def _into_postgres(
    reader: Source, url: str, tables: dict[str, list[str]], batch: int, report: CopyReport, force: bool
) -> dict[str, int]:
    async with _daemon_lock(url, role="target", force=False):
        conn = await connect_postgres(url)
        try:
            target = PostgresTarget(url, conn)
            try:
                await target.prepare(list(tables))
                async with conn.transaction():
                    await _fill(reader, target, tables, batch, report)
                    await target.finish()
                    counts = {table: await target.count(table) for table in tables}
                    if report.problems:
                        raise _RollBack
                report.kept = True
                return {table: await target.count(table) for table in tables}
            except _RollBack:
                return counts
            except asyncpg.PostgresError as exc:
                raise DatabaseError(f"the PostgreSQL database {location_text(url)} failed: {exc}") from exc
        finally:
            await conn.close()


async def _into_sqlite(
    reader: Source, path: Path, tables: dict[str, list[str]], batch: int, report: CopyReport, force: bool
) -> dict[str, int]:
    await SqliteTarget.refuse_existing(path)
    made: list[Path] = []
    try:
        async with _daemon_lock(str(path), role="target", force=False):
            made.append(path)
            db = await Database.connect(path)  # creates it (0600) and migrates it
            try:
                target = SqliteTarget(db)
                try:
                    async with db.transaction():
                        await _fill(reader, target, tables, batch, report)
                        counts = {table: await target.count(table) for table in tables}
                        if report.problems:
                            raise _RollBack
                    report.kept = True
                    return {table: await target.count(table) for table in tables}
                except _RollBack:
                    return counts
            finally:
                await db.close()
    finally:
        if not report.kept:
            for leftover in made + [path.with_name(path.name + s) for s in ("-wal", "-shm")] if made else []:
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
