"""Fixtures of the history-mode tests: a started stand-in holding a museum collection, a config pointing
at it, a database whose tracked set is resolved, and an API client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.config import USER_AGENT
from tests.support.history import Collection, build_collection, write_config
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi
from watcher.store import Database
from watcher.tracking.resolver import TrackedSet, TrackingResolver


@pytest.fixture
async def peer() -> AsyncIterator[ActionApiPeer]:
    async with ActionApiPeer() as started:
        yield started


@pytest.fixture
def collection(peer: ActionApiPeer) -> Collection:
    return build_collection(peer, 400)


@pytest.fixture
def config(tmp_path: Path, peer: ActionApiPeer) -> Config:
    return write_config(tmp_path, peer.url)[0]


@pytest.fixture
async def api(peer: ActionApiPeer) -> AsyncIterator[ActionApi]:
    async with ActionApi(peer.url, USER_AGENT) as client:
        yield client


@pytest.fixture
async def db(
    tmp_path: Path, config: Config, collection: Collection, api: ActionApi
) -> AsyncIterator[Database]:
    """The database with the collection's tracked set resolved (as `watcher run` leaves it)."""
    database = await Database.connect(tmp_path / "w.sqlite3")
    try:
        await TrackingResolver(config.tracking, api, database, TrackedSet()).resolve_all()
        yield database
    finally:
        await database.close()
