"""Wiring: config → database → tracked set → stream → ingest → worker, supervised, with signals.

Each long-running part is a task restarted after an unexpected error, so one bad event, page or
outage never stops the daemon. SIGTERM/SIGINT cancel the tasks; in-flight work is either committed
or rolled back (never half-written), the cursor is flushed, and the process exits 0 within 10 s.

What would lose edits without anyone noticing stops it instead (issue 13): it holds the database's
:class:`~watcher.store.db.DaemonLock` for its whole life (a second daemon on one database exits at
once, naming the first), checks the file with ``PRAGMA quick_check`` before anything starts, and
stops with :class:`~watcher.store.db.DatabaseGone`'s exit code when the file is deleted or replaced
under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web

from watcher.base.retry import Backoff, supervise
from watcher.config import EX_CONFIG, Config
from watcher.export.push import WebhookPusher
from watcher.history.run import HistoryOptions, run_history
from watcher.mediawiki.client import ActionApi, ApiError
from watcher.notify.service import run_notifier
from watcher.pipeline.labels import LabelFetcher, LabelResolver
from watcher.pipeline.redirects import keep_redirects_current
from watcher.pipeline.worker import Worker
from watcher.store import DaemonLock, Database, DatabaseError, iso_utc, utcnow
from watcher.store import state as store_state
from watcher.store import tracked as store_tracked
from watcher.store.engine import Store
from watcher.store.open import connect_store, location_text, store_settings
from watcher.store.pg import DatabaseUnavailable, LeaderLock
from watcher.store.queue import parse_since
from watcher.stream.client import EventStream
from watcher.tracking.catchup import RECENT_CHANGES_KEEP, catch_up, needs_catch_up, parse_time
from watcher.tracking.collections import CollectionsResolver, load_tracked_set, refresh_seconds
from watcher.tracking.ingest import Ingest
from watcher.tracking.resolver import TrackedSet
from watcher.web.app import PortUnavailable, bind_or_explain, run_web

log = logging.getLogger("watcher.daemon")

SHUTDOWN_SECONDS = 8.0
# How often the daemon makes sure its database file is still the one it opened (a few stats).
DATABASE_CHECK_SECONDS = 2.0
# How often a standby asks for the leader's lock, and the leader checks it still holds it: with the
# server's keepalives (about 25 s for a vanished node), a standby takes over within 30 s.
LEADER_POLL_SECONDS = 2.0
# A first start's resolution that takes longer than this tells systemd the service is up (READY=1).
RESOLVE_READY_SECONDS = 30.0


@dataclass
class DaemonHooks:
    """Extension points for the service layer (systemd notify, web, notifications)."""

    on_stream_connected: list[Callable[[], None]] = field(default_factory=list)
    # On a shared store: a node that stands by (serving the page, following no stream) is up too, and
    # runs these tasks while it waits (systemd's watchdog).
    on_standing_by: list[Callable[[], None]] = field(default_factory=list)
    standby_tasks: list[tuple[str, Callable[[Daemon], Awaitable[None]]]] = field(default_factory=list)
    on_catching_up: list[Callable[[], None]] = field(default_factory=list)
    extra_tasks: list[tuple[str, Callable[[Daemon], Awaitable[None]]]] = field(default_factory=list)
    # Unauthenticated routes beside the review page (/healthz, /metrics), made for the running daemon.
    web_routes: Callable[[Daemon], Callable[[web.Application], None]] | None = None


class Daemon:
    def __init__(self, config: Config, hooks: DaemonHooks | None = None) -> None:
        self.config = config
        self.hooks = hooks or DaemonHooks()
        self.stop_event = asyncio.Event()
        # Set on PostgreSQL when this node lost the leader's lock: its leader tasks stop, the process not.
        self.step_down = asyncio.Event()
        self.resolved = asyncio.Event()
        self.tracking_wake = asyncio.Event()
        self.notify_wake = asyncio.Event()
        self.db: Store | None = None
        # On PostgreSQL: the lock that makes this node the one that follows the stream, and whether
        # it holds it now (the review page's /healthz says which).
        self.leader: LeaderLock | None = None
        self.leading = False
        self.api: ActionApi | None = None
        self.stream: EventStream | None = None
        self.worker: Worker | None = None
        self.ingest: Ingest | None = None
        self.tracked: TrackedSet | None = None
        self.labels: LabelFetcher | None = None  # the Wikidata labels task, where [labels] names languages
        # Set when the daemon stops because its database was deleted or replaced under it: why, and
        # the exit code (/healthz notices the same on its own, through Database.check_still_there).
        self.failure: DatabaseError | None = None
        # The review page's listening sockets, taken at start (run); web_off: the port was busy and
        # [web] on_busy = "disable" said to run without the page.
        self.web_sockets: list[socket.socket] | None = None
        self.web_off = False

    def stop(self) -> None:
        self.stop_event.set()

    @property
    def role(self) -> str:
        """``single`` on SQLite; on PostgreSQL ``leader`` while this node follows the stream, else
        ``standby``."""
        if self.leader is None:
            return "single"
        return "leader" if self.leading else "standby"

    async def run(self) -> int:
        """Run until stopped; 0 after a requested stop, the failure's exit code after a forced one.

        Raises :class:`~watcher.store.db.DatabaseLocked` (another daemon runs on the database) or
        another :class:`~watcher.store.db.DatabaseError` (missing folder, damaged file) before any
        task starts. Returns 78 (EX_CONFIG) at once, after one error line, where the review page's
        address cannot be had (``[web] on_busy = "stop"``, the default).
        """
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)
        if self.config.database_url is not None:
            return await self._run_shared(self.config.database_url)
        # The lock comes first: a second daemon must not even open (or migrate) the database.
        with DaemonLock.acquire(self.config.database):
            # The review page's port next, before the database and the stream: a port that cannot be
            # had stops the start here in one line (exit 78), not a web task restarted forever.
            try:
                self.web_sockets = self._take_web_port()
            except PortUnavailable as exc:
                log.error(
                    '%s; free it, set [web] listen to another port, or set [web] on_busy = "disable" '
                    "to run without the page",
                    exc,
                )
                return EX_CONFIG
            try:
                self.db = await Database.connect(self.config.database, verify=True)
                return await self._run_open(self.db)
            finally:
                for sock in self.web_sockets or ():
                    sock.close()

    async def _run_shared(self, url: str) -> int:
        """On a PostgreSQL store: one node of the deployment follows the stream (the leader's lock),
        every other stands by serving the review page and takes over when the leader stops or dies.

        A node that loses the lock (its connection died: the server restarted, the network broke)
        stops its leader tasks, stands by again and leads again once it has the lock back; it never
        stops for an unreachable server, it waits for it.
        """
        try:
            self.web_sockets = self._take_web_port()
        except PortUnavailable as exc:
            log.error('%s; free it, set [web] listen to another port, or set [web] on_busy = "disable"', exc)
            return EX_CONFIG
        try:
            db = await self._connect_shared(url)
            if db is None:
                return 0
            self.db = db
            self.leader = LeaderLock(url)
            code = 0
            while not self.stop_event.is_set():
                if not await self._stand_by(db, self.leader):
                    break
                log.info("this node holds the leader's lock: following the stream")
                self.step_down.clear()
                self.leading = True
                try:
                    code = await self._run_open(db, close=False)
                except DatabaseUnavailable as exc:  # the server went away as this node took over
                    log.warning("%s; stepping down until it answers", exc)
                    code = 0
                finally:
                    self.leading = False
                if self.stop_event.is_set() or self.failure is not None:
                    break
                await self.leader.release()
                log.warning("stepped down: standing by until this node holds the leader's lock again")
            await db.close()
            return code
        finally:
            if self.leader is not None:
                await self.leader.release()
            for sock in self.web_sockets or ():
                sock.close()

    async def _connect_shared(self, url: str) -> Store | None:
        """The store, waited for while the server cannot be reached (None: stopped while waiting)."""
        backoff = Backoff(1.0, 60.0)
        while not self.stop_event.is_set():
            try:
                return await connect_store(url, settings=store_settings(self.config))
            except DatabaseUnavailable as exc:
                delay = backoff.next_delay()
                log.warning("%s; trying again in %.0f s", exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop_event.wait(), delay)
        return None

    async def _stand_by(self, db: Store, leader: LeaderLock) -> bool:
        """Until this node holds the leader's lock (True) or is stopped (False), serving the page; a
        server that cannot be reached is waited for (``LeaderLock.wait`` asks again at each poll)."""
        try:
            if await leader.try_acquire():
                return True
            log.info(
                "another watcher follows the stream on %s: standing by (serving the review page)", db.path
            )
        except DatabaseUnavailable as exc:
            log.warning("%s; standing by until it answers", exc)
        for callback in self.hooks.on_standing_by:
            callback()
        parts: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            (name, functools.partial(factory, self)) for name, factory in self.hooks.standby_tasks
        ]
        if self.config.web is not None and not self.web_off:
            parts.append(("web", self._serve_web))
        serving = [asyncio.create_task(supervise(name, body, log=log), name=name) for name, body in parts]
        waiting = asyncio.create_task(leader.wait(poll_s=LEADER_POLL_SECONDS))
        stopping = asyncio.create_task(self.stop_event.wait())
        try:
            await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            return waiting.done() and not waiting.cancelled() and waiting.exception() is None
        finally:
            for task in (waiting, stopping, *serving):
                task.cancel()
            await asyncio.gather(waiting, stopping, *serving, return_exceptions=True)

    async def _hold_leadership(self) -> None:
        """Every LEADER_POLL_SECONDS: does this node still hold the leader's lock? A node whose lock
        connection died may have a successor already: it steps down (and stands by again)."""
        assert self.leader is not None
        while True:
            await asyncio.sleep(LEADER_POLL_SECONDS)
            if not await self.leader.held():
                log.error(
                    "lost the leader's lock (its connection to the database died): another node may "
                    "follow the stream now; stopping this node's stream work"
                )
                self.step_down.set()
                return

    def _take_web_port(self) -> list[socket.socket] | None:
        """The review page's sockets; None without [web], or when busy and ``on_busy = "disable"``."""
        section = self.config.web
        if section is None:
            return None
        try:
            return bind_or_explain(section)
        except PortUnavailable as exc:
            if section.on_busy != "disable":
                raise
            log.warning('%s; running without the review page ([web] on_busy = "disable")', exc)
            self.web_off = True
            return None

    def _database_lost(self, failure: DatabaseError) -> None:
        """Stop because the database file is gone (logged here, once); :meth:`run` returns its exit code."""
        if self.failure is None:
            self.failure = failure
            log.error("%s; stopping now so nothing more is written to a file nobody can read", failure)
        self.stop()

    async def _run_open(self, db: Store, *, close: bool = True) -> int:
        """Run every task on the open store until stopped (or, on PostgreSQL, until this node steps
        down: ``close=False`` then keeps the store open for the next term)."""
        config = self.config
        self.api = api = ActionApi(config.wiki.api_url, config.user_agent)
        wikidata = ActionApi(config.labels.api_url, config.user_agent) if config.labels.languages else None
        try:
            self.tracked = tracked = await load_tracked_set(db, config.collections)
            # Records are made with the labels the cache has; the "labels" task fetches the rest.
            labels = LabelResolver(db, config.labels.languages) if wikidata else None
            self.labels = LabelFetcher(db, wikidata, config.labels.languages) if wikidata else None
            self.worker = Worker(db, api, config, labels=labels, on_queued=self._queued)
            self.ingest = Ingest(
                db, tracked, config, wake_worker=self.worker.wake, wake_tracking=self.tracking_wake.set
            )
            last_id, _ = await self._stored_cursor()
            if (await store_tracked.count_files(db))["active"]:
                self.resolved.set()  # the set is known from the last run; refresh it in the background
            # An empty stored set (a first run stopped before it resolved) is not a known set, even with
            # a stored position: the catch-up and the stream wait for the resolution, or the edits of
            # the gap would be taken for edits of untracked files and lost.
            log.info(
                "watcher started: wiki %s, %s, database %s",
                config.wiki.name,
                f"resuming after event {last_id}" if last_id else "first start (following from now)",
                location_text(config.store_location),
            )
            parts: list[tuple[str, Callable[[], Awaitable[None]]]] = [
                ("database-watch", self._watch_database),
                ("stream", self._follow_stream),
                ("worker", self.worker.run),
                ("tracking", self._tracking_loop),
                ("template-redirects", self._keep_redirects),
                ("housekeeping", self._housekeeping),
                ("cursor", self.ingest.flush_periodically),
            ]
            if self.labels is not None:
                parts.append(("labels", self.labels.run))
            if config.notify:
                parts.append(("notify", self._notify))
            if config.web is not None and not self.web_off:
                parts.append(("web", self._serve_web))
            if config.export.webhook:
                parts.append(("webhook", self._push_webhook))
            if self.leader is not None:
                parts.append(("leader", self._hold_leadership))
            parts += [(name, functools.partial(factory, self)) for name, factory in self.hooks.extra_tasks]
            tasks = [asyncio.create_task(supervise(name, body, log=log), name=name) for name, body in parts]
            stopping = asyncio.create_task(self.stop_event.wait())
            stepping_down = asyncio.create_task(self.step_down.wait())
            await asyncio.wait({stopping, stepping_down}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            stepping_down.cancel()
            log.info("stopping" if self.stop_event.is_set() else "stopping the leader's tasks")
            for task in tasks:
                task.cancel()
            _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_SECONDS)
            if pending:
                log.warning("tasks still running at shutdown: %s", ", ".join(t.get_name() for t in pending))
            if self.failure is None:  # a lost file refuses the writes anyway
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.ingest.flush(), timeout=1.0)
        finally:
            await api.close()
            if wikidata is not None:
                await wikidata.close()
            if close:
                await db.close()
        if self.failure is not None:
            log.info("stopped (exit code %d)", self.failure.exit_code)
            return self.failure.exit_code
        if self.stop_event.is_set():
            log.info("stopped")
        return 0

    def _queued(self, count: int) -> None:
        """The worker queued records: tell the notifier, and the labels task (their entities)."""
        self.notify_wake.set()
        if self.labels is not None:
            self.labels.wake()

    async def _watch_database(self) -> None:
        """Every DATABASE_CHECK_SECONDS: is the file at the configured path still the one open here?

        Deleted or replaced (a restore under a running daemon, a cleanup script), everything the
        daemon commits from then on goes into a file nobody can read: stop instead.
        """
        assert self.db is not None
        while True:
            await asyncio.sleep(DATABASE_CHECK_SECONDS)
            try:
                self.db.check_still_there()
            except DatabaseError as exc:
                self._database_lost(exc)
                return

    def _stream_connected(self) -> None:
        for callback in self.hooks.on_stream_connected:
            callback()

    def _make_stream(self, last_id: str | None, last_time: str | None) -> EventStream:
        assert self.tracked is not None
        config = self.config
        return EventStream(
            config.stream.url,
            config.user_agent,
            config.wiki.name,
            self.tracked,
            last_event_id=last_id,
            last_event_time=last_time,
            read_timeout=config.stream.read_timeout,
            backoff_initial=config.stream.backoff_initial,
            backoff_max=config.stream.backoff_max,
            resume_margin=config.stream.resume_margin,
            on_connect=self._stream_connected,
        )

    async def _catch_up_if_needed(
        self, last_id: str | None, last_time: str | None
    ) -> tuple[str | None, str | None]:
        """A stored position older than the stream keeps is caught up through the Action API first."""
        assert (
            self.db is not None
            and self.api is not None
            and self.ingest is not None
            and self.tracked is not None
        )
        now = datetime.now(UTC)
        retention = timedelta(days=self.config.stream.retention_days)
        # Not only when an id is stored: a catch-up interrupted after it dropped the id must go on.
        if not needs_catch_up(last_time, now, retention):
            return last_id, last_time
        assert last_time is not None
        await self.resolved.wait()
        start = parse_time(last_time) - timedelta(seconds=self.config.stream.resume_margin)
        oldest = now - RECENT_CHANGES_KEEP + timedelta(hours=1)
        log.warning(
            "the stored stream position (%s) is older than the stream keeps (%g days): catching up through "
            "the Action API's recent changes", last_time, self.config.stream.retention_days,
        )  # fmt: skip
        # The stored id is useless now; from here the position is a time, advanced as the catch-up goes.
        async with self.db.transaction() as conn:
            await store_state.set_state(conn, store_state.CURSOR_ID, None)
        if start < oldest:
            # Older than recentchanges keeps: history mode fills that part per file (one cumulative
            # diff per file, source "history"), leaving everything after `oldest` to the catch-up.
            log.warning(
                "the gap since %s is longer than the wiki's recent changes keep (30 days): filling the part "
                "before %s with history mode (one set of changes per file)", last_time, iso_utc(oldest),
            )  # fmt: skip
            filled = await run_history(
                self.config, HistoryOptions(since=parse_since(last_time)), api=self.api
            )
            log.info("history mode filled the old part of the gap: %d change(s) queued", filled.records)
            start = oldest
        # A long catch-up must not hit systemd's start timeout: the service is up, it is just behind.
        for callback in self.hooks.on_catching_up:
            callback()
        report = await catch_up(self.api, self.ingest, self.tracked, self.config.wiki.name, start, now)
        return None, report.end

    async def _stored_cursor(self) -> tuple[str | None, str | None]:
        """The committed stream position: the last event's id and time."""
        assert self.db is not None
        last_id = await store_state.get_state(self.db, store_state.CURSOR_ID)
        last_time = await store_state.get_state(self.db, store_state.CURSOR_TIME)
        if last_time is None:
            # First start: the stream is read from the moment the watcher was first started, stored
            # durably so that a restart before the first event was committed loses nothing.
            last_time = await store_state.get_state(self.db, store_state.FIRST_START)
            if last_time is None:
                last_time = utcnow()
                async with self.db.transaction() as conn:
                    await store_state.set_state(conn, store_state.FIRST_START, last_time)
        return last_id, last_time

    async def _follow_stream(self) -> None:
        assert self.ingest is not None
        if not self.resolved.is_set():
            # A first start resolves before it connects (issue 18): a connection left unread while
            # thousands of files resolve only fills buffers. Nothing is missed: the stream is read from
            # the stored first-start time. Like a long catch-up, a long one must not hit systemd's start
            # timeout: past RESOLVE_READY_SECONDS the service says it is up, just not following yet.
            log.info("resolving the tracked set before connecting to the stream")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.resolved.wait(), RESOLVE_READY_SECONDS)
            if not self.resolved.is_set():
                for callback in self.hooks.on_catching_up:
                    callback()
                await self.resolved.wait()
        # Started again after a failure: whatever waited in memory comes again from the stored cursor.
        await self.ingest.forget_pending()
        last_id, last_time = await self._catch_up_if_needed(*await self._stored_cursor())
        self.stream = self._make_stream(last_id, last_time)
        async for batch in self.stream.batches():
            if not self.resolved.is_set():
                log.info("waiting for the tracked set to be resolved before taking events")
                await self.resolved.wait()
            await self.ingest.handle(batch)

    async def _tracking_loop(self) -> None:
        """Resolve the tracked set at start and every refresh_hours; follow category refresh requests."""
        assert self.db is not None and self.api is not None and self.tracked is not None
        resolver = CollectionsResolver(self.config.collections, self.api, self.db, self.tracked)
        refresh = refresh_seconds(self.config.collections)
        backoff = Backoff(5.0, 600.0, jitter=(0.8, 1.2))
        next_full = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                if loop.time() >= next_full:
                    await resolver.resolve_all()
                    next_full = loop.time() + refresh
                    self.resolved.set()
                await self._category_refreshes(resolver)
                backoff.reset()
            except (ApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning(
                    "cannot resolve the tracked files through the Action API at %s: %s — retrying in %.0f s",
                    self.config.wiki.api_url,
                    exc or type(exc).__name__,
                    backoff.current,
                )
                await asyncio.sleep(backoff.next_delay())
                continue
            self.tracking_wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.tracking_wake.wait(), timeout=max(1.0, min(600.0, next_full - loop.time()))
                )

    async def _category_refreshes(self, resolver: CollectionsResolver) -> None:
        assert self.db is not None
        for item in await store_state.due_items(self.db, 100, ("category",)):
            root = str(item.event.get("root") or item.title)
            await resolver.resolve_category(root)
            async with self.db.transaction() as conn:
                await store_state.finish_item(conn, item.id)

    async def _keep_redirects(self) -> None:
        assert self.db is not None and self.api is not None
        await keep_redirects_current(self.db, self.api, self.config.diff.info_templates)

    async def _push_webhook(self) -> None:
        assert self.db is not None
        await WebhookPusher(self.db, self.config).run(self.stop_event)

    async def _notify(self) -> None:
        assert self.db is not None
        await run_notifier(self.db, self.config, wake=self.notify_wake)

    async def _serve_web(self) -> None:
        assert self.db is not None
        routes = self.hooks.web_routes(self) if self.hooks.web_routes is not None else None
        await run_web(self.db, self.config, extra_routes=routes, sockets=self.web_sockets or ())

    async def _housekeeping(self) -> None:
        assert self.db is not None
        while True:
            removed = await store_state.prune_inbox(self.db)
            if removed:
                log.info("forgot %d finished stream events older than 14 days", removed)
            await asyncio.sleep(6 * 3600)
