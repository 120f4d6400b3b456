"""The end-to-end harness: the real daemon as a subprocess against both loopback stand-ins.

The stand-in wiki (Action API) is the source of truth; its recent changes are published on the
stand-in EventStreams through the bridge, exactly as Wikimedia's pipeline would, so the revisions the
daemon fetches always match the events it reads.

The store the daemon writes is a SQLite file or a PostgreSQL database (issue 20): ``query`` and
``records`` read a SQLite file synchronously; ``aquery``/``arecords``/``astate``/``acounters`` read
either (the file as fast as ``query``, a PostgreSQL URL with one asyncpg connection a call).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import asyncpg

from tests.support.processes import stop_process
from watcher.base.values import Engine, engine_of
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.bridge import WikiBridge
from watcher.demo.standins.eventstreams import EventStreamsStandIn
from watcher.diff import diff_revisions
from watcher.diff.model import RevisionContent
from watcher.store.dialect import POSTGRESQL
from watcher.store.queue import unique_key

CATEGORY = "Category:Media contributed by Example Museum"
# What the readers below ask, written for SQLite (on PostgreSQL through the store's dialect).
CHANGES_SQL = "SELECT * FROM changes ORDER BY id"
STATE_SQL = "SELECT value FROM state WHERE key = ?"
COUNTERS_SQL = "SELECT name, value FROM counters"


def config_text(
    api_url: str,
    stream_url: str,
    database: Path | str,
    *,
    wiki_name: str = "commonswiki",
    tracking: str = f'categories = ["{CATEGORY}"]\ncategory_depth = 1',
    read_timeout: float = 5,
    resume_margin: float = 10,
    more: str = "",
) -> str:
    """The daemon's config for a test: loopback peers, fast reconnects, the test museum's id rules."""
    return f"""
[watcher]
database = "{database}"
user_agent = "WatcherTests/1.0 (https://museum.example; tests@museum.example)"

[stream]
url = "{stream_url}"
read_timeout = {read_timeout}
backoff_initial = 0.2
backoff_max = 1
resume_margin = {resume_margin}

[wiki]
name = "{wiki_name}"
api_url = "{api_url}"

[tracking]
{tracking}

[[tracking.object_id]]
template = "Artwork"
param = "accession number"

[[tracking.object_id]]
pattern = ' - EXM (\\d+)\\.\\w+$'

[filters]
ignore_bots = true

[labels]
languages = []
{more}
"""


@dataclass
class Peers:
    api: ActionApiPeer
    stream: EventStreamsStandIn
    bridge: WikiBridge

    def publish(self) -> int:
        events = self.bridge.pending()
        self.stream.publish(*events)
        return len(events)


@asynccontextmanager
async def peers_on(api: ActionApiPeer) -> AsyncIterator[Peers]:
    """The stream stand-in beside a started wiki whose pages are in place; the wiki's past is not on
    the stream (only what changes from now on is published). Both are stopped afterwards."""
    stream = EventStreamsStandIn()
    await stream.start()
    bridge = WikiBridge(api.changes)
    bridge.published = len(api.changes)
    try:
        yield Peers(api, stream, bridge)
    finally:
        await stream.stop()
        await api.close()


@dataclass
class DaemonProcess:
    config: Path
    log: Path
    proc: asyncio.subprocess.Process | None = None
    runs: int = 0
    env: dict[str, str] = field(default_factory=dict)

    async def start(self) -> None:
        self.runs += 1
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        handle = self.log.open("ab")
        handle.write(f"\n----- run {self.runs} -----\n".encode())
        handle.flush()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "watcher", "run", "-c", str(self.config), "--log-level", "debug",
            stdout=handle, stderr=handle, env=env,
        )  # fmt: skip
        handle.close()

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def terminate(self, limit: float = 10.0) -> tuple[int, float]:
        """SIGTERM; returns the exit code and how long the exit took."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), timeout=limit)
        return code, time.monotonic() - started

    async def stop(self) -> None:
        """Whatever the test did: SIGTERM, then SIGKILL if it does not exit in time (finalizers call this)."""
        if self.proc is not None:
            await stop_process(self.proc)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


