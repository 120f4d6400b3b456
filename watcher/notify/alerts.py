"""Immediate alerts: new change records, gathered for ``coalesce_seconds``, as one message per channel.

Each channel keeps a durable cursor (``notify_cursors``: the last change id it has dealt with). The
cursor moves in the transaction that queues the alert's outbox rows, so an alert is queued exactly
once however the daemon stops. Only live records alert: ``watcher history`` can queue thousands of
old edits at once, which belong in the digest (summarised there), not in a flood of alerts. A channel
seen for the first time starts at the newest record, so adding a channel does not replay the queue.

A quiet period (``[filters] hold_minutes``) holds every record back until that long after it was
queued, and then alerts it only where it is still pending: vandalism reverted within the hour (the
change withdrawn) never reaches an inbox. The cursor never passes a record still held.

Reads that lead to moving the cursor happen inside ``Database.transaction()``: the daemon shares one
connection, and only under its write lock is no other task's uncommitted insert visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from watcher.base.values import BodyFormat
from watcher.config import Config
from watcher.notify.channels import Channel
from watcher.notify.filters import filter_sql
from watcher.notify.outbox import Message, enqueue
from watcher.notify.render import ChangeView, Presenter, fit, render_template
from watcher.store.db import iso_utc
from watcher.store.engine import Connection, Store
from watcher.store.queue import RECORD_COLUMNS, ChangeRecord

log = logging.getLogger("watcher.notify")

ALERT_LIST_MAX = 200  # records loaded for one alert; the rest are counted ("N more")
POLL_SECONDS = 5.0
SKIP_AHEAD = 500  # move the cursor over records the channel does not want once this many piled up


class AlertMessage:
    """One alert: the first records in full, the total counted, cut to each target's limit."""

    def __init__(self, views: list[ChangeView], total: int, files: int, more_url: str | None) -> None:
        self.views = views
        self.total = total
        self.files = files
        self.more_url = more_url
        plural = "s" if total != 1 else ""
        self.title = f"Commons Watcher: {total} new change{plural} on {files} file{'s' if files != 1 else ''}"

    def render(self, fmt: BodyFormat, limit: int | None = None) -> str:
        def body(shown: int) -> str:
            return render_template(
                "alert", fmt, items=self.views[:shown], more=self.total - shown, more_url=self.more_url,
                total=self.total, files=self.files,
            )  # fmt: skip

        return fit(body, len(self.views), limit)


class AlertWatcher:
    """Polls the queue for one channel (or wakes when told), coalesces, queues alert messages."""

    def __init__(
        self,
        db: Store,
        config: Config,
        channel: Channel,
        *,
        clock: Callable[[], datetime],
        on_queued: Callable[[], None],
    ) -> None:
        self.db = db
        self.channel = channel
        self.clock = clock
        self.on_queued = on_queued
        self.presenter = Presenter(config, channel.digest_time.zone)
        condition, self.params = filter_sql(channel.config)
        self.condition = f"source = 'live' AND ({condition})"
        self.hold = timedelta(minutes=config.filters.hold_minutes)
        if self.hold:
            self.condition += " AND status = 'pending'"

    def _ripe(self) -> str:
        """Queue times at or before this have waited out the quiet period."""
        return iso_utc(self.clock() - self.hold)

    async def cursor(self) -> int:
        """The channel's cursor; a new channel starts at the newest record."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT last_change_id FROM notify_cursors WHERE channel = ?", (self.channel.name,)
            )
            row = await cursor.fetchone()
            if row is not None:
                return int(row[0])
            cursor = await conn.execute("SELECT coalesce(max(id), 0) FROM changes")
            newest = int((await cursor.fetchone() or [0])[0])
            await self._move(conn, newest)
            return newest

    async def _move(self, conn: Connection, to: int) -> None:
        await conn.execute(
            "INSERT INTO notify_cursors (channel, last_change_id, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(channel) DO UPDATE SET last_change_id = excluded.last_change_id, "
            "updated_at = excluded.updated_at",
            (self.channel.name, to, iso_utc(self.clock())),
        )

    async def has_pending(self, after: int) -> bool:
        """A cheap look outside any transaction; a false positive only starts a coalescing window."""
        ripe, params = ("queued_at <= ? AND ", [self._ripe()]) if self.hold else ("", [])
        row = await self.db.fetchone(
            f"SELECT 1 FROM changes WHERE id > ? AND {ripe}{self.condition} LIMIT 1",
            [after, *params, *self.params],
        )
        return row is not None

    async def flush(self, after: int) -> tuple[int, int]:
        """Queue one alert for everything wanted after ``after``; returns (new cursor, records alerted)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute("SELECT coalesce(max(id), 0) FROM changes")
            upto = int((await cursor.fetchone() or [0])[0])
            if self.hold:  # up to the first record still held back, whatever the order of queue times
                cursor = await conn.execute(
                    "SELECT min(id) FROM changes WHERE id > ? AND queued_at > ?", (after, self._ripe())
                )
                held = (await cursor.fetchone() or [None])[0]
                upto = upto if held is None else max(after, int(held) - 1)
            window = f"id > ? AND id <= ? AND {self.condition}"
            params = [after, upto, *self.params]
            cursor = await conn.execute(
                f"SELECT count(*), count(DISTINCT file), min(id), max(id) FROM changes WHERE {window}", params
            )
            total, files, first, last = await cursor.fetchone() or (0, 0, None, None)
            if total:
                cursor = await conn.execute(
                    f"SELECT {RECORD_COLUMNS} FROM changes WHERE {window} ORDER BY id LIMIT ?",
                    [*params, ALERT_LIST_MAX],
                )
                records = [ChangeRecord.from_row(row) for row in await cursor.fetchall()]
                labels = await self.presenter.labels(self.db, records)
                alert = AlertMessage(
                    [self.presenter.view(r, labels=labels) for r in records],
                    total,
                    files,
                    self.presenter.review_url(),
                )
                message = Message("alert", f"alert:{first}-{last}", alert.title, alert.render)
                await enqueue(conn, self.channel, message, self.clock())
            if upto > after:
                await self._move(conn, upto)
        if total:
            log.info("notify %s: alert about %d change(s) queued", self.channel.name, total)
            self.on_queued()
        return max(upto, after), int(total)

    async def run(self, wake: asyncio.Event) -> None:
        after = await self.cursor()
        first_seen: datetime | None = None
        coalesce = self.channel.config.coalesce_seconds
        while True:
            wake.clear()  # before looking, so a wake-up during the look is not lost
            timeout = POLL_SECONDS
            if await self.has_pending(after):
                now = self.clock()
                first_seen = first_seen or now
                ready_in = coalesce - (now - first_seen).total_seconds()
                if ready_in <= 0:
                    after, _ = await self.flush(after)
                    first_seen = None
                    continue
                timeout = min(timeout, ready_in)
            else:
                first_seen = None
                newest = await self.db.scalar("SELECT coalesce(max(id), 0) FROM changes")
                if int(newest) - after > SKIP_AHEAD:
                    after, _ = await self.flush(after)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=timeout)
