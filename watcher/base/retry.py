"""The ``Retry-After`` header, as every HTTP peer of the watcher sends it (stream, API, webhooks)."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

# A broken proxy asking for hours must not wedge the daemon: past this, back off normally.
RETRY_AFTER_CAP = 900.0


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
