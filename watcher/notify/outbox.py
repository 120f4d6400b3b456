"""The outbox: every notification is a durable row before it is sent; retried until it goes through.

- One row per message and target (one apprise URL of a channel), so a retry never repeats a message
  to a target that already took it, and each target keeps its own back-off.
- Each target is drained by its own task in row order; targets (and so channels) send concurrently,
  so one failing or rate-limited service never holds up another.
- A row is claimed with a lease (``lease_owner``/``lease_until``, taken in a ``BEGIN IMMEDIATE``
  transaction) so the daemon and ``watcher digest --send`` never send the same row at once, and a
  target never has two sends in flight (its order and rate limit hold across processes). A lease left
  by a crash expires after ``RetryPolicy.lease``; the row is then sent again.
- The result is written in the transaction that marks the row sent: delivery is at-least-once, and a
  crash between apprise's send and that commit repeats at most that one message.
- Sends use ``async_notify`` (apprise runs the blocking plugin in a worker thread). apprise's own
  throttle would ``time.sleep`` ``request_rate_per_sec`` seconds in that thread between two sends of
  one service; the target task waits that long *before* sending instead, with ``asyncio.sleep``, so
  apprise's sleep finds nothing left to wait and a shutdown is not held up by it.
- Back-off: a ``Retry-After`` (seconds or an HTTP date, seen by :mod:`watcher.notify.hooks`) is
  honoured as given; otherwise exponential from ``base`` up to ``cap``. After ``give_up_after`` the
  row is marked ``failed`` and logged as an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import apprise

from watcher.base.masking import mask_secrets
from watcher.base.retry import Backoff, parse_retry_after
from watcher.base.values import BodyFormat
from watcher.notify import hooks
from watcher.notify.channels import Channel, Target
from watcher.store.db import iso_utc
from watcher.store.engine import Connection, Row, Store

log = logging.getLogger("watcher.notify")

_FORMATS = {
    "text": apprise.NotifyFormat.TEXT,
    "markdown": apprise.NotifyFormat.MARKDOWN,
    "html": apprise.NotifyFormat.HTML,
}
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 30.0
    cap: float = 1800.0
    give_up_after: float = 24 * 3600.0
    min_attempts: int = 5  # never give up before this many, whatever the clocks say
    retry_after_cap: float = 3600.0
    lease: float = 180.0
    send_timeout: float = 90.0
    # How long an in-flight send may finish after cancellation (the daemon must exit within 10 s).
    grace: float = 5.0

    def backoff(self, attempts: int) -> float:
        """The wait after the ``attempts``-th failed send: ``base`` doubling up to ``cap``, 80–100 %."""
        return Backoff(self.base, self.cap, jitter=(0.8, 1.0)).delay(attempts - 1)


@dataclass(frozen=True)
class Message:
    """One notification for one channel, renderable for each target's format and length limit."""

    kind: Literal["alert", "digest"]
    ref: str
    title: str
    render: Callable[[BodyFormat, int | None], str]


async def enqueue(conn: Connection, channel: Channel, message: Message, now: datetime) -> int:
    """Queue ``message`` for every target of ``channel`` inside the caller's transaction."""
    added = 0
    stamp = now.timestamp()
    policy = RetryPolicy()
    for target in channel.targets:
        body = message.render(target.body_format, target.limit)
        text_body = message.render("text", target.limit) if target.is_email else None
        cursor = await conn.execute(
            "INSERT INTO notify_outbox (channel, target, target_label, kind, ref, title, body, body_format, "
            "text_body, next_attempt_at, give_up_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (channel, ref, target) DO NOTHING",
            (
                channel.name, target.key, target.label, message.kind, message.ref, message.title, body,
                target.body_format, text_body, stamp, stamp + policy.give_up_after, iso_utc(now),
            ),
        )  # fmt: skip
        added += max(cursor.rowcount, 0)
    return added


@dataclass(frozen=True)
class _Row:
    id: int
    channel: str
    target: str
    kind: str
    ref: str
    title: str
    body: str
    body_format: BodyFormat
    text_body: str | None
    attempts: int
    give_up_at: float

    @classmethod
    def from_row(cls, row: Row) -> _Row:
        return cls(*(row[name] for name in cls.__dataclass_fields__))


@dataclass
class _Outcome:
    ok: bool
    error: str = ""
    retry_after: float | None = None


def _describe(result: Any, seen: hooks.Observation) -> str:
    parts = []
    if seen.last_status is not None and seen.last_status >= 300:
        parts.append(f"HTTP {seen.last_status}")
    if isinstance(result, BaseException):
        parts.append(f"{type(result).__name__}: {result}")
    else:
        status = getattr(getattr(result, "status", None), "name", None)
        messages = [
            entry.message
            for service in result
            for attempt in service
            for entry in attempt
            if getattr(entry, "level", "") in ("WARNING", "ERROR", "CRITICAL")
        ]
        if messages:
            parts.append(messages[-1])
        elif status:
            parts.append(f"apprise status {status}")
    return mask_secrets("; ".join(parts) or "failed")[:500]


