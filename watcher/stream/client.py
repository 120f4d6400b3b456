"""The reconnecting EventStreams client: one connection, resumed by ``Last-Event-ID``, filtered on arrival.

The daemon iterates :meth:`EventStream.batches` and stores each batch durably before pulling the next,
so the ``last_id`` of the last batch handed out is always a safe resume point. Reconnects happen inside
the iterator: on drops, EOF, the read watchdog (EventStreams sends no heartbeats), ``event: error``,
HTTP errors and unreachable hosts, with exponential backoff and full jitter, ``Retry-After`` honoured.
Everything is logged once per change of state on the ``watcher.stream`` logger, in words a sysadmin
on a machine without internet can act on. A session it makes itself honours ``HTTPS_PROXY`` and friends
(``trust_env``); a 200 that is not ``text/event-stream`` (a captive portal) counts as a failure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random as _random
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from watcher.base.retry import FULL_JITTER, Backoff, parse_retry_after
from watcher.base.times import parse_utc
from watcher.stream.prefilter import Matcher, Prefilter
from watcher.stream.sse import Run, SSEEvent, SSEParser, record_id

__all__ = ["BACKLOG_SECONDS", "EventBatch", "EventStream", "StreamEvent", "StreamStats", "changes_tracking"]

log = logging.getLogger("watcher.stream")

# aiohttp's buffer limit; reading pauses at twice this. Upload-log comments carry whole page texts.
READ_BUFSIZE = 1 << 22
# Retry-After values beyond this are taken as a misconfigured server rather than waited out.
RETRY_AFTER_MAX = 3600.0
# A batch whose last event is older than this is part of a backlog (EventBatch.backlog).
BACKLOG_SECONDS = 30.0


@dataclass
class StreamEvent:
    id: str  # the SSE `id` string verbatim: what Last-Event-ID resumes from
    data: dict[str, Any]  # the parsed event


@dataclass
class EventBatch:
    events: list[StreamEvent]  # candidates only, in stream order
    last_id: str | None  # id of the last event of any kind in the batch: the cursor after it
    last_time: str | None  # meta.dt of that event (ISO), for `since` fallbacks and status
    seen: int  # events (of any wiki) in the batch
    malformed: int
    # Its last event is older than BACKLOG_SECONDS: the stream is being caught up (after a restart or
    # an outage), not followed live, so the consumer may commit many batches together.
    backlog: bool = False

    @property
    def changes_tracking(self) -> bool:
        """Whether applying one of its candidates may add or rename a tracked title: then it must be
        applied before the next batch is filtered (the stream holds the rest of the chunk back)."""
        return any(changes_tracking(e.data) for e in self.events)


@dataclass
class StreamStats:
    connected: bool = False
    connects: int = 0  # successful (HTTP 200) connections
    reconnects: int = 0  # successful connections after the first
    attempts: int = 0  # HTTP requests made
    seen: int = 0
    candidates: int = 0
    malformed: int = 0
    duplicates: int = 0  # candidates dropped as repeats of a recent meta.id (after a resume)
    canary: int = 0
    bytes: int = 0
    last_error: str | None = None
    last_data_monotonic: float = 0.0
    last_id: str | None = None
    last_time: str | None = None
    since_fallbacks: int = 0  # times a rejected Last-Event-ID made us resume by time
    last_delay: float = 0.0  # the last backoff wait, in seconds


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_META = b'"meta":{'


def _event_time(parsed: dict[str, Any] | None, data: bytes | None) -> str | None:
    """meta.dt of an event, from its parsed form if at hand, else from its bytes: where they hold one
    ``"meta":{`` object with nothing nested in it (EventStreams' meta is flat), only that is parsed
    (a few hundred bytes, not the whole event, once per batch); anything else is parsed whole."""
    if parsed is None and data is not None:
        m = data.find(_META)
        if m >= 0 and data.find(_META, m + 8) < 0:
            end = data.find(b"}", m + 8)
            if end > 0 and data.find(b"{", m + 8, end) < 0:
                try:
                    parsed = {"meta": json.loads(data[m + 7 : end + 1])}
                except ValueError:
                    parsed = None
        if parsed is None:
            try:
                parsed = json.loads(data)
            except ValueError:
                return None
    meta = parsed.get("meta") if isinstance(parsed, dict) else None
    dt = meta.get("dt") if isinstance(meta, dict) else None
    return dt if isinstance(dt, str) else None


def changes_tracking(event: dict[str, Any]) -> bool:
    """Whether applying this candidate may add or rename a tracked title."""
    kind = event.get("type")
    return kind == "categorize" or (kind == "log" and event.get("log_type") in ("move", "upload"))


def _read_more_at_once(resp: aiohttp.ClientResponse) -> None:
    """Let the event loop take up to READ_BUFSIZE bytes from the socket per read, not asyncio's 256 KiB.

    A backlog then comes in fewer, larger chunks (fewer loop turns and per-chunk steps: about 12 % of
    the ingest rate in ``bench/bench_ingest.py``); a live stream is unchanged, as a read takes what is
    there. ``max_size`` is the selector transport's read size; where a transport has none, nothing
    changes.
    """
    connection = resp.connection
    transport = connection.transport if connection is not None else None
    if transport is not None and isinstance(getattr(transport, "max_size", None), int):
        transport.max_size = READ_BUFSIZE  # type: ignore[attr-defined]


def _fmt_delay(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.1f} s"


class _Retry(Exception):
    """Internal: leave the current connection; ``delay`` None means use the backoff."""

    def __init__(self, state: str, message: str, delay: float | None = None, level: int = logging.WARNING):
        super().__init__(message)
        self.state = state
        self.message = message
        self.delay = delay
        self.level = level


class EventStream:
    """Follows an EventStreams URL and yields :class:`EventBatch` es of candidate events for one wiki.

    ``sleep`` and ``random`` can be injected so tests see the backoff without waiting for it. The
    duplicate filter (``dedup_size`` recent candidate ``meta.id`` s) only saves work after a resume;
    the daemon deduplicates durably anyway.
    """

    def __init__(
        self,
        url: str,
        user_agent: str,
        wiki: str,
        matcher: Matcher,
        *,
        last_event_id: str | None,
        last_event_time: str | None,
        read_timeout: float = 60,
        backoff_initial: float = 1,
        backoff_max: float = 120,
        resume_margin: float = 10,
        now: Callable[[], datetime] = _utcnow,
        session: aiohttp.ClientSession | None = None,
        on_connect: Callable[[], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        dedup_size: int = 10_000,
    ) -> None:
        self.url = url
        self.user_agent = user_agent
        self.wiki = wiki
        self.read_timeout = read_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.resume_margin = resume_margin
        self.stats = StreamStats(last_id=last_event_id or None, last_time=last_event_time)
        self._now = now
        self._session = session
        self._on_connect = on_connect
        self._sleep = sleep
        self._prefilter = Prefilter(wiki, matcher)
        self._resume_id = last_event_id or None
        self._resume_time = last_event_time
        self._since: str | None = None
        self._backoff = Backoff(backoff_initial, backoff_max, jitter=FULL_JITTER, random=random)
        self._state = ""
        self._recent: deque[str] = deque(maxlen=dedup_size)
        self._recent_set: set[str] = set()
        self._held: list[SSEEvent | Run] = []  # the rest of a chunk cut after a set-changing candidate
        self._parser = SSEParser((self._resume_id or "").encode())

    # -- the loop ---------------------------------------------------------------------------------

    async def batches(self) -> AsyncGenerator[EventBatch, None]:
        # trust_env: museums' servers often reach the internet only through HTTP(S)_PROXY.
        session = self._session or aiohttp.ClientSession(trust_env=True)
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.read_timeout, sock_read=self.read_timeout
        )
        try:
            while True:
                headers, params = self._request()
                self.stats.attempts += 1
                retry: _Retry
                try:
                    async with session.get(
                        self.url, headers=headers, params=params, timeout=timeout, read_bufsize=READ_BUFSIZE
                    ) as resp:
                        if resp.status != 200:
                            raise await self._bad_status(resp, "Last-Event-ID" in headers)
                        if resp.content_type != "text/event-stream":
                            raise _Retry(
                                "content-type",
                                f"the stream at {self.url} answered with Content-Type {resp.content_type!r}, "
                                "not an event stream (a proxy or captive portal in the way?)",
                            )
                        self._connected(headers, params)
                        _read_more_at_once(resp)
                        self._parser = SSEParser((self._resume_id or "").encode())
                        stats = self.stats
                        async for chunk in resp.content.iter_any():
                            stats.bytes += len(chunk)
                            stats.last_data_monotonic = time.monotonic()
                            for batch, error in self._batches_of(self._parser.feed_segments(chunk)):
                                if batch is not None:
                                    self._backoff.reset()  # a connection that delivers is a healthy one
                                    yield batch
                                if error is not None:
                                    text = error.data.decode("utf-8", "replace")[:500]
                                    raise _Retry("error-event", f"the stream sent an error event: {text}")
                        raise _Retry("eof", "the stream closed the connection", level=logging.INFO)
                except _Retry as exc:
                    retry = exc
                except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                    retry = _Retry("unreachable", f"cannot reach the stream at {self.url}: {exc}")
                except TimeoutError:
                    retry = _Retry(
                        "timeout", f"no data from the stream for {self.read_timeout:g} s, taking it for dead"
                    )
                except aiohttp.ClientPayloadError as exc:
                    retry = _Retry("broken", f"the stream connection broke ({exc})", level=logging.INFO)
                except (aiohttp.ClientError, OSError) as exc:
                    retry = _Retry("error", f"the stream connection failed ({type(exc).__name__}: {exc})")
                finally:
                    self.stats.connected = False
                await self._wait(retry)
        finally:
            self._parser.end()
            if self._session is None:
                await session.close()

    def ingest(self, chunk: bytes) -> tuple[EventBatch | None, SSEEvent | None]:
        """One chunk of the body in, its batch out (None when it completed nothing), and the
        ``event: error`` record if it held one (events after it are dropped: the resume repeats them).

        The per-chunk step of :meth:`batches`, without I/O, for tests and benchmarks: the batches that
        :meth:`batches` would yield one by one are merged into one. It advances the cursor, so it is
        not for use while :meth:`batches` runs.
        """
        merged: EventBatch | None = None
        error: SSEEvent | None = None
        for batch, found in self._batches_of(self._parser.feed_segments(chunk)):
            error = error or found
            if batch is None:
                continue
            if merged is None:
                merged = batch
            else:
                merged = EventBatch(
                    merged.events + batch.events, batch.last_id, batch.last_time,
                    merged.seen + batch.seen, merged.malformed + batch.malformed, batch.backlog,
                )  # fmt: skip
        return merged, error

    def _batches_of(
        self, segments: list[SSEEvent | Run]
    ) -> Iterator[tuple[EventBatch | None, SSEEvent | None]]:
        """The chunk's batches. A candidate that can change the tracked set (a categorisation, a move,
        an upload) ends its batch: the rest of the chunk is filtered only after the consumer has applied
        it, so an edit of a file that joined (or was renamed) a moment earlier is not dropped."""
        while True:
            self._held = []
            yield self._batch(segments)
            if not self._held:
                return
            segments = self._held

    def _batch(self, segments: list[SSEEvent | Run]) -> tuple[EventBatch | None, SSEEvent | None]:
        """Filter one chunk's events: the hot path of the whole daemon (see ``bench/bench_ingest.py``)."""
        pf = self._prefilter
        malformed0 = pf.malformed
        canary0 = pf.canary
        out: list[StreamEvent] = []
        seen = 0
        error: SSEEvent | None = None
        last: tuple[bytes, int, int] = (b"", 0, 0)  # the last message's data, as a span
        last_parsed: dict[str, Any] | None = None
        split_id: bytes | None = None
        for index, seg in enumerate(segments):
            if isinstance(seg, Run):
                buf, spans = seg
                # The scan stops after a candidate that may change the tracked set; the rest is held.
                hits = pf.scan(buf, spans, changes_tracking)
                if hits and changes_tracking(hits[-1][1]):
                    ds = hits[-1][0]
                    at = spans.index(ds)
                    rest = spans[at + 2 :]
                    held: list[SSEEvent | Run] = [Run(buf, rest)] if rest else []
                    if held or index + 1 < len(segments):
                        self._held = held + segments[index + 1 :]
                        spans = spans[: at + 2]
                        split_id = record_id(buf, ds)
                seen += len(spans) // 2
                for ds, event in hits:
                    self._keep(out, record_id(buf, ds), event)
                last = (buf, spans[-2], spans[-1])
                last_parsed = hits[-1][1] if hits and hits[-1][0] == spans[-2] else None
                if split_id is not None:
                    break
            elif seg.type == "message":
                seen += 1
                parsed = pf.check(seg.data)
                if parsed is not None:
                    self._keep(out, seg.id, parsed)
                last, last_parsed = (seg.data, 0, len(seg.data)), parsed
                if parsed is not None and changes_tracking(parsed) and index + 1 < len(segments):
                    self._held = segments[index + 1 :]
                    split_id = seg.id
                    break
            elif seg.type == "error":
                error = seg
                break
        malformed = pf.malformed - malformed0
        stats = self.stats
        stats.canary += pf.canary - canary0
        if split_id is not None:
            committed = split_id.decode("utf-8", "replace")
        else:
            committed = (error.id if error is not None else self._parser.last_event_id).decode(
                "utf-8", "replace"
            )
        last_id = committed or None
        if seen == 0 and malformed == 0 and last_id == self._resume_id:
            return None, error
        last_time = None
        if seen:
            b, ds, de = last
            last_time = _event_time(last_parsed, b[ds:de] if last_parsed is None else None)
        stats.seen += seen
        stats.malformed += malformed
        stats.candidates += len(out)
        if last_id is not None:
            self._resume_id = stats.last_id = last_id
            self._since = None
        if last_time is not None:
            self._resume_time = stats.last_time = last_time
        when = last_time or self._resume_time
        return EventBatch(out, last_id, when, seen, malformed, self._behind(when)), error

    def _behind(self, when: str | None) -> bool:
        """Whether an event of this time is a backlog's rather than the live stream's."""
        t = parse_utc(when) if when else None
        return t is not None and (self._now() - t).total_seconds() > BACKLOG_SECONDS

    def _keep(self, out: list[StreamEvent], sse_id: bytes, data: dict[str, Any]) -> None:
        """Append a candidate unless its meta.id came moments ago (a resume by time repeats some)."""
        meta = data.get("meta")
        mid = meta.get("id") if isinstance(meta, dict) else None
        if isinstance(mid, str):
            if mid in self._recent_set:
                self.stats.duplicates += 1
                return
            if len(self._recent) == self._recent.maxlen:
                self._recent_set.discard(self._recent[0])
            self._recent.append(mid)
            self._recent_set.add(mid)
        out.append(StreamEvent(sse_id.decode("utf-8", "replace"), data))

    # -- requests, statuses, waiting ----------------------------------------------------------------

    def _request(self) -> tuple[dict[str, str], dict[str, str]]:
        headers = {"User-Agent": self.user_agent, "Accept": "text/event-stream", "Cache-Control": "no-cache"}
        params: dict[str, str] = {}
        if self._resume_id:
            headers["Last-Event-ID"] = self._resume_id
        else:
            if self._since is None:
                self._since = self._since_from_time()
            params["since"] = self._since
        return headers, params

    def _since_from_time(self) -> str:
        """``since`` for a resume by time: the last event's time less the margin, else now."""
        t = parse_utc(self._resume_time) if self._resume_time else None
        if t is None:
            return _iso(self._now())
        return _iso(t - timedelta(seconds=self.resume_margin))

    def _connected(self, headers: dict[str, str], params: dict[str, str]) -> None:
        stats = self.stats
        stats.connected = True
        stats.connects += 1
        if stats.connects > 1:
            stats.reconnects += 1
        if "Last-Event-ID" in headers:
            how = f"resuming after Last-Event-ID {headers['Last-Event-ID']}"
        else:
            how = f"starting from since={params.get('since')}"
        self._report("connected", logging.INFO, f"connected to the stream at {self.url}, {how}")
        if self._on_connect is not None:
            self._on_connect()

    async def _bad_status(self, resp: aiohttp.ClientResponse, sent_id: bool) -> _Retry:
        try:
            body = (await resp.content.read(600)).decode("utf-8", "replace").strip()
        except (aiohttp.ClientError, OSError, TimeoutError):
            body = ""
        what = f"the stream at {self.url} answered HTTP {resp.status} {resp.reason or ''}".rstrip()
        if body:
            what += f" ({' '.join(body.split())[:300]})"
        if resp.status == 400 and sent_id:
            bad_id = self._resume_id
            self._resume_id = None
            self._since = self._since_from_time()
            self.stats.since_fallbacks += 1
            return _Retry(
                "bad-id",
                f"{what}: it rejected our Last-Event-ID {bad_id}; resuming by time from since={self._since}",
                delay=0.0,
            )
        if resp.status in (429, 503):
            wait = parse_retry_after(resp.headers.get("Retry-After"), self._now())
            if wait is not None:
                return _Retry(f"http-{resp.status}", what, delay=min(wait, RETRY_AFTER_MAX))
        if resp.status == 400:
            # Our `since` was refused: start over from now rather than repeat it forever.
            self._since = None
            self._resume_time = None
        return _Retry(f"http-{resp.status}", what)

    async def _wait(self, retry: _Retry) -> None:
        if retry.delay is None:
            delay = self._backoff.next_delay()
        else:
            delay = retry.delay
            self._backoff.attempt += 1  # a wait the server asked for counts as an attempt too
        self.stats.last_delay = delay
        self.stats.last_error = retry.message
        when = f"retrying in {_fmt_delay(delay)}" if delay > 0 else "retrying now"
        self._report(retry.state, retry.level, f"{retry.message} — {when}")
        if delay > 0:
            await self._sleep(delay)

    def _report(self, state: str, level: int, message: str) -> None:
        """Log at ``level`` when the state changes, at debug while it stays the same."""
        log.log(level if state != self._state else logging.DEBUG, message)
        self._state = state