class Row(Protocol):
    """A row of either engine (``sqlite3.Row``, ``asyncpg.Record``): by index, by name, its names."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...

    def __iter__(self) -> Iterator[Any]: ...


def query(database: Path, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    """A reader connection, like `watcher changes` uses; safe while the daemon writes."""
    if not database.exists():
        return []
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute(sql, params))
    except sqlite3.OperationalError:
        return []  # not migrated yet
    finally:
        conn.close()


def records(database: Path) -> list[dict[str, Any]]:
    return [dict(row) for row in query(database, CHANGES_SQL)]


def is_postgresql(database: Path | str) -> bool:
    """Whether ``database`` (what ``[watcher] database`` says) is a PostgreSQL URL."""
    return isinstance(database, str) and engine_of(database) is Engine.POSTGRESQL


async def aquery(database: Path | str, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
    """:func:`query` on either engine. ``sql`` is written for SQLite (``?`` placeholders); on
    PostgreSQL it goes through the store's dialect. A table not migrated yet gives [] on both."""
    if not is_postgresql(database):
        return list(query(Path(database), sql, params))
    conn = await asyncpg.connect(str(database), timeout=10)
    try:
        return list(await conn.fetch(POSTGRESQL.sql(sql), *params))
    except asyncpg.UndefinedTableError:
        return []  # not migrated yet
    finally:
        await conn.close()


async def arecords(database: Path | str) -> list[dict[str, Any]]:
    """:func:`records` on either engine."""
    return [dict(row) for row in await aquery(database, CHANGES_SQL)]


async def astate(database: Path | str, key: str) -> str | None:
    """:func:`state` on either engine."""
    rows = await aquery(database, STATE_SQL, (key,))
    return rows[0][0] if rows else None


async def acounters(database: Path | str) -> dict[str, int]:
    """:func:`counters` on either engine."""
    return {row[0]: row[1] for row in await aquery(database, COUNTERS_SQL)}


async def wait_for(
    predicate: Callable[[], bool | Awaitable[bool]], limit: float, what: str, log: DaemonProcess | None = None
) -> None:
    """Poll ``predicate`` (plain, or a coroutine function: the readers of a PostgreSQL store are
    async) until it holds; fail after ``limit`` seconds with the daemon's log tail."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        held = predicate()
        if isinstance(held, Awaitable):
            held = await held
        if held:
            return
        await asyncio.sleep(0.05)
    tail = log.log_text()[-4000:] if log is not None else ""
    raise AssertionError(f"timed out after {limit} s waiting for {what}\n--- daemon log tail ---\n{tail}")


def state(database: Path, key: str) -> str | None:
    rows = query(database, STATE_SQL, (key,))
    return rows[0][0] if rows else None


def counters(database: Path) -> dict[str, int]:
    return {row[0]: row[1] for row in query(database, COUNTERS_SQL)}


def as_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=1, ensure_ascii=False)


def museum_files(api: ActionApiPeer, count: int) -> list[str]:
    """``count`` files in the test museum's category, each with an Information template (what the
    daemon tracks in the end-to-end tests); their titles."""
    api.add_page(CATEGORY, "")
    files = [f"File:Object - EXM {n}.jpg" for n in range(count)]
    for n, title in enumerate(files):
        text = f"{{{{Information\n|description={{{{en|1=Object {n}}}}}\n|date=1890\n}}}}"
        api.add_page(title, text, categories=[CATEGORY])
    return files


def community_edits(api: ActionApiPeer, files: list[str], edits: int) -> set[str]:
    """``edits`` volunteers' edits, a Swedish description each, to ``files`` in turn; the unique keys of
    the changes they make (what the daemon must queue, each once)."""
    expected: set[str] = set()
    for step in range(edits):
        title = files[step % len(files)]
        old = api.page(title).latest.wikitext
        new = old.replace("\n|date=", f"\n{{{{sv|1=Text {step}}}}}\n|date=", 1)
        revision = api.edit(title, new, user=f"Volunteer {step % 5}", comment=f"step {step}")
        for change in diff_revisions(RevisionContent(old), RevisionContent(new)):
            expected.add(unique_key("commonswiki", revision, change))
    return expected
