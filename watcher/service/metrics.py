"""Prometheus metrics and the /healthz probe, served on the review page's aiohttp application.

Most figures already live in the database (the same ones `watcher status` shows), so /metrics reads a
fresh snapshot at scrape time instead of the daemon pushing every increment; what only the process
knows (stream connection, API client counters, failed send attempts, API latency) comes from the
objects the daemon hands over once (:meth:`MetricsRecorder.watch_stream`, :meth:`watch_api`) or from
the few event methods. Everything uses the recorder's own registry, never the global one, so tests
and several recorders in one process do not collide.

Neither route is authenticated: keep the listener on loopback (the default ``127.0.0.1:8750``) or
restrict ``/metrics`` and ``/healthz`` in the reverse proxy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from watcher.mediawiki.types import ApiStats
from watcher.service.status import StreamSource, current_stream, database_snapshot
from watcher.store import DatabaseError
from watcher.store import state as store_state
from watcher.store.engine import Store

if TYPE_CHECKING:
    from watcher.service.daemon import Daemon
    from watcher.stream.client import StreamStats

log = logging.getLogger("watcher.metrics")

# Seconds: Action API calls are usually 0.1–1 s; maxlag pauses and slow queries reach tens.
API_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Scrapes closer together than this reuse the last database snapshot.
SNAPSHOT_MAX_AGE = 1.0
HEALTH_DB_TIMEOUT = 5.0


class HealthSource(Protocol):
    """What /healthz asks the daemon: is the stream delivering, and the database it writes to (still
    the file at its path, and writable)."""

    @property
    def db(self) -> Store: ...

    def stream_live(self) -> bool: ...

    @property
    def role(self) -> str:
        """``single`` (the only daemon on its database), or on PostgreSQL ``leader`` or ``standby``
        (which follows no stream by design: its health is the database and the page)."""


@dataclass
class StreamHealth:
    """A HealthSource from the stream client's stats: live = connected and data within read_timeout."""

    db: Store
    stream: StreamSource  # the stats, or a callable returning the current client's stats
    read_timeout: float
    monotonic: Callable[[], float] = field(default=time.monotonic)
    role: str = "single"

    def stream_live(self) -> bool:
        stats = current_stream(self.stream)
        if stats is None or not stats.connected:
            return False
        last = stats.last_data_monotonic
        return last > 0 and self.monotonic() - last <= self.read_timeout


