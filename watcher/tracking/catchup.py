"""Catch-up beyond the stream's memory, through the Action API's recent changes.

EventStreams keeps about 7 days; a stored position older than that cannot be resumed (the server
silently skips ahead). Commons' ``list=recentchanges`` keeps 30 days, so the gap is read from there,
converted to the stream's event shape, and fed through the same ingest stage. Every event is keyed by
the wiki's rcid, which is the same on the stream and in the API, so when the stream takes over (from
``since`` = the end of the catch-up less a margin) the overlap at the seam is recognised and dropped:
no gap, no duplicate. For a gap longer than 30 days the daemon first runs history mode over the part
that recentchanges no longer keeps (see ``Daemon._catch_up_if_needed``).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from watcher.mediawiki.client import ActionApi
from watcher.store import iso_utc
from watcher.stream.client import EventBatch, StreamEvent
from watcher.tracking.ingest import Ingest
from watcher.tracking.resolver import TrackedSet, canonical_title

log = logging.getLogger("watcher.catchup")

RECENT_CHANGES_KEEP = timedelta(days=30)
BATCH = 500


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def needs_catch_up(last_event_time: str | None, now: datetime, retention: timedelta) -> bool:
    """Whether the stored position is older than the stream keeps (an hour's safety margin)."""
    if not last_event_time:
        return False
    try:
        return now - parse_time(last_event_time) > retention - timedelta(hours=1)
    except ValueError:
        return False


def rc_row_to_event(row: dict[str, Any], wiki: str) -> dict[str, Any]:
    """A ``list=recentchanges`` row (formatversion=2) in the shape of a stream ``recentchange`` event."""
    stamp = parse_time(str(row.get("timestamp", "1970-01-01T00:00:00Z")))
    event: dict[str, Any] = {
        "id": row.get("rcid"),
        "type": row.get("type"),
        "namespace": row.get("ns"),
        "title": row.get("title"),
        "comment": row.get("comment", ""),
        "timestamp": int(stamp.timestamp()),
        "user": row.get("user"),
        "bot": bool(row.get("bot", False)),
        "minor": bool(row.get("minor", False)),
        "wiki": wiki,
        "meta": {"dt": iso_utc(stamp), "domain": "api-catch-up"},
    }
    if row.get("type") in ("edit", "new"):
        revision: dict[str, int] = {"new": int(row.get("revid") or 0)}
        if row.get("type") == "edit" and row.get("old_revid"):
            revision["old"] = int(row["old_revid"])
        event["revision"] = revision
        event["length"] = {"old": row.get("oldlen"), "new": row.get("newlen")}
    elif row.get("type") == "log":
        event["log_id"] = row.get("logid")
        event["log_type"] = row.get("logtype")
        event["log_action"] = row.get("logaction")
        params = row.get("logparams")
        if row.get("logtype") == "move" and isinstance(params, dict):
            params = {
                "target": params.get("target_title", ""),
                "noredir": "1" if params.get("suppressredirect") else "0",
            }
        event["log_params"] = params if params else []
    return event


def concerns_us(row: dict[str, Any], tracked: TrackedSet) -> bool:
    """The prefilter of the catch-up path: only rows about tracked titles or tracked uploaders."""
    title = row.get("title")
    if not isinstance(title, str):
        return False
    if tracked.has_file(title) or tracked.has_category(title):
        return True
    user = row.get("user")
    return (
        row.get("logtype") == "upload"
        and isinstance(user, str)
        and tracked.has_uploader(canonical_title(user))
    )


@dataclass
class CatchUpReport:
    start: str
    end: str
    rows: int = 0
    matched: int = 0
    seconds: float = 0.0


async def catch_up(
    api: ActionApi, ingest: Ingest, tracked: TrackedSet, wiki: str, start: datetime, end: datetime
) -> CatchUpReport:
    """Feed the wiki's recent changes between start and end through ingest; the position advances as it goes."""
    report = CatchUpReport(iso_utc(start), iso_utc(end))
    started = time.monotonic()
    meter = _Meter(start, end)
    batch: list[StreamEvent] = []
    last_time = report.start
    async for row in _rows(api, start, end):
        report.rows += 1
        last_time = str(row.get("timestamp") or last_time)
        if concerns_us(row, tracked):
            report.matched += 1
            batch.append(StreamEvent(id="", data=rc_row_to_event(row, wiki)))
        if report.rows % BATCH == 0:
            await ingest.handle(
                EventBatch(events=batch, last_id=None, last_time=last_time, seen=BATCH, malformed=0)
            )
            batch = []
            meter(last_time, report.rows)
    await ingest.handle(
        EventBatch(events=batch, last_id=None, last_time=report.end, seen=report.rows % BATCH, malformed=0)
    )
    await ingest.flush()
    meter.done(report.rows)
    report.seconds = time.monotonic() - started
    log.info(
        "caught up from %s to %s through the Action API: %d recent changes read, %d concern tracked files (%.1f s)",
        report.start, report.end, report.rows, report.matched, report.seconds,
    )  # fmt: skip
    return report


async def _rows(api: ActionApi, start: datetime, end: datetime) -> AsyncIterator[dict[str, Any]]:
    async for row in api.recent_changes(start=iso_utc(start), end=iso_utc(end), namespace=(6, 14)):
        yield row


class _Meter:
    """A progress bar on a terminal: how far through the gap the catch-up is, and an ETA."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.enabled = sys.stderr.isatty()
        self.began = time.monotonic()

    def __call__(self, position: str, rows: int) -> None:
        if not self.enabled:
            return
        try:
            done = (parse_time(position) - self.start) / max(self.end - self.start, timedelta(seconds=1))
        except ValueError:
            return
        done = min(max(done, 0.0), 1.0)
        elapsed = time.monotonic() - self.began
        eta = elapsed / done - elapsed if done > 0.001 else 0.0
        bar = "#" * int(done * 30)
        sys.stderr.write(f"\rcatching up [{bar:<30}] {done:4.0%} {rows:,} changes, ETA {eta:,.0f} s")
        sys.stderr.flush()

    def done(self, rows: int) -> None:
        if self.enabled:
            sys.stderr.write(f"\rcatching up [{'#' * 30}] 100% {rows:,} changes{' ' * 12}\n")
            sys.stderr.flush()