async def send_once(
    target: Target, title: str, render: Callable[[BodyFormat], str], *, limit: float
) -> tuple[bool, str]:
    """One message to one target now, outside the queue (``watcher notify test``): was it delivered,
    and if not, why (masked). The body is rendered for the target's format, an e-mail with our own
    text part, as the outbox sends; ``limit`` is apprise's time limit for the send, in seconds."""
    body = render(target.body_format)
    text_body = render("text") if target.is_email else None
    with hooks.observing(email_html=body if target.is_email else None, email_text=text_body) as seen:
        sending = asyncio.ensure_future(  # made here: the send's context holds the observation
            target.apprise.async_notify(
                body=body,
                title=title,
                body_format=_FORMATS[target.body_format],
                timeout=limit,
                log_level=logging.WARNING,
            )
        )
    try:
        result: Any = await sending
    except Exception as exc:  # plugin code: any failure is the target's, reported, not raised
        result = exc
    ok = not isinstance(result, BaseException) and bool(result)
    error = "" if ok else _describe(result, seen)
    if not isinstance(result, BaseException):
        with contextlib.suppress(Exception):
            result.close()
    return ok, error


class Outbox:
    """Sends due outbox rows; one task per target, all targets concurrently."""

    def __init__(
        self,
        db: Store,
        channels: Sequence[Channel],
        *,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.channels = {channel.name: channel for channel in channels}
        self.clock = clock or (lambda: datetime.now(UTC))
        self.policy = policy or RetryPolicy()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self._last_send: dict[str, float] = {}
        self.wake = asyncio.Event()

    def _now(self) -> float:
        return self.clock().timestamp()

    async def _due_targets(self, names: Iterable[str] | None = None) -> list[tuple[str, str]]:
        sql = "SELECT DISTINCT channel, target FROM notify_outbox WHERE state = 'pending' AND next_attempt_at <= ?"
        params: list[Any] = [self._now()]
        if names is not None:
            wanted = list(names)
            sql += f" AND channel IN ({','.join('?' * len(wanted))})"
            params += wanted
        rows = await self.db.fetchall(sql + " ORDER BY channel, target", params)
        due: list[tuple[str, str]] = []
        for row in rows:
            channel = self.channels.get(row["channel"])
            if channel is not None and channel.target(row["target"]) is not None:
                due.append((row["channel"], row["target"]))
            elif channel is None or channel.complete:
                await self._drop(row["channel"], row["target"])
            # else: the channel's URLs did not all load (a problem reported at start); keep the rows
        return due

    async def _drop(self, channel: str, target: str) -> None:
        """Rows for a channel or URL no longer configured: kept for the record, never sent."""
        count = await self.db.write(
            "UPDATE notify_outbox SET state = 'dropped', last_error = 'channel or URL no longer configured' "
            "WHERE channel = ? AND target = ? AND state = 'pending'",
            (channel, target),
        )
        if count:
            log.warning(
                "notify %s: dropped %d unsent message(s) for a URL no longer configured", channel, count
            )

    async def deliver_due(self, names: Iterable[str] | None = None) -> int:
        """One pass over every due row (of the named channels); returns how many were sent."""
        due = await self._due_targets(names)
        sent = await asyncio.gather(*(self.drain(channel, target) for channel, target in due))
        return sum(sent)

    async def run(self) -> None:
        """Forever: keep a drain task per target with due rows; wake on :attr:`wake` or the next due time."""
        workers: dict[tuple[str, str], asyncio.Task[int]] = {}
        try:
            while True:
                self.wake.clear()  # before looking, so a wake-up during the look is not lost
                for key in await self._due_targets():
                    if key not in workers or workers[key].done():
                        task = asyncio.create_task(self.drain(*key), name=f"notify-{key[0]}")
                        task.add_done_callback(lambda _t: self.wake.set())
                        workers[key] = task
                for key, task in list(workers.items()):
                    if task.done():
                        del workers[key]
                        if not task.cancelled() and task.exception() is not None:
                            log.error("notify %s: sender failed", key[0], exc_info=task.exception())
                busy = [k for k in workers]
                timeout = await self._seconds_to_next_due(busy)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=timeout)
        finally:
            for task in workers.values():
                task.cancel()
            if workers:
                await asyncio.gather(*workers.values(), return_exceptions=True)

    async def _seconds_to_next_due(self, busy: Sequence[tuple[str, str]]) -> float:
        rows = await self.db.fetchall(
            "SELECT channel, target, min(next_attempt_at) AS due FROM notify_outbox "
            "WHERE state = 'pending' GROUP BY channel, target"
        )
        dues = [row["due"] for row in rows if (row["channel"], row["target"]) not in busy]
        if not dues:
            return 60.0
        return min(60.0, max(0.05, float(min(dues)) - self._now()))

    async def drain(self, channel_name: str, target_key: str) -> int:
        """Send this target's due rows in order until none is due or one fails; returns how many went."""
        channel = self.channels[channel_name]
        target = channel.target(target_key)
        assert target is not None
        sent = 0
        while True:
            row = await self._claim_next(channel_name, target_key)
            if row is None:
                return sent
            if not await self._send(channel, target, row):
                return sent
            sent += 1

    async def _claim_next(self, channel: str, target: str) -> _Row | None:
        wall = time.time()
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT * FROM notify_outbox WHERE channel = ? AND target = ? AND state = 'pending' "
                "AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) "
                # One send in flight per target, whichever process sends: order and rate limits hold.
                "AND NOT EXISTS (SELECT 1 FROM notify_outbox AS busy WHERE busy.channel = ? AND busy.target = ? "
                "AND busy.state = 'pending' AND busy.lease_until >= ?) "
                "ORDER BY id LIMIT 1",
                (channel, target, self._now(), wall, channel, target, wall),
            )
            found = await cursor.fetchone()
            if found is None:
                return None
            await conn.execute(
                "UPDATE notify_outbox SET lease_owner = ?, lease_until = ? WHERE id = ?",
                (self.owner, wall + self.policy.lease, found["id"]),
            )
            return _Row.from_row(found)

    async def _pace(self, target: Target) -> None:
        """Wait out the service's minimum interval here, not in apprise's worker thread."""
        last = self._last_send.get(target.key)
        if last is not None and target.rate_seconds > 0:
            remaining = target.rate_seconds - (time.monotonic() - last)
            if remaining > 0:
                await asyncio.sleep(remaining)

    async def _send(self, channel: Channel, target: Target, row: _Row) -> bool:
        await self._pace(target)
        email_html = row.body if row.text_body is not None else None
        with hooks.observing(email_html=email_html, email_text=row.text_body) as seen:
            sending = asyncio.ensure_future(
                target.apprise.async_notify(
                    body=row.body,
                    title=row.title,
                    body_format=_FORMATS[row.body_format],
                    timeout=self.policy.send_timeout,
                    log_level=logging.WARNING,
                )
            )
        try:
            result: Any = await asyncio.shield(sending)
        except asyncio.CancelledError:
            # Shutting down: let an in-flight send finish for a bounded time and record it.
            try:
                result = await asyncio.wait_for(sending, self.policy.grace)
            except BaseException:
                log.warning("notify %s: a send to %s was cut short by shutdown", channel.name, target.label)
                raise asyncio.CancelledError from None
            await asyncio.shield(self._record(channel, target, row, self._outcome(result, seen)))
            raise
        except Exception as exc:
            result = exc
        finally:
            self._last_send[target.key] = time.monotonic()
        outcome = self._outcome(result, seen)
        await asyncio.shield(self._record(channel, target, row, outcome))
        return outcome.ok

    def _outcome(self, result: Any, seen: hooks.Observation) -> _Outcome:
        ok = not isinstance(result, BaseException) and bool(result)
        if ok:
            outcome = _Outcome(True)
        else:
            outcome = _Outcome(
                False, _describe(result, seen), parse_retry_after(seen.retry_after, time.time())
            )
        if not isinstance(result, BaseException):
            with contextlib.suppress(Exception):
                result.close()
        return outcome

    async def _record(self, channel: Channel, target: Target, row: _Row, outcome: _Outcome) -> None:
        now = self.clock()
        attempts = row.attempts + 1
        if outcome.ok:
            await self.db.write(
                "UPDATE notify_outbox SET state = 'sent', sent_at = ?, attempts = ?, last_error = NULL, "
                "lease_owner = NULL, lease_until = NULL WHERE id = ?",
                (iso_utc(now), attempts, row.id),
            )
            log.info("notify %s: %s %s sent to %s", channel.name, row.kind, row.ref, target.label)
            return
        if outcome.retry_after is not None:
            delay = max(1.0, min(outcome.retry_after, self.policy.retry_after_cap))
        else:
            delay = self.policy.backoff(attempts)
        give_up = now.timestamp() >= row.give_up_at and attempts >= self.policy.min_attempts
        await self.db.write(
            "UPDATE notify_outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, "
            "lease_owner = NULL, lease_until = NULL WHERE id = ?",
            ("failed" if give_up else "pending", attempts, now.timestamp() + delay, outcome.error, row.id),
        )
        if give_up:
            log.error(
                "notify %s: gave up on %s %s to %s after %d attempts: %s",
                channel.name, row.kind, row.ref, target.label, attempts, outcome.error,
            )  # fmt: skip
        else:
            log.warning(
                "notify %s: sending %s %s to %s failed (attempt %d: %s); retrying in %.0f s",
                channel.name, row.kind, row.ref, target.label, attempts, outcome.error, delay,
            )  # fmt: skip
