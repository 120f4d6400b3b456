"""The end-to-end tests' store on either engine (issue 20): a test that takes ``store_location`` runs
once against a SQLite file and once against a fresh database of the real PostgreSQL server. Tests of
SQLite's own behaviour (its file, its lock, its WAL) build their file themselves and do not take it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import postgres as pg
from watcher.base.values import Engine


@pytest.fixture(params=list(Engine), ids=str)
async def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Path | str]:
    """What ``[watcher] database`` says: a SQLite file in a folder not made yet (the daemon makes
    both), or the URL of a new empty PostgreSQL database (C collation), dropped after the test."""
    if request.param is Engine.SQLITE:
        yield tmp_path / "state" / "watcher.sqlite3"
        return
    server: pg.PostgresServer = request.getfixturevalue("postgres")
    async with pg.fresh_database(server) as dsn:
        yield dsn
