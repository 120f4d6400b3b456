"""The store suite runs on both engines: every test that takes ``db`` runs once on SQLite and once on
a fresh database of the real PostgreSQL server (issue 20). Tests of SQLite's own (its file, its
pragmas) build their databases themselves and do not take ``db``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import postgres as pg
from watcher.store.engine import Store

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(params=ENGINES)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, migrated database of the engine the test is run on."""
    async with pg.store_on(request.param, request, tmp_path / "w.sqlite3") as database:
        yield database
