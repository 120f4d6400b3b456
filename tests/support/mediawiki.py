"""Shared helpers for the Action API client and stand-in tests: recorded sleeps, rewritten answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.fixtures import mediainfo
from watcher.demo.standins.action_api import ActionApiPeer

USER_AGENT = "CommonsWatcherTest/0.1 (https://museum.example; collections@museum.example) aiohttp"


class RecordedSleeps:
    """Stands in for asyncio.sleep: remembers each requested delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def mediainfo_slot() -> str:
    """The raw slot JSON text of the M5234 fixture (pretty-printed, ``"descriptions": []``)."""
    return mediainfo("fixture_M5234_slot_shape.json")


Rewrite = Callable[[dict[str, str], dict[str, Any]], dict[str, Any]]


def rewrite_answers(peer: ActionApiPeer, monkeypatch: pytest.MonkeyPatch, rewrite: Rewrite) -> None:
    """Pass each answer of the stand-in through ``rewrite(params, body)``: MediaWiki's shapes, but with
    parts left out, as a broken replica or proxy might answer (``monkeypatch`` undoes it)."""
    original = peer.answer

    def answer(params: dict[str, str]) -> dict[str, Any]:
        return rewrite(params, original(params))

    monkeypatch.setattr(peer, "answer", answer)


def drop_revision(revid: int) -> Rewrite:
    """A rewrite that leaves one revision out of ``query.pages`` without naming it in ``badrevids``."""

    def rewrite(params: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        for page in body.get("query", {}).get("pages", []):
            page["revisions"] = [r for r in page.get("revisions", []) if r.get("revid") != revid]
        return body

    return rewrite


def empty_list(name: str) -> Rewrite:
    """A rewrite that empties ``query.<name>`` of list queries (valid JSON, nothing listed)."""

    def rewrite(params: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if params.get("list") == name:
            body = {"batchcomplete": True, "query": {name: []}}
        return body

    return rewrite
