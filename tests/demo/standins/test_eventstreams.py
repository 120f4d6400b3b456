"""The loopback EventStreams stand-in behaves like the real service where the client depends on it."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from tests.support.processes import stop_process
from tests.support.stream import EQIAD_SSE, UA, eventually, replay
from watcher.demo.standins.eventstreams import EventStreamsStandIn, Faults
from watcher.stream.sse import SSEEvent, SSEParser


async def read(
    url: str, n: int, *, headers: dict[str, str] | None = None, params: dict[str, str] | None = None
) -> tuple[int, list[SSEEvent], bytes]:
    """Status, the first ``n`` events (fewer if the body ends) and the first bytes of the body."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"User-Agent": UA, **(headers or {})}, params=params) as resp,
    ):
        if resp.status != 200:
            return resp.status, [], await resp.read()
        parser, events, head = SSEParser(), [], b""
        try:
            async with asyncio.timeout(2 if n else 0.3):
                async for chunk in resp.content.iter_any():
                    head = head or chunk[:5]
                    events += parser.feed(chunk)
                    if len(events) >= n:
                        break
        except TimeoutError:
            pass
        return resp.status, events[:n], head


def offsets(events: list[SSEEvent]) -> list[int]:
    return [json.loads(e.data)["meta"]["offset"] for e in events]


async def test_ids_offsets_and_wire_format_like_the_real_service() -> None:
    real = [
        json.loads(line[6:]) for line in EQIAD_SSE.read_bytes().splitlines() if line.startswith(b"data: ")
    ]
    async with EventStreamsStandIn(real, first_offset=5891112553) as es:
        status, events, head = await read(es.url, 9, params={"since": "0"})
    assert status == 200 and head == b":ok\n\n"
    assert offsets(events) == list(range(5891112553, 5891112562))
    real_ids = [line[4:] for line in EQIAD_SSE.read_bytes().splitlines() if line.startswith(b"id: ")]
    assert [e.id for e in events] == real_ids  # byte for byte the ids EventStreams sent
    assert [e.type for e in events] == ["message"] * 9
    for e, ev in zip(events, real, strict=True):
        assert {**json.loads(e.data), "meta": None} == {**ev, "meta": None}


async def test_offset_ids_and_codfw_topic() -> None:
    async with EventStreamsStandIn(replay(3), topic="codfw.mediawiki.recentchange", id_style="offset") as es:
        _, events, _ = await read(es.url, 3, params={"since": "0"})
    assert json.loads(events[0].id) == [
        {"topic": "eqiad.mediawiki.recentchange", "partition": 0, "offset": -1},
        {"topic": "codfw.mediawiki.recentchange", "partition": 0, "offset": 1},
    ]


async def test_last_event_id_by_offset_and_by_timestamp() -> None:
    events = replay(20)
    # Make the times non-monotonic as in the real stream: event 6 is older than event 5.
    events[6]["meta"]["dt"] = "2025-08-29T06:44:00.000Z"
    async with EventStreamsStandIn(events, id_style="offset") as es:
        ids = [e.id.decode() for e in (await read(es.url, 20, params={"since": "0"}))[1]]
        _, after, _ = await read(es.url, 3, headers={"Last-Event-ID": ids[9]})
        assert offsets(after) == [10, 11, 12]
        ts_id = json.dumps([{"topic": es.topic, "partition": 0, "timestamp": es._log.ts[5] + 1}])
        _, after, _ = await read(es.url, 1, headers={"Last-Event-ID": ts_id})
        assert offsets(after) == [7]  # like offsetsForTimes: event 6 is skipped
        ts_id = json.dumps([{"topic": es.topic, "partition": 0, "timestamp": es._log.ts[6] + 1}])
        _, after, _ = await read(es.url, 1, headers={"Last-Event-ID": ts_id})
        assert offsets(after) == [0]  # ...and resuming after event 6 repeats from the start
        both = json.dumps([{"topic": es.topic, "partition": 0, "offset": 3, "timestamp": es._log.ts[15]}])
        assert offsets((await read(es.url, 1, headers={"Last-Event-ID": both}))[1]) == [3]  # offset wins
        other_only = json.dumps([{"topic": "codfw.mediawiki.recentchange", "partition": 0, "offset": 3}])
        assert (await read(es.url, 0, headers={"Last-Event-ID": other_only}))[1] == []  # latest
        assert es.requests[-1].start == 20
        for bad in ("not json", "{}", "[1]", json.dumps([{"topic": es.topic, "partition": 0}])):
            status, _, body = await read(es.url, 1, headers={"Last-Event-ID": bad})
            assert status == 400, bad
            assert json.loads(body)["status"] == 400


async def test_since_epoch_ms_iso_bad_and_absent() -> None:
    events = replay(10)
    async with EventStreamsStandIn(events) as es:
        ms = es._log.ts[4]
        assert offsets((await read(es.url, 2, params={"since": str(ms)}))[1]) == [4, 5]
        iso = events[7]["meta"]["dt"]
        assert offsets((await read(es.url, 1, params={"since": iso}))[1]) == [7]
        status, _, body = await read(es.url, 1, params={"since": "yesterday-ish"})
        assert status == 400 and json.loads(body)["type"] == "invalid_timestamp"
        assert (await read(es.url, 0))[1] == [] and es.requests[-1].start == 10  # no position: latest


