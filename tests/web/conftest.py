"""Fixtures of the review page's tests: a temporary database, a config, users, a test client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher

from tests.support.web import CONFIG_TEXT, PASSWORD
from watcher.config import Config, parse_config
from watcher.store.db import Database
from watcher.web import auth
from watcher.web.app import create_app


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with tiny costs: the same code paths, milliseconds instead of a second per test."""
    monkeypatch.setattr(auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config(CONFIG_TEXT, tmp_path / "config.toml")


@pytest.fixture
async def db(config: Config) -> AsyncIterator[Database]:
    database = await Database.connect(config.database)
    yield database
    await database.close()


@pytest.fixture
async def users(db: Database) -> None:
    await auth.add_user(db, "anna", PASSWORD, "reviewer")
    await auth.add_user(db, "otto", PASSWORD, "readonly")


ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, db: Database, config: Config, users: None
) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(create_app(db, config))
