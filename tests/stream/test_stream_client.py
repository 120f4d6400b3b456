"""The reconnecting client against the loopback stand-in: nothing lost, nothing repeated, and polite."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web

from tests.support.ports import free_port
from tests.support.stream import UA, WIKI, eventually, is_candidate, replay, titleset
from watcher.base.retry import parse_retry_after
from watcher.demo.standins.eventstreams import EventStreamsStandIn, Faults
from watcher.stream.client import EventBatch, EventStream
from watcher.stream.prefilter import TitleSetMatcher

BEFORE_ALL = datetime(2025, 8, 29, 6, 0, tzinfo=UTC)  # earlier than every replayed event
START_ID = '[{"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":0}]'


class Sleeps:
    """Injected sleep: records each backoff and barely waits, so tests see delays without taking them."""

    def __init__(self, hook: Callable[[int], Any] | None = None) -> None:
        self.delays: list[float] = []
        self.hook = hook

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self.hook is not None:
            await self.hook(len(self.delays))
        await asyncio.sleep(0.001)


def tracked(events: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Track about a tenth of the Commons titles in the replay, a category, and one uploader."""
    titles = [*[e["title"] for e in events if e["wiki"] == WIKI][::10], "Category:Jetons"]
    return titles, ["1971markus"]


def client(url: str, events: list[dict[str, Any]], **kw: Any) -> EventStream:
    titles, users = tracked(events)
    kw.setdefault("last_event_id", None)
    kw.setdefault("last_event_time", None)
    kw.setdefault("now", lambda: BEFORE_ALL)
    kw.setdefault("sleep", Sleeps())
    return EventStream(url, UA, WIKI, TitleSetMatcher(titleset(*titles), titleset(*users)), **kw)


def expected(events: list[dict[str, Any]]) -> list[str]:
    titles, users = tracked(events)
    return [e["meta"]["id"] for e in events if is_candidate(e, titles, users)]


async def collect(
    stream: EventStream, until: Callable[[list[EventBatch]], bool], limit: float = 15
) -> list[EventBatch]:
    batches: list[EventBatch] = []

    async def run() -> None:
        async with contextlib.aclosing(stream.batches()) as it:
            async for batch in it:
                batches.append(batch)
                if until(batches):
                    return

    await asyncio.wait_for(run(), limit)
    return batches


def seen(n: int) -> Callable[[list[EventBatch]], bool]:
    return lambda bs: sum(b.seen for b in bs) >= n


def candidate_ids(batches: list[EventBatch]) -> list[str]:
    return [e.data["meta"]["id"] for b in batches for e in b.events]


def frame_id(es: EventStreamsStandIn, index: int) -> str:
    return es.frame(index).split(b"\n")[1][4:].decode()


# -- the happy path ------------------------------------------------------------------------------


async def test_replay_yields_exactly_the_candidates() -> None:
    events = replay(300)
    async with EventStreamsStandIn(events) as es:
        stream = client(es.url, events)
        batches = await collect(stream, seen(300))
    want = expected(events)
    assert 10 < len(want) < 100
    assert candidate_ids(batches) == want
    assert sum(b.seen for b in batches) == 300
    assert batches[-1].last_id == frame_id(es, 299) == stream.stats.last_id
    assert batches[-1].last_time == events[-1]["meta"]["dt"]
    for b in batches:
        for e in b.events:
            assert json.loads(e.id)[0]["timestamp"] > 0  # the SSE id string, verbatim
    # First start: `since` = now, no Last-Event-ID.
    first = es.requests[0]
    assert first.query == {"since": "2025-08-29T06:00:00.000Z"} and first.last_event_id is None
    assert stream.stats.connects == 1 and stream.stats.seen == 300 and stream.stats.malformed == 0


async def test_batches_without_candidates_still_carry_the_cursor() -> None:
    events = replay(40)
    async with EventStreamsStandIn(events) as es:
        stream = EventStream(
            es.url, UA, WIKI, TitleSetMatcher(titleset(), titleset()), last_event_id=None,
            last_event_time=None, now=lambda: BEFORE_ALL,
        )  # fmt: skip
        batches = await collect(stream, seen(40))
    assert all(not b.events for b in batches)
    assert batches[-1].last_id == frame_id(es, 39)