async def test_live_publish_reaches_open_connection() -> None:
    async with EventStreamsStandIn(replay(2)) as es:
        task = asyncio.create_task(read(es.url, 3))
        await eventually(lambda: es.concurrent > 0)
        es.publish(*replay(3, seed=9, start=datetime(2030, 1, 1, tzinfo=UTC)))
        _, events, _ = await task
    assert offsets(events) == [2, 3, 4]


async def test_retention_window_clamps_old_positions() -> None:
    events = replay(10)
    async with EventStreamsStandIn(events, retention=1.0, id_style="offset") as es:
        es.clock = lambda: (es._log.ts[6] + 1000) / 1000  # events 0..5 are now older than one second
        assert es.oldest_available() == 6
        _, got, _ = await read(es.url, 2, params={"since": "0"})
        assert offsets(got) == [6, 7] and es.requests[-1].clamped
        old_id = json.dumps([{"topic": es.topic, "partition": 0, "offset": 2}])
        _, got, _ = await read(es.url, 1, headers={"Last-Event-ID": old_id})
        assert offsets(got) == [6] and es.requests[-1].clamped
        async with aiohttp.ClientSession() as s, s.get(es.url.replace(es.path, "/_standin/state")) as r:
            assert (await r.json())["oldest_available"] == 6


async def test_user_agent_checked_and_recorded() -> None:
    async with EventStreamsStandIn(replay(1)) as es, aiohttp.ClientSession() as s:
        async with s.get(es.url, headers={"User-Agent": "Python/3.11 aiohttp/3.14"}) as r:
            assert r.status == 403
        async with s.get(es.url, headers={"User-Agent": UA}, params={"since": "0"}) as r:
            assert r.status == 200
    assert es.user_agents == ["Python/3.11 aiohttp/3.14", UA]
    assert [r.status for r in es.requests] == [403, 200]


async def test_status_faults_and_connection_limit() -> None:
    async with EventStreamsStandIn(replay(3), max_connections=1) as es:
        es.plan(Faults(status=429, retry_after="12"))
        async with aiohttp.ClientSession() as s:
            async with s.get(es.url, headers={"User-Agent": UA}) as r:
                assert r.status == 429 and r.headers["Retry-After"] == "12"
            held = asyncio.create_task(read(es.url, 4, params={"since": "0"}))
            await eventually(lambda: es.concurrent > 0)
            async with s.get(es.url, headers={"User-Agent": UA}) as r:
                assert r.status == 429 and "Too Many Concurrent" in await r.text()
            es.publish(*replay(1, seed=4, start=datetime(2030, 1, 1, tzinfo=UTC)))  # lets the held one end
            assert len((await held)[1]) == 4
    assert es.max_concurrent == 1


@pytest.mark.parametrize(
    "faults", [Faults(chunk_sizes=(1, 2, 3, 5, 8, 13)), Faults(crlf=True, chunk_sizes=(1, 7))]
)
async def test_odd_chunks_and_crlf_carry_the_same_events(faults: Faults) -> None:
    async with EventStreamsStandIn(replay(6)) as es:
        _, plain, _ = await read(es.url, 6, params={"since": "0"})
        es.plan(faults)
        _, odd, _ = await read(es.url, 6, params={"since": "0"})
    assert odd == plain and len(plain) == 6


async def test_stream_faults_end_the_response() -> None:
    async with EventStreamsStandIn(replay(10)) as es:
        es.plan(Faults(eof_after=3), Faults(error_after=2), Faults(malformed_after=1), Faults(drop_after=4))
        assert offsets((await read(es.url, 10, params={"since": "0"}))[1]) == [0, 1, 2]
        _, events, _ = await read(es.url, 10, params={"since": "0"})
        assert [e.type for e in events] == ["message", "message", "error"]
        _, events, _ = await read(es.url, 3, params={"since": "0"})
        with pytest.raises(ValueError):
            json.loads(events[1].data)
        assert events[1].id == events[0].id  # the broken record does not move the cursor
        with pytest.raises(aiohttp.ClientPayloadError):
            await read(es.url, 10, params={"since": "0"})


async def test_runs_as_a_process(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in replay(5)))
    proc = await asyncio.create_subprocess_exec(
        *[
            sys.executable,
            "-m",
            "watcher.demo.standins.eventstreams",
            "--events",
            str(path),
            "--id-style",
            "offset",
        ],
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        url = line.split()[2]
        assert line.startswith("listening on http://127.0.0.1:") and "(5 events)" in line
        _, events, _ = await read(url, 5, params={"since": "0"})
        assert offsets(events) == [0, 1, 2, 3, 4]
    finally:
        assert await stop_process(proc, 10) == 0
