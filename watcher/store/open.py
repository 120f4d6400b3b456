"""Opening the store where the config says it is: a SQLite file, or a PostgreSQL database by URL.

Both give a :class:`~watcher.store.engine.Store`. A read-only command (``create=False``) never
makes a new store: a missing SQLite file and a PostgreSQL database the watcher never migrated are both
:class:`~watcher.store.db.DatabaseMissing`, with the same advice.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from watcher.base.values import Engine, engine_of
from watcher.config import Config
from watcher.store.db import Database, DatabaseError, DatabaseMissing
from watcher.store.engine import Store
from watcher.store.pg import PgDatabase, PgSettings, describe_url
from watcher.store.schema import SCHEMA_VERSION


def store_settings(config: Config) -> PgSettings:
    """How a node uses a PostgreSQL store, from ``[watcher] database_pool_size`` and
    ``database_statement_timeout`` (a SQLite file ignores them)."""
    return PgSettings(
        pool_min=1,
        pool_max=config.watcher.database_pool_size,
        statement_timeout_s=config.watcher.database_statement_timeout,
    )


def location_text(location: Path | str) -> str:
    """The store's location for messages: the file, or the URL with its password masked."""
    if isinstance(location, str) and engine_of(location) is Engine.POSTGRESQL:
        return describe_url(location)
    return str(location)


async def connect_store(
    location: Path | str, *, create: bool = True, migrate: bool = True, settings: PgSettings | None = None
) -> Store:
    """The store at ``location``, migrated unless ``migrate`` is False (then it must be current)."""
    if isinstance(location, Path) or engine_of(location) is Engine.SQLITE:
        return await Database.connect(Path(location), create=create, migrate=migrate)
    db = await PgDatabase.connect(location, settings)
    try:
        found = await db.user_version()
        if found == 0 and not create:
            raise DatabaseMissing(
                f"no watcher database at {db.path}: run `watcher run` first (or check -c/--config)"
            )
        if migrate:
            await db.migrate()
        elif found < SCHEMA_VERSION:
            raise DatabaseError(
                f"the database {db.path} is at schema version {found}, this watcher needs "
                f"{SCHEMA_VERSION}: start `watcher run` once to migrate it"
            )
    except BaseException:
        await db.close()
        raise
    return db


@contextlib.asynccontextmanager
async def open_store(
    location: Path | str, *, create: bool = True, migrate: bool = True, settings: PgSettings | None = None
) -> AsyncIterator[Store]:
    db = await connect_store(location, create=create, migrate=migrate, settings=settings)
    try:
        yield db
    finally:
        await db.close()
