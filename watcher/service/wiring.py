"""The daemon as a service: systemd READY/STATUS/WATCHDOG/STOPPING, live state, /healthz and /metrics.

The daemon knows nothing of these: it offers hooks (:class:`~watcher.service.daemon.DaemonHooks`) and
this module fills them, so that the daemon can be run bare (tests, the demo) or as a service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from watcher.config import Config
from watcher.service import systemd
from watcher.service.daemon import Daemon, DaemonHooks
from watcher.service.metrics import MetricsRecorder, daemon_routes
from watcher.service.status import LiveStatePersister, save_daemon_started, save_daemon_stopped, status_line
from watcher.stream.client import StreamStats

log = logging.getLogger("watcher.systemd")


def daemon_hooks(hooks: DaemonHooks | None = None) -> DaemonHooks:
    """The daemon's service wiring: READY on the first stream connection, STATUS, watchdog, live state.

    - ``READY=1`` (with a STATUS line) the first time the stream connects: by then the config is
      valid and the database migrated, both of which happen before any task starts; on a shared
      PostgreSQL store also when the node stands by (it serves the page, and keeps the watchdog fed).
    - ``WATCHDOG=1`` from an asyncio task, from the start.
    - ``STATUS=…`` every 30 s (:func:`watcher.service.status.status_line`).
    - The daemon's pid, start time, stream state, reconnects and API errors into the database every
      few seconds for `watcher status` (:class:`watcher.service.status.LiveStatePersister`).
    - ``STOPPING=1`` as soon as shutdown cancels the tasks, and a clean-stop mark in the database.
    """
    hooks = hooks or DaemonHooks()
    announced = False

    def stream_connected() -> None:
        nonlocal announced
        if not announced:
            announced = True
            systemd.ready("connected to the stream")
            log.debug("told systemd we are ready")

    def catching_up() -> None:
        # A long catch-up must not hit systemd's start timeout: the service is up, it is just behind.
        systemd.ready("catching up through the Action API")

    def stream_stats(daemon: Daemon) -> StreamStats | None:
        return daemon.stream.stats if daemon.stream is not None else None

    async def watchdog(daemon: Daemon) -> None:
        await systemd.watchdog_task()

    async def status_lines(daemon: Daemon) -> None:
        assert daemon.db is not None
        db = daemon.db
        try:
            await systemd.status_updates(lambda: status_line(db, lambda: stream_stats(daemon)))
            await asyncio.Event().wait()  # without systemd: nothing to send, but wait for the stop
        finally:
            systemd.stopping("stopping")

    async def live_state(daemon: Daemon) -> None:
        assert daemon.db is not None
        db = daemon.db
        apis = [api.stats for api in (daemon.api,) if api is not None]
        await save_daemon_started(db)
        try:
            await LiveStatePersister(db, lambda: stream_stats(daemon), apis).run()
        finally:
            # Never raise from here: the supervisor would take it for a crash and start this again.
            with contextlib.suppress(Exception):
                await asyncio.shield(save_daemon_stopped(db))

    def standing_by() -> None:
        # A standby on a shared store is up: it serves the review page and waits to lead.
        systemd.ready("standing by: another node follows the stream")

    hooks.on_stream_connected.append(stream_connected)
    hooks.on_catching_up.append(catching_up)
    hooks.on_standing_by.append(standing_by)
    hooks.standby_tasks.append(("systemd-watchdog", watchdog))
    hooks.extra_tasks.extend(
        [("systemd-watchdog", watchdog), ("systemd-status", status_lines), ("live-state", live_state)]
    )
    return hooks


def service_hooks() -> DaemonHooks:
    """The daemon as a service: systemd READY/STATUS/WATCHDOG/STOPPING, live state, /healthz and /metrics."""
    hooks = daemon_hooks()
    recorder = MetricsRecorder()
    hooks.web_routes = lambda daemon: daemon_routes(daemon, recorder)
    return hooks


async def run_daemon(config: Config, hooks: DaemonHooks | None = None) -> int:
    return await Daemon(config, hooks if hooks is not None else service_hooks()).run()
