"""Shared helpers for the Action API client and stand-in tests ."""

from __future__ import annotations

import asyncio

from tests.support.fixtures import mediainfo

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
