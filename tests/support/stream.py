"""Shared helpers of the stream tests: the real captured events, and replays built by varying them."""

from __future__ import annotations

import asyncio
import copy
import json
import random
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.fixtures import EVENTS
from watcher.stream.titleset import TitleSet

EQIAD_SSE = EVENTS / "sse_recentchange_2025-08-29_eqiad.sse"
CODFW_SSE = EVENTS / "sse_recentchange_2026-03-03_codfw_commons_categorize.sse"
UA = "WatcherTest/0.1 (https://museum.example; tests@museum.example) aiohttp"
WIKI = "commonswiki"


def sample_payloads() -> list[tuple[str, bytes]]:
    """Every JSON event in the fixtures as (file name, raw bytes as published), pretty-printed ones too."""
    out: list[tuple[str, bytes]] = []
    for path in sorted(EVENTS.iterdir()):
        raw = path.read_bytes()
        if path.suffix == ".sse":
            out += [(path.name, line[6:]) for line in raw.splitlines() if line.startswith(b"data: ")]
        elif path.suffix == ".jsonl":
            out += [(path.name, line) for line in raw.splitlines() if line.strip()]
        elif path.suffix == ".json":
            loaded = json.loads(raw)
            if isinstance(loaded, list):
                out += [(path.name, json.dumps(e, ensure_ascii=False).encode()) for e in loaded]
            else:
                out.append((path.name, raw))
    return out


def sample_events() -> list[dict[str, Any]]:
    """The recentchange events among the samples (they have `wiki`), parsed."""
    events = [json.loads(raw) for _, raw in sample_payloads()]
    return [e for e in events if isinstance(e, dict) and "wiki" in e]


def replay(n: int, *, seed: int = 1, start: datetime | None = None) -> list[dict[str, Any]]:
    """``n`` events varied from the real ones: fresh ``meta.id``, varied titles, strictly increasing time."""
    rng = random.Random(seed)
    base = [e for e in sample_events() if "meta" in e]
    t = start or datetime(2025, 8, 29, 6, 45, tzinfo=UTC)
    out = []
    for i in range(n):
        ev = copy.deepcopy(rng.choice(base))
        ev["meta"]["id"] = str(uuid.UUID(int=rng.getrandbits(128)))
        t += timedelta(milliseconds=rng.randint(1, 90))
        ev["meta"]["dt"] = t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if isinstance(ev.get("title"), str) and rng.random() < 0.8:
            stem, dot, ext = ev["title"].rpartition(".")
            ev["title"] = f"{stem} {i}{dot}{ext}" if dot else f"{ev['title']} {i}"
        out.append(ev)
    return out


def is_candidate(
    ev: dict[str, Any], titles: Iterable[str], users: Iterable[str] = (), wiki: str = WIKI
) -> bool:
    """The rule the prefilter must implement, written plainly on parsed events."""
    if (ev.get("meta") or {}).get("domain") == "canary" or ev.get("wiki") != wiki:
        return False
    if ev.get("title") in set(titles):
        return True
    return ev.get("type") == "log" and ev.get("log_type") == "upload" and ev.get("user") in set(users)


def titleset(*titles: str) -> TitleSet:
    return TitleSet(titles)


async def eventually(condition: Callable[[], bool], limit: float = 5.0) -> None:
    """Wait until ``condition()`` holds (polled); fail after ``limit`` seconds."""
    for _ in range(int(limit / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")
