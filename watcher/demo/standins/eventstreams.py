"""A loopback stand-in for Wikimedia EventStreams, for tests, benchmarks and ``watcher demo``.

It replays recorded ``recentchange`` events the way the real service (KafkaSSE) sends them: ``:ok``
first, then ``event: message`` / ``id:`` / ``data:`` records whose id is the JSON array of topic
partitions, ``meta.offset`` assigned in order. It honours ``Last-Event-ID`` (by offset if the entry has
one, else by timestamp, like ``offsetsForTimes``) and ``since`` (epoch ms or ISO 8601), answers 400 to
ones it cannot parse, keeps the connection open for events published later (sending a keep-alive
comment after ``keepalive`` idle seconds, where set, as a proxy in front of a quiet stream might: the
client's read timeout counts bytes, so an idle demo is not taken for dead), forgets events older
than an optional retention window, and can misbehave on purpose (:class:`Faults`) in every way the
client must survive. It records every request (User-Agent, Last-Event-ID, since) and counts open
connections, so a test can check that the client holds one.

In-process::

    async with EventStreamsStandIn(events) as es:
        ...  # es.url, es.publish(event), es.plan(Faults(drop_after=3)), es.requests

As a process: ``python -m watcher.demo.standins.eventstreams --events FILE.jsonl --port 8089``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

from watcher.demo.standins import until_signalled

__all__ = ["EventStreamsStandIn", "Faults", "RequestRecord", "main"]

_UA_OK = (re.compile(r"\S+/\S+"), re.compile(r"@|https?://"))
_POLL = 0.02  # seconds between checks for a vanished client while waiting
KEEPALIVE = b": keep-alive\n\n"  # an SSE comment: bytes on the wire, no event


@dataclass
class Faults:
    """Ways to misbehave on one connection. Counts are events sent on that connection."""

    status: int | None = None  # answer this HTTP status instead of streaming (429, 503, 500...)
    retry_after: str | None = None  # with `status`: the Retry-After header (seconds or an HTTP date)
    drop_after: int | None = None  # close the transport abruptly (the client sees a payload error)
    drop_mid_event: bool = False  # with drop_after: first send half of the next event, as edge cuts do
    eof_after: int | None = None  # end the response cleanly
    hang_after: int | None = None  # stop writing, keep the connection open
    error_after: int | None = None  # send an `event: error` record, then end the response
    malformed_after: int | None = None  # insert one truncated (non-JSON) data record
    chunk_sizes: tuple[int, ...] = ()  # split every write into pieces of these sizes, cycled
    crlf: bool = False  # CRLF line endings


@dataclass
class RequestRecord:
    path: str
    query: dict[str, str]
    user_agent: str | None
    last_event_id: str | None
    status: int = 200
    start: int | None = None  # index of the first event served (len(events) = "latest")
    clamped: bool = False  # the position asked for was older than the retention window
    open_connections: int = 0  # stream connections open when this one began, itself included
    faults: Faults = field(default_factory=Faults)


@dataclass
class _Log:
    """Events as served: parallel lists, frames pre-encoded so serving is a join and a write."""

    ts: list[int] = field(default_factory=list)
    frames: list[bytes] = field(default_factory=list)


class EventStreamsStandIn:
    def __init__(
        self,
        events: Iterable[Mapping[str, Any]] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/v2/stream/recentchange",
        topic: str = "eqiad.mediawiki.recentchange",
        id_style: Literal["timestamp", "offset"] = "timestamp",
        first_offset: int = 0,
        retention: float | None = None,
        clock: Callable[[], float] = time.time,
        require_user_agent: bool = True,
        max_connections: int | None = None,
        write_size: int = 1 << 16,
        keepalive: float | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.path = path
        self.topic = topic
        dc, _, rest = topic.partition(".")
        self._dc = dc
        self.other_topic = ("codfw." if dc == "eqiad" else "eqiad.") + rest
        self.id_style = id_style
        self.first_offset = first_offset
        self.retention = retention
        self.clock = clock
        self.require_user_agent = require_user_agent
        self.max_connections = max_connections
        self.write_size = write_size
        self.keepalive = keepalive  # idle seconds before a keep-alive comment; None: never
        self.keepalives = 0  # keep-alive comments sent, on every connection
        self.faults = Faults()  # for every connection without a planned one
        self.requests: list[RequestRecord] = []
        self.connections = 0  # stream responses started
        self.max_concurrent = 0
        self._plan: deque[Faults] = deque()
        self._log = _Log()
        self._active: dict[int, web.BaseRequest] = {}  # requests are unhashable: keyed by id()
        self._changed = asyncio.Event()
        self._closing = False
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.publish(*events)

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(self.path, self._stream)
        app.router.add_get("/_standin/state", self._state)
        app.router.add_post("/_standin/publish", self._publish)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._closing = True
        self._stopping.set()
        self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> EventStreamsStandIn:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- control ----------------------------------------------------------------------------------

    def publish(self, *events: Mapping[str, Any]) -> None:
        """Append events (copies, with ``meta.offset`` set); open connections get them at once."""
        log = self._log
        for event in events:
            n = len(log.ts)
            offset = self.first_offset + n
            ev = dict(event)
            meta = dict(ev.get("meta") or {})
            meta["offset"] = offset
            meta.setdefault("partition", 0)
            ev["meta"] = meta
            ts = _event_ms(ev)
            if ts is None:
                ts = log.ts[-1] + 1 if log.ts else int(self.clock() * 1000)
            if self.id_style == "offset":
                mine = f'{{"topic":"{self.topic}","partition":0,"offset":{offset + 1}}}'
            else:
                mine = f'{{"topic":"{self.topic}","partition":0,"timestamp":{ts + 1}}}'
            other = f'{{"topic":"{self.other_topic}","partition":0,"offset":-1}}'
            pair = (mine, other) if self._dc != "codfw" else (other, mine)  # eqiad first, as served
            data = json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
            frame = f"event: message\nid: [{pair[0]},{pair[1]}]\ndata: {data}\n\n"
            log.ts.append(ts)
            log.frames.append(frame.encode())
        if events:
            self._wake()

    def plan(self, *faults: Faults) -> None:
        """Faults for the next connections, one each, in order; later ones get ``self.faults``."""
        self._plan.extend(faults)

    def __len__(self) -> int:
        return len(self._log.ts)

    @property
    def user_agents(self) -> list[str | None]:
        return [r.user_agent for r in self.requests]

    @property
    def concurrent(self) -> int:
        return sum(1 for r in self._active.values() if _alive(r))

    def oldest_available(self) -> int:
        """Index of the oldest event still served (retention), ``len(self)`` when none is."""
        if self.retention is None:
            return 0
        cutoff = (self.clock() - self.retention) * 1000
        return next((i for i, ts in enumerate(self._log.ts) if ts >= cutoff), len(self._log.ts))

    def frame(self, index: int) -> bytes:
        return self._log.frames[index]

    # -- HTTP -------------------------------------------------------------------------------------

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        faults = self._plan.popleft() if self._plan else self.faults
        rec = RequestRecord(
            path=request.path,
            query=dict(request.query),
            user_agent=request.headers.get("User-Agent"),
            last_event_id=request.headers.get("Last-Event-ID"),
            faults=faults,
        )
        self.requests.append(rec)
        ua = rec.user_agent or ""
        if self.require_user_agent and not all(p.search(ua) for p in _UA_OK):
            return _problem(rec, 403, "user_agent", f"User-Agent {ua!r} does not follow the policy")
        if faults.status is not None:
            headers = {"Retry-After": faults.retry_after} if faults.retry_after else {}
            return _problem(rec, faults.status, "injected", "fault injected by the stand-in", headers)
        open_now = self.concurrent + 1
        if self.max_connections is not None and open_now > self.max_connections:
            return _problem(
                rec, 429, "too_many_requests", "Too Many Concurrent Connections From Your Client IP"
            )
        try:
            start = self._start_index(rec)
        except ValueError as exc:
            kind = "invalid_timestamp" if rec.last_event_id is None else "invalid_last_event_id"
            return _problem(rec, 400, kind, str(exc))
        oldest = self.oldest_available()
        if start < oldest:
            start, rec.clamped = oldest, True
        rec.start = start
        rec.open_connections = open_now
        self.connections += 1
        self.max_concurrent = max(self.max_concurrent, open_now)
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        )
        self._active[id(request)] = request
        try:
            await resp.prepare(request)
            await self._serve(request, resp, faults, start)
        except (ConnectionError, RuntimeError):
            pass  # the client went away mid-write
        finally:
            del self._active[id(request)]
        return resp

    async def _serve(self, request: web.Request, resp: web.StreamResponse, f: Faults, pos: int) -> None:
        sizes = itertools.cycle(f.chunk_sizes) if f.chunk_sizes else None

        async def send(data: bytes) -> None:
            if f.crlf:
                data = data.replace(b"\n", b"\r\n")
            if sizes is None:
                await resp.write(data)
                return
            i = 0
            while i < len(data):
                n = max(1, next(sizes))
                await resp.write(data[i : i + n])
                i += n
                await asyncio.sleep(0)  # let the reader see the piece on its own

        triggers = [n for n in (f.drop_after, f.eof_after, f.hang_after, f.error_after) if n is not None]
        malformed_pending = f.malformed_after is not None
        frames = self._log.frames
        sent = 0
        await send(b":ok\n\n")
        while not self._closing and _alive(request):
            if malformed_pending and sent == f.malformed_after and pos < len(frames):
                malformed_pending = False
                # Half of the next event's data, and no id line: the cursor stays where it was.
                data = frames[pos].partition(b"\ndata: ")[2]
                await send(b"event: message\ndata: " + data[: len(data) // 2] + b"\n\n")
            if sent == f.drop_after:
                if f.drop_mid_event and pos < len(frames):
                    await send(frames[pos][: len(frames[pos]) // 2])
                if request.transport is not None:
                    request.transport.close()
                return
            if sent == f.eof_after:
                await resp.write_eof()
                return
            if sent == f.error_after:
                await send(b'event: error\ndata: {"message":"injected error","status":500}\n\n')
                await resp.write_eof()
                return
            if sent == f.hang_after:
                while not self._closing and _alive(request):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), _POLL)
                return
            if pos >= len(frames):
                if not await self._wait_for_more(request, pos, self.keepalive):
                    await send(KEEPALIVE)
                    self.keepalives += 1
                continue
            limits = [n - sent for n in triggers if n > sent]
            if malformed_pending and f.malformed_after is not None and f.malformed_after > sent:
                limits.append(f.malformed_after - sent)
            stop = min(len(frames), pos + min(limits)) if limits else len(frames)
            end, size = pos, 0
            while end < stop and (end == pos or size + len(frames[end]) <= self.write_size):
                size += len(frames[end])
                end += 1
            await send(b"".join(frames[pos:end]))
            sent += end - pos
            pos = end

    async def _wait_for_more(
        self, request: web.BaseRequest, pos: int, keepalive: float | None = None
    ) -> bool:
        """Wait for an event past ``pos`` (or the end); False where ``keepalive`` seconds passed first."""
        deadline = None if keepalive is None else time.monotonic() + keepalive
        while pos >= len(self._log.frames) and not self._closing and _alive(request):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), _POLL)
        return True

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _start_index(self, rec: RequestRecord) -> int:
        latest = len(self._log.ts)
        if rec.last_event_id is not None:
            return self._index_for_id(rec.last_event_id)
        since = rec.query.get("since")
        if since is None:
            return latest
        ms = _parse_since(since)
        return self._first_at_or_after(ms)

    def _index_for_id(self, header: str) -> int:
        try:
            assignment = json.loads(header)
        except ValueError as exc:
            raise ValueError(f"Last-Event-ID is not JSON: {exc}") from None
        if not isinstance(assignment, list) or not all(
            isinstance(a, dict) and isinstance(a.get("topic"), str) for a in assignment
        ):
            raise ValueError("Last-Event-ID must be a JSON array of topic-partition objects")
        latest = len(self._log.ts)
        for entry in assignment:
            if entry["topic"] != self.topic:
                continue
            offset, ts = entry.get("offset"), entry.get("timestamp")
            if isinstance(offset, int) and not isinstance(offset, bool):
                return latest if offset < 0 else min(max(offset - self.first_offset, 0), latest)
            if isinstance(ts, int) and not isinstance(ts, bool):
                return self._first_at_or_after(ts)
            raise ValueError(f"Last-Event-ID entry for {self.topic} has neither offset nor timestamp")
        return latest

    def _first_at_or_after(self, ms: int) -> int:
        """Like Kafka offsetsForTimes: the earliest event whose time is at or after ``ms``, else latest."""
        return next((i for i, ts in enumerate(self._log.ts) if ts >= ms), len(self._log.ts))

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "events": len(self),
                "first_offset": self.first_offset,
                "oldest_available": self.oldest_available(),
                "connections": self.connections,
                "concurrent": self.concurrent,
                "max_concurrent": self.max_concurrent,
                "requests": len(self.requests),
                "keepalives": self.keepalives,
            }
        )

    async def _publish(self, request: web.Request) -> web.Response:
        body = await request.text()
        events = [json.loads(line) for line in body.splitlines() if line.strip()]
        self.publish(*events)
        return web.json_response({"published": len(events), "events": len(self)})


def _alive(request: web.BaseRequest) -> bool:
    transport = request.transport
    return transport is not None and not transport.is_closing()


def _problem(
    rec: RequestRecord, status: int, kind: str, detail: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    rec.status = status
    body = {"type": kind, "title": kind.replace("_", " "), "status": status, "detail": detail}
    return web.json_response(body, status=status, headers=headers)


def _event_ms(ev: Mapping[str, Any]) -> int | None:
    meta = ev.get("meta")
    dt = meta.get("dt") if isinstance(meta, Mapping) else None
    if isinstance(dt, str):
        try:
            return _to_ms(dt)
        except ValueError:
            pass
    ts = ev.get("timestamp")
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        return int(ts * 1000)
    return None


def _to_ms(iso: str) -> int:
    t = datetime.fromisoformat(iso)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return round(t.timestamp() * 1000)


def _parse_since(value: str) -> int:
    """``since`` as the real service takes it: epoch milliseconds, or a date string (ISO 8601 here)."""
    if value.isdigit():
        return int(value)
    try:
        return _to_ms(value)
    except ValueError:
        raise ValueError(f"invalid since timestamp: {value!r}") from None


def _load(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        loaded = json.loads(text)
        return [e for e in loaded if isinstance(e, dict)]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m watcher.demo.standins.eventstreams", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--events", type=Path, action="append", default=[], help="JSON lines (or a JSON array)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--path", default="/v2/stream/recentchange")
    ap.add_argument("--id-style", choices=["timestamp", "offset"], default="timestamp")
    ap.add_argument("--retention", type=float, default=None, help="seconds of history kept")
    ap.add_argument("--write-size", type=int, default=1 << 16)
    ap.add_argument("--chunk-sizes", default="", help="comma-separated write sizes, e.g. 7,13,1")
    ap.add_argument("--crlf", action="store_true")
    ap.add_argument("--max-connections", type=int, default=None)
    ap.add_argument("--keepalive", type=float, default=None, help="idle seconds before a keep-alive comment")
    ap.add_argument("--no-user-agent-check", action="store_true")
    args = ap.parse_args(argv)

    async def run() -> None:
        events = [e for p in args.events for e in _load(p)]
        es = EventStreamsStandIn(
            events,
            host=args.host,
            port=args.port,
            path=args.path,
            id_style=args.id_style,
            retention=args.retention,
            write_size=args.write_size,
            max_connections=args.max_connections,
            keepalive=args.keepalive,
            require_user_agent=not args.no_user_agent_check,
        )
        es.faults = Faults(
            chunk_sizes=tuple(int(n) for n in args.chunk_sizes.split(",") if n.strip()), crlf=args.crlf
        )
        await es.start()
        print(f"listening on {es.url} ({len(es)} events)", flush=True)
        await until_signalled()
        await es.stop()

    asyncio.run(run())
    sys.exit(0)


if __name__ == "__main__":
    main()
