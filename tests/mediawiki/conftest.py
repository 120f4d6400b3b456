"""Fixtures for the Action API client and its loopback stand-in: a started peer and a client whose
sleeps are recorded instead of waited."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.mediawiki import USER_AGENT, RecordedSleeps
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi


@pytest.fixture
async def peer() -> AsyncIterator[ActionApiPeer]:
    async with ActionApiPeer() as started:
        yield started


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
async def api(peer: ActionApiPeer, sleeps: RecordedSleeps) -> AsyncIterator[ActionApi]:
    async with ActionApi(peer.url, USER_AGENT, sleep=sleeps) as client:
        yield client