async def test_first_start_gets_live_events_only() -> None:
    old = replay(30)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    new = replay(5, seed=7, start=now + timedelta(seconds=1))
    connects: list[int] = []
    async with EventStreamsStandIn(old) as es:
        stream = client(es.url, new, now=lambda: now, on_connect=lambda: connects.append(1))

        async def publish_when_connected() -> None:
            await eventually(lambda: bool(connects))
            es.publish(*new)

        publisher = asyncio.create_task(publish_when_connected())
        batches = await collect(stream, seen(5))
        await publisher
    assert es.requests[0].query["since"] == "2026-01-01T00:00:00.000Z"
    assert es.requests[0].start == 30  # nothing older than `since` was served
    assert candidate_ids(batches) == expected(new) and connects == [1]


# -- resuming ---------------------------------------------------------------------------------------


async def test_drops_resume_with_last_event_id_nothing_lost_or_repeated() -> None:
    events = replay(300)
    async with EventStreamsStandIn(events) as es:
        es.plan(Faults(drop_after=50), Faults(drop_after=1), Faults(drop_after=120))
        stream = client(es.url, events)
        batches = await collect(stream, seen(300))
    assert candidate_ids(batches) == expected(events)
    assert sum(b.seen for b in batches) == 300 and stream.stats.duplicates == 0
    assert [r.start for r in es.requests] == [0, 50, 51, 171]
    # Each resume sends the id of the last event yielded, verbatim.
    assert [r.last_event_id for r in es.requests[1:]] == [frame_id(es, i) for i in (49, 50, 170)]
    assert stream.stats.connects == 4 and stream.stats.reconnects == 3


async def test_drop_in_the_middle_of_an_event() -> None:
    events = replay(100)
    async with EventStreamsStandIn(events) as es:
        es.plan(Faults(drop_after=30, drop_mid_event=True), Faults(drop_after=0, drop_mid_event=True))
        stream = client(es.url, events)
        batches = await collect(stream, seen(100))
    assert candidate_ids(batches) == expected(events)
    assert sum(b.seen for b in batches) == 100 and stream.stats.malformed == 0
    assert [r.start for r in es.requests] == [0, 30, 30]


async def test_timestamp_resume_repeats_are_dropped_by_meta_id() -> None:
    events = replay(12)
    # Event 1 is older than event 0 (the real stream does this): resuming after it by timestamp makes
    # the server start again at event 0, so events 0 and 1 come twice.
    events[1]["meta"]["dt"] = "2025-08-29T06:44:00.000Z"
    for e in events[:2]:
        e["wiki"], e["title"] = WIKI, "Category:Jetons"
    async with EventStreamsStandIn(events) as es:
        es.plan(Faults(drop_after=2))
        stream = client(es.url, events)
        batches = await collect(stream, seen(14))
    assert es.requests[1].start == 0
    assert candidate_ids(batches) == expected(events)
    assert stream.stats.duplicates == 2 and sum(b.seen for b in batches) == 14


async def test_hang_is_caught_by_the_read_watchdog(caplog: pytest.LogCaptureFixture) -> None:
    events = replay(60)
    caplog.set_level(logging.INFO, "watcher.stream")
    async with EventStreamsStandIn(events) as es:
        es.plan(Faults(hang_after=20))
        stream = client(es.url, events, read_timeout=0.3)
        batches = await collect(stream, seen(60))
    assert candidate_ids(batches) == expected(events)
    assert [r.start for r in es.requests] == [0, 20]
    assert es.requests[1].last_event_id == frame_id(es, 19)
    assert "no data from the stream for 0.3 s" in caplog.text
    assert es.max_concurrent == 1


async def test_eof_error_event_and_malformed_data(caplog: pytest.LogCaptureFixture) -> None:
    events = replay(80)
    caplog.set_level(logging.INFO, "watcher.stream")
    async with EventStreamsStandIn(events) as es:
        es.plan(Faults(eof_after=10), Faults(error_after=5), Faults(malformed_after=7))
        stream = client(es.url, events)
        batches = await collect(stream, seen(81))
    assert candidate_ids(batches) == expected(events)
    assert [r.start for r in es.requests] == [0, 10, 15]
    assert sum(b.malformed for b in batches) == stream.stats.malformed == 1
    assert sum(b.seen for b in batches) == 81  # the broken record counts as seen
    assert "the stream closed the connection" in caplog.text
    assert "the stream sent an error event" in caplog.text and "injected error" in caplog.text
    assert "skipping a malformed event" in caplog.text


