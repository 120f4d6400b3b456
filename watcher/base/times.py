"""Reading the ISO 8601 times the watcher stores and receives (one parser for every stage)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_utc(value: str | None) -> datetime | None:
    """An ISO 8601 time (``…Z`` or with an offset; naive means UTC) as an aware datetime; None where
    it is missing or not a time."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