class DaemonHealth:
    """The running daemon as a HealthSource: its database, and the stream client it currently has."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    @property
    def db(self) -> Store:
        if self.daemon.db is None:
            raise RuntimeError("the daemon has no database open")
        return self.daemon.db

    def stream_live(self) -> bool:
        health = StreamHealth(self.db, self._stream, self.daemon.config.stream.read_timeout)
        return health.stream_live()

    @property
    def role(self) -> str:
        return self.daemon.role

    def _stream(self) -> StreamStats | None:
        stream = self.daemon.stream
        return stream.stats if stream is not None else None


def daemon_routes(daemon: Daemon, recorder: MetricsRecorder) -> Callable[[web.Application], None]:
    """``extra_routes`` for the daemon's review page: /healthz and /metrics about this daemon.

    Wires the recorder to the daemon's stream client and Action API client as a side effect.
    """
    recorder.watch_stream(lambda: daemon.stream.stats if daemon.stream is not None else None)
    if daemon.api is not None:
        recorder.watch_api("commons", daemon.api.stats)
    health = DaemonHealth(daemon)
    return lambda app: add_health_routes(app, health, recorder)


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class MetricsRecorder:
    """The watcher's metrics. Create one per process; the daemon wires it once and reports a few events."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self._clock = clock
        self._started = clock()
        self._stream: StreamSource = None
        self._apis: dict[str, ApiStats] = {}
        self._snapshot: dict[str, Any] | None = None
        self._snapshot_at = 0.0
        self._database_ok = False
        self._refresh_lock = asyncio.Lock()
        self.api_latency = Histogram(
            "watcher_api_request_duration_seconds",
            "Time from sending an Action API request to its response headers.",
            ["api"],
            buckets=API_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.notification_attempts = Counter(
            "watcher_notification_attempts",
            "Send attempts by channel and outcome, retries included (since the process started).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.registry.register(_SnapshotCollector(self))

    # -- wiring (once) ----------------------------------------------------------------------------

    def watch_stream(self, stream: StreamSource) -> None:
        """Report the stream client's live stats (connected, reconnects, last event) at every scrape.

        Pass a callable (``lambda: daemon.stream.stats if daemon.stream else None``) when the client
        can be replaced.
        """
        self._stream = stream

    def watch_api(self, name: str, stats: ApiStats) -> None:
        """Report an Action API client's request/error/retry counters under ``api=name``."""
        self._apis[name] = stats

    def api_trace_config(self, name: str) -> aiohttp.TraceConfig:
        """An aiohttp TraceConfig that times every request of a session into the latency histogram.

        Give it to the ClientSession the daemon passes to ``ActionApi(..., session=...)``.
        """
        trace = aiohttp.TraceConfig()

        async def started(
            session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestStartParams
        ) -> None:
            context.watcher_started = time.perf_counter()

        async def ended(
            session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
        ) -> None:
            self.observe_api_request(name, time.perf_counter() - context.watcher_started)

        async def failed(
            session: aiohttp.ClientSession,
            context: SimpleNamespace,
            params: aiohttp.TraceRequestExceptionParams,
        ) -> None:
            self.observe_api_request(name, time.perf_counter() - context.watcher_started)

        trace.on_request_start.append(started)
        trace.on_request_end.append(ended)
        trace.on_request_exception.append(failed)
        return trace

    # -- events -----------------------------------------------------------------------------------

    def observe_api_request(self, name: str, seconds: float) -> None:
        self.api_latency.labels(api=name).observe(seconds)

    def notification_attempt(self, channel: str, ok: bool) -> None:
        """One send attempt (optional: delivered and given-up totals come from the outbox table)."""
        self.notification_attempts.labels(channel=channel, outcome="ok" if ok else "error").inc()

    # -- scrape -----------------------------------------------------------------------------------

    async def refresh(self, db: Store) -> None:
        """Read the database figures for the next scrape (at most once per SNAPSHOT_MAX_AGE)."""
        async with self._refresh_lock:
            if self._snapshot is not None and self._clock() - self._snapshot_at < SNAPSHOT_MAX_AGE:
                return
            try:
                self._snapshot = await database_snapshot(db)
                self._database_ok = True
            except Exception as exc:
                # The scrape still reports what the process knows, and says the database did not answer.
                log.warning("metrics: cannot read the database: %s", exc)
                self._database_ok = False
            self._snapshot_at = self._clock()

    def forget_database(self) -> None:
        """No database to read (not open yet, or closed): report only what the process knows."""
        self._snapshot = None
        self._database_ok = False

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def _collect(self) -> Iterator[Metric]:
        now = self._clock()
        snap = self._snapshot or {}
        yield _gauge("watcher_start_time_seconds", "When this process started (Unix time).", self._started)
        yield _gauge(
            "watcher_database_readable", "1 when the last scrape could read the database.", self._database_ok
        )
        for key, help_text in (
            ("events_seen", "Stream events seen (all wikis), since the database was created."),
            ("events_matched", "Events about tracked files, since the database was created."),
            ("events_malformed", "Events that could not be parsed, since the database was created."),
            ("changes_queued", "Change records queued for review, since the database was created."),
        ):
            if key in snap:
                yield _counter(f"watcher_{key}", help_text, snap[key])
        if "tracked_files" in snap:
            yield _gauge("watcher_tracked_files", "Files currently tracked.", snap["tracked_files"])
        queue = GaugeMetricFamily(
            "watcher_queue_changes", "Change records in the queue, by status.", labels=["status"]
        )
        for status, count in (snap.get("queue") or {}).items():
            queue.add_metric([status], count)
        yield queue
        inbox = GaugeMetricFamily(
            "watcher_inbox_items", "Stream events waiting for the Action API, by state.", labels=["state"]
        )
        for state in ("pending", "failed"):
            if f"inbox_{state}" in snap:
                inbox.add_metric([state], snap[f"inbox_{state}"])
        yield inbox
        yield from self._notify_metrics(snap)
        yield from self._stream_metrics(now, snap)
        yield from self._api_metrics()

    def _stream_metrics(self, now: float, snap: dict[str, Any]) -> Iterator[Metric]:
        stream = current_stream(self._stream)
        last_event = _epoch(stream.last_time if stream and stream.last_time else snap.get("last_event_time"))
        if last_event is not None:
            yield _gauge(
                "watcher_last_event_timestamp_seconds", "meta.dt of the last stream event.", last_event
            )
            yield _gauge(
                "watcher_stream_lag_seconds",
                "Now minus the time of the last stream event.",
                max(0.0, now - last_event),
            )
        if stream is not None:
            yield _gauge(
                "watcher_stream_connected", "1 while the stream connection is open.", stream.connected
            )
            yield _counter(
                "watcher_stream_reconnects",
                "Stream reconnections since the process started.",
                stream.reconnects,
            )
            yield _counter(
                "watcher_stream_bytes", "Bytes read from the stream since the process started.", stream.bytes
            )

    def _notify_metrics(self, snap: dict[str, Any]) -> Iterator[Metric]:
        sent = CounterMetricFamily(
            "watcher_notifications_sent", "Notification messages delivered, by channel.", labels=["channel"]
        )
        failed = CounterMetricFamily(
            "watcher_notifications_failed",
            "Notification messages given up on after their retries, by channel.",
            labels=["channel"],
        )
        pending = GaugeMetricFamily(
            "watcher_notifications_pending", "Notification messages waiting to be sent.", labels=["channel"]
        )
        for channel, states in (snap.get("outbox_by_channel") or {}).items():
            sent.add_metric([channel], states.get("sent", 0))
            failed.add_metric([channel], states.get("failed", 0))
            pending.add_metric([channel], states.get("pending", 0))
        yield from (sent, failed, pending)
        if snap.get("last_digest_at"):
            last = _epoch(snap["last_digest_at"])
            if last is not None:
                yield _gauge(
                    "watcher_last_digest_timestamp_seconds", "When the last digest was delivered.", last
                )

    def _api_metrics(self) -> Iterator[Metric]:
        families = {
            "requests": CounterMetricFamily(
                "watcher_api_requests", "Action API HTTP requests, retries included.", labels=["api"]
            ),
            "errors": CounterMetricFamily(
                "watcher_api_errors", "Action API failures (HTTP, network, API errors).", labels=["api"]
            ),
            "retries": CounterMetricFamily(
                "watcher_api_retries", "Action API requests retried.", labels=["api"]
            ),
            # Needs no wiring, unlike the histogram: rate(this) / rate(requests) is the mean latency.
            "total_latency": CounterMetricFamily(
                "watcher_api_time_seconds", "Time spent waiting for Action API answers.", labels=["api"]
            ),
        }
        for name, stats in self._apis.items():
            for attribute, family in families.items():
                family.add_metric([name], getattr(stats, attribute))
        yield from families.values()


class _SnapshotCollector(Collector):
    def __init__(self, recorder: MetricsRecorder) -> None:
        self._recorder = recorder

    def collect(self) -> Iterator[Metric]:
        return self._recorder._collect()

    def describe(self) -> Iterator[Metric]:
        # Names only, for the registry's duplicate check; values come at collect time.
        return iter(())


def _gauge(name: str, documentation: str, value: float | bool) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=float(value))


METRICS_KEY = web.AppKey("watcher_metrics", MetricsRecorder)


async def _inbox_warnings(db: Store) -> list[str]:
    try:
        inbox = await store_state.inbox_summary(db)
    except Exception as exc:  # a busy or odd database must not turn /healthz into an error page
        log.debug("healthz: inbox summary unavailable: %s", exc)
        return []
    warnings = []
    if inbox.stuck:
        warnings.append(f"inbox: {inbox.stuck} item(s) failing for over an hour (see `watcher status`)")
    if inbox.failed:
        warnings.append(f"inbox: {inbox.failed} item(s) set aside (`watcher retry`)")
    return warnings


def add_health_routes(
    app: web.Application, health: HealthSource, metrics: MetricsRecorder | None = None
) -> None:
    """Add GET /healthz and GET /metrics to ``app`` (before it starts). Unauthenticated: see the module doc."""
    recorder = metrics or MetricsRecorder()
    app[METRICS_KEY] = recorder
    checker = _DatabaseCheck()

    async def healthz(request: web.Request) -> web.Response:
        problems: list[str] = []
        role = health.role
        try:
            live = role == "standby" or health.stream_live()  # a standby follows no stream
        except Exception as exc:
            live = False
            log.warning("healthz: cannot tell whether the stream is live: %s", exc)
        if not live:
            problems.append("stream: no data received within the read timeout")
        try:
            db = health.db
        except Exception as exc:
            problems.append(f"database: not open ({exc})")
        else:
            try:
                db.check_still_there()  # deleted or replaced: writable, but into a file nobody reads
            except DatabaseError as exc:
                problems.append(f"database: {exc}")
            else:
                database = await checker.writable(db)
                if database != "writable":
                    problems.append(f"database: {database}")
        where = {"role": role, "database": str(db.path)} if role != "single" else {}
        if problems:
            body = {"status": "unavailable", "reason": "; ".join(problems), **where}
            return web.json_response(body, status=503)
        # Work the Action API keeps failing is the outside world's outage, not the daemon's: still ok,
        # but said, so a monitor can page someone before the stream's retention runs out.
        warnings = await _inbox_warnings(db)
        return web.json_response({"status": "ok", **where, **({"warnings": warnings} if warnings else {})})

    async def metrics_page(request: web.Request) -> web.Response:
        try:
            db = health.db
        except Exception:
            recorder.forget_database()
        else:
            await recorder.refresh(db)
        return web.Response(body=recorder.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)


class _DatabaseCheck:
    """Database.writable() bounded in time without cancelling it.

    Cancelling a transaction while it waits for ``BEGIN IMMEDIATE`` could leave the shared connection
    inside a transaction, so a slow check is shielded and left to finish; the next probe reuses it
    instead of queueing another one behind the write lock.
    """

    def __init__(self) -> None:
        self._pending: asyncio.Task[bool] | None = None

    async def writable(self, db: Store) -> str:
        timeout = HEALTH_DB_TIMEOUT
        if self._pending is None or self._pending.done():
            self._pending = asyncio.create_task(db.writable(), name="healthz-db")
        try:
            ok = await asyncio.wait_for(asyncio.shield(self._pending), timeout)
        except TimeoutError:
            return f"no write lock within {timeout:g} s"
        except Exception as exc:
            return f"not writable ({type(exc).__name__}: {exc})"
        return "writable" if ok else "not writable"
