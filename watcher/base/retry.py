"""Retrying, as every part of the watcher does it: capped exponential backoff with jitter, the
restart-with-backoff supervisor of the long-running parts, and the ``Retry-After`` header as every
HTTP peer of the watcher sends it (stream, API, webhooks)."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random as _random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = [
    "EQUAL_JITTER",
    "FULL_JITTER",
    "NO_JITTER",
    "RETRY_AFTER_CAP",
    "Backoff",
    "parse_retry_after",
    "supervise",
]

# A broken proxy asking for hours must not wedge the daemon: past this, back off normally.
RETRY_AFTER_CAP = 900.0

# Jitter styles: each delay is the exponential one times a factor drawn uniformly from this range.
NO_JITTER = (1.0, 1.0)
FULL_JITTER = (0.0, 1.0)  # anywhere from nothing to the whole delay (AWS "full jitter")
EQUAL_JITTER = (0.5, 1.0)  # half fixed, half random

# 2**64 times any sensible initial delay is past any cap; it also keeps factor**attempt finite.
_MAX_EXPONENT = 64


@dataclass
class Backoff:
    """Capped exponential backoff: ``initial * factor**attempt``, at most ``cap``, times a jitter factor.

    ``jitter`` is the range of that factor (:data:`NO_JITTER`, :data:`FULL_JITTER`, :data:`EQUAL_JITTER`
    or any ``(low, high)``); ``random`` (a float in [0, 1)) can be injected so tests see fixed delays.
    :meth:`next_delay` counts attempts, :meth:`reset` starts over; :meth:`delay` is the stateless form
    for callers that keep the attempt count themselves (in a database row, say).
    """

    initial: float = 1.0
    cap: float = 300.0
    factor: float = 2.0
    jitter: tuple[float, float] = NO_JITTER
    random: Callable[[], float] = _random.random
    attempt: int = field(default=0, init=False)

    def base(self, attempt: int) -> float:
        """The delay of attempt ``attempt`` (0 for the first) before jitter."""
        return min(self.cap, self.initial * self.factor ** min(max(attempt, 0), _MAX_EXPONENT))

    def delay(self, attempt: int) -> float:
        """The delay of attempt ``attempt`` (0 for the first), jittered."""
        low, high = self.jitter
        base = self.base(attempt)
        if low == high:
            return base * low
        return base * (low + (high - low) * self.random())

    @property
    def current(self) -> float:
        """What :meth:`next_delay` is about to return, before jitter (for messages)."""
        return self.base(self.attempt)

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        delay = self.delay(self.attempt)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """After a success: the next failure waits ``initial`` again."""
        self.attempt = 0


async def supervise(
    name: str,
    body: Callable[[], Awaitable[None]],
    *,
    log: logging.Logger,
    backoff: Backoff | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    message: str = "%s failed; restarting it in %.0f s",
) -> None:
    """Run one long-running part; restart it after an unexpected error instead of dying.

    Returns when ``body`` returns; cancellation goes through. Each error is logged with its traceback
    as ``message % (name, delay)``; the delays come from ``backoff`` (1 s doubling to 5 min by default).
    """
    backoff = backoff or Backoff(1.0, 300.0)
    while True:
        try:
            await body()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            delay = backoff.next_delay()
            log.exception(message, name, delay)
            await sleep(delay)


def parse_retry_after(
    value: str | None, now: datetime | float | None = None, *, cap: float = RETRY_AFTER_CAP
) -> float | None:
    """Seconds to wait: delta-seconds or an HTTP date (``now`` as a datetime or epoch seconds); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if now is None:
            now = datetime.now(UTC)
        reference = now.timestamp() if isinstance(now, datetime) else now
        seconds = when.timestamp() - reference
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)
