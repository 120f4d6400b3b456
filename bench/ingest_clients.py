"""The clients the daemon is compared with, over the same bytes from the same firehose.

* the bare client: aiohttp ``readline()`` per line and ``json.loads`` of every ``data:`` line, about
  what pywikibot's EventStreams client does;
* the raw read: the body's bytes through aiohttp (``iter_any``) and nothing else, the ceiling;
* the parser only: :meth:`watcher.stream.EventStream.batches` (SSE parsing, the prefilter and the
  cursor bookkeeping) in this process, without the daemon around it. Labelled as such: it is not
  what users run.

Each one reads until it has every event, then closes; the firehose times the connection.
"""

from __future__ import annotations

import contextlib
import json

import aiohttp

from bench.ingest_data import UA
from watcher.stream.client import READ_BUFSIZE, EventStream
from watcher.stream.prefilter import TitleSetMatcher

START_ID = '[{"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":0}]'


async def bare_client(url: str, events: int) -> int:
    """Baseline: one await per line, ``json.loads`` of every data line; returns the events read."""
    headers = {"User-Agent": UA, "Last-Event-ID": START_ID}
    seen = 0
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers=headers, read_bufsize=READ_BUFSIZE) as resp,
    ):
        while seen < events:
            line = await resp.content.readline()
            if not line:
                break
            if line.startswith(b"data: "):
                json.loads(line[6:])
                seen += 1
    return seen


async def raw_read(url: str, nbytes: int) -> int:
    """Ceiling: the bytes and nothing else; returns the bytes read (the ``:ok`` comment included)."""
    headers = {"User-Agent": UA, "Last-Event-ID": START_ID}
    got = 0
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers=headers, read_bufsize=READ_BUFSIZE) as resp,
    ):
        async for chunk in resp.content.iter_any():
            got += len(chunk)
            if got >= nbytes:
                break
    return got


async def parser_only(url: str, events: int, matcher: TitleSetMatcher) -> tuple[int, int]:
    """``EventStream.batches()`` alone; returns (events seen, candidates)."""
    stream = EventStream(url, UA, "commonswiki", matcher, last_event_id=START_ID, last_event_time=None)
    seen = candidates = 0
    async with contextlib.aclosing(stream.batches()) as batches:
        async for batch in batches:
            seen += batch.seen
            candidates += len(batch.events)
            if seen >= events:
                break
    return seen, candidates
