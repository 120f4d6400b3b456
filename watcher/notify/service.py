"""The notifier as one long-running task of the daemon: alerts, the digest scheduler, the outbox."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from watcher.base.retry import supervise
from watcher.config import Config
from watcher.notify.alerts import AlertWatcher
from watcher.notify.channels import build_channels
from watcher.notify.digest import run_scheduler
from watcher.notify.outbox import Outbox, RetryPolicy
from watcher.store.engine import Store

log = logging.getLogger("watcher.notify")


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def _fan_out(source: asyncio.Event, targets: list[asyncio.Event]) -> None:
    """One external wake-up (new change records) wakes every part that waits for one."""
    while True:
        await source.wait()
        source.clear()
        for event in targets:
            event.set()


async def run_notifier(
    db: Store,
    config: Config,
    *,
    clock: Callable[[], datetime] | None = None,
    wake: asyncio.Event | None = None,
    retry: RetryPolicy | None = None,
) -> None:
    """Run alerts, digests and the outbox until cancelled (returns at once with no channels).

    ``wake`` may be set by the daemon whenever it queued change records; without it alerts are found
    by polling every few seconds. Cancellation stops every part; an in-flight send gets
    ``RetryPolicy.grace`` seconds to finish and be recorded.
    """
    clock = clock or _utcnow
    channels, problems = build_channels(config)
    for problem in problems:
        log.error("%s", problem)
    outbox = Outbox(db, channels, clock=clock, policy=retry)
    channels = [c for c in channels if c.targets]
    if not channels:
        return
    alert_wakes: list[asyncio.Event] = []
    scheduler_wake = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        for channel in channels:
            if channel.wants_alerts:
                event = asyncio.Event()
                alert_wakes.append(event)
                watcher = AlertWatcher(db, config, channel, clock=clock, on_queued=outbox.wake.set)
                name = f"alerts of {channel.name}"
                group.create_task(
                    supervise(f"notify: {name}", functools.partial(watcher.run, event), log=log), name=name
                )
        if wake is not None:
            group.create_task(_fan_out(wake, [*alert_wakes, scheduler_wake]), name="notify-wake")
        group.create_task(
            supervise(
                "notify: digest scheduler",
                lambda: run_scheduler(db, config, channels, clock, scheduler_wake, outbox.wake.set),
                log=log,
            ),
            name="notify-digests",
        )
        group.create_task(supervise("notify: outbox", outbox.run, log=log), name="notify-outbox")
        log.info(
            "notifications: %s",
            ", ".join(f"{c.name} ({c.config.mode}, {len(c.targets)} URL(s))" for c in channels),
        )