@pytest.mark.parametrize("crlf", [False, True])
async def test_odd_chunk_sizes_and_crlf(crlf: bool) -> None:
    events = replay(60)
    async with EventStreamsStandIn(events) as es:
        es.faults = Faults(chunk_sizes=(1, 2, 3, 700, 5, 8, 13, 4000, 21), crlf=crlf)
        es.plan(Faults(drop_after=25, chunk_sizes=(3, 1, 997), crlf=crlf))
        stream = client(es.url, events)
        batches = await collect(stream, seen(60))
    assert candidate_ids(batches) == expected(events)
    assert [r.start for r in es.requests] == [0, 25]
    assert len(batches) > 20  # the pieces really did arrive apart


# -- HTTP errors, backoff, unreachable ----------------------------------------------------------------


async def test_retry_after_honoured_seconds_and_date() -> None:
    events = replay(20)
    now = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    async with EventStreamsStandIn(events, id_style="offset") as es:
        es.plan(
            Faults(status=429, retry_after="7"),
            Faults(status=503, retry_after=format_datetime(now + timedelta(seconds=30), usegmt=True)),
            Faults(status=503),
        )
        sleeps = Sleeps()
        stream = client(
            es.url, events, now=lambda: now, sleep=sleeps, random=lambda: 0.5, last_event_id=START_ID
        )
        batches = await collect(stream, seen(20))
    assert sleeps.delays == [7.0, 30.0, 0.5 * 4]  # the third had no Retry-After: backoff, attempt 3
    assert candidate_ids(batches) == expected(events)


def test_parse_retry_after() -> None:
    now = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Tue, 03 Mar 2026 12:01:00 GMT", now) == 60
    assert parse_retry_after("Tue, 03 Mar 2026 11:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None


async def test_backoff_grows_caps_and_resets_after_a_healthy_connection() -> None:
    events = replay(10)
    async with EventStreamsStandIn(events, id_style="offset") as es:
        es.plan(*[Faults(status=500)] * 4, Faults(drop_after=3), Faults(status=500))
        sleeps = Sleeps()
        stream = client(
            es.url, events, sleep=sleeps, random=lambda: 1.0, backoff_initial=1, backoff_max=4,
            last_event_id=START_ID,
        )  # fmt: skip
        await collect(stream, seen(10))
    assert sleeps.delays == [1, 2, 4, 4, 1, 2]


async def test_bad_last_event_id_falls_back_to_since(caplog: pytest.LogCaptureFixture) -> None:
    events = replay(50)
    resume_time = events[20]["meta"]["dt"]
    async with EventStreamsStandIn(events) as es:
        stream = client(
            es.url, events, last_event_id="not-an-id", last_event_time=resume_time, resume_margin=0.5
        )
        batches = await collect(stream, lambda bs: bs[-1].last_id == frame_id(es, 49))
    assert [r.status for r in es.requests] == [400, 200]
    assert es.requests[1].last_event_id is None
    since = datetime.fromisoformat(es.requests[1].query["since"])
    assert since == datetime.fromisoformat(resume_time) - timedelta(seconds=0.5)
    t = es._log.ts
    assert es.requests[1].start == min(i for i in range(50) if t[i] >= since.timestamp() * 1000)
    assert stream.stats.since_fallbacks == 1
    assert "rejected our Last-Event-ID not-an-id; resuming by time from since=" in caplog.text
    got, want = candidate_ids(batches), expected(events)
    assert got == [i for i in want if i in got]  # in order, no repeats
    assert {e["meta"]["id"] for e in events[20:]} & set(want) <= set(
        got
    )  # nothing after the resume time lost


async def test_bad_last_event_id_without_a_time_resumes_from_now() -> None:
    events = replay(5)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    async with EventStreamsStandIn(events) as es:
        stream = client(es.url, events, last_event_id="[oops", now=lambda: now)
        task = asyncio.create_task(collect(stream, seen(1)))
        await eventually(lambda: len(es.requests) >= 2 and es.concurrent > 0)
        es.publish(*replay(1, seed=3, start=now))
        await task
    assert es.requests[1].query == {"since": "2030-01-01T00:00:00.000Z"}


async def test_connection_refused_is_logged_plainly_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "watcher.stream")
    events = replay(30)
    port = free_port()
    es = EventStreamsStandIn(events, port=port, id_style="offset")

    async def start_server_on_third_wait(n: int) -> None:
        if n == 3:
            await es.start()

    try:
        sleeps = Sleeps(start_server_on_third_wait)
        url = f"http://127.0.0.1:{port}/v2/stream/recentchange"
        stream = client(url, events, sleep=sleeps, last_event_id=START_ID)
        batches = await collect(stream, seen(30))
    finally:
        await es.stop()
    assert candidate_ids(batches) == expected(events)
    unreachable = [r for r in caplog.records if "cannot reach the stream" in r.getMessage()]
    assert len(unreachable) == 3
    assert [r.levelno for r in unreachable] == [logging.WARNING, logging.DEBUG, logging.DEBUG]  # once a state
    line = unreachable[0].getMessage()
    assert line.startswith(f"cannot reach the stream at {url}: Cannot connect to host 127.0.0.1:{port}")
    assert " — retrying in " in line and line.endswith(" s")
    assert any(
        r.levelno == logging.INFO and "connected to the stream" in r.getMessage() for r in caplog.records
    )
    assert stream.stats.attempts == 4 and stream.stats.connects == 1


async def test_a_captive_portal_is_not_an_event_stream(caplog: pytest.LogCaptureFixture) -> None:
    async def portal(request: web.Request) -> web.Response:
        return web.Response(text="<html>Log in to the guest network</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/v2/stream/recentchange", portal)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/v2/stream/recentchange"
    sleeps = Sleeps()
    stream = client(url, [], sleep=sleeps)
    task = asyncio.create_task(collect(stream, seen(1)))
    try:
        await eventually(lambda: len(sleeps.delays) >= 2)
    finally:
        task.cancel()
        await runner.cleanup()
    assert "answered with Content-Type 'text/html', not an event stream" in caplog.text
    assert stream.stats.connects == 0 and stream.stats.attempts >= 2


async def test_other_http_errors_back_off(caplog: pytest.LogCaptureFixture) -> None:
    events = replay(5)
    async with EventStreamsStandIn(events, id_style="offset") as es:
        sleeps = Sleeps()
        wrong = es.url.replace("recentchange", "nosuchstream")

        async def fix_url(n: int) -> None:
            if n == 2:
                stream.url = es.url

        sleeps.hook = fix_url
        stream = client(wrong, events, sleep=sleeps, last_event_id=START_ID)
        await collect(stream, seen(5))
    assert [r.status for r in es.requests] == [200]  # the 404s never reached the stream handler
    assert len(sleeps.delays) == 2
    assert "answered HTTP 404 Not Found" in caplog.text


# -- etiquette --------------------------------------------------------------------------------------


async def test_user_agent_on_every_request_and_one_connection_at_a_time() -> None:
    events = replay(120)
    async with EventStreamsStandIn(events, max_connections=1) as es:
        es.plan(
            Faults(status=503, retry_after="0"),
            Faults(drop_after=10),
            Faults(hang_after=10),
            Faults(eof_after=10),
            Faults(error_after=10),
            Faults(status=429),
        )
        stream = client(es.url, events, read_timeout=0.3)
        batches = await collect(stream, seen(120))
    assert candidate_ids(batches) == expected(events)
    assert len(es.requests) == 7
    assert es.user_agents == [UA] * 7
    assert es.max_concurrent == 1 and all(r.open_connections <= 1 for r in es.requests)


async def test_closing_the_iterator_closes_the_connection() -> None:
    events = replay(10)
    async with EventStreamsStandIn(events) as es:
        stream = client(es.url, events)
        await collect(stream, seen(10))
        await eventually(lambda: es.concurrent == 0)
        assert stream.stats.connected is False


async def test_canary_events_are_dropped_in_the_stream() -> None:
    events = replay(20)
    canary = copy.deepcopy(events[3])
    canary["meta"]["domain"] = "canary"
    canary["meta"]["id"] = "canary-1"
    canary["wiki"], canary["title"] = WIKI, "Category:Jetons"
    events.insert(4, canary)
    async with EventStreamsStandIn(events) as es:
        stream = client(es.url, events)
        batches = await collect(stream, seen(21))
    assert "canary-1" not in candidate_ids(batches) and stream.stats.canary == 1
    assert candidate_ids(batches) == expected(events)
