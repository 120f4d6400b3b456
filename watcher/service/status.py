"""`watcher status`: the daemon's state read from the database, safe while the daemon runs.

The daemon keeps what only it knows (stream connected, last data, reconnects, API errors, its pid) in
the ``state`` and ``counters`` tables (:func:`persist_live_state` does that every few seconds), so a
separate process can report it without talking to the daemon. Tables added by later migrations (the
notification outbox and digest ledger) are queried defensively: absent → None, never an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from watcher.base.text import one_line, plural
from watcher.base.times import parse_utc
from watcher.base.values import STATUSES
from watcher.config import DEFAULT_COLLECTION, Config
from watcher.export.overview import build_overview
from watcher.export.push import webhook_status
from watcher.mediawiki.types import ApiStats
from watcher.service.tracked_status import api_error_line, tracked_lines, tracked_snapshot
from watcher.store import queue as store_queue
from watcher.store import state as store_state
from watcher.store import tracked as store_tracked
from watcher.store.db import iso_utc
from watcher.store.engine import STATEMENT_ERRORS, Store
from watcher.store.open import location_text
from watcher.store.pg import PgDatabase
from watcher.stream.client import StreamStats

log = logging.getLogger("watcher.status")

# Keys of the `state` table the daemon writes (see persist_live_state and the daemon's wiring).
STATE_PID = "daemon_pid"
STATE_STARTED = "daemon_started_at"
STATE_STREAM_CONNECTED = "stream_connected"
STATE_STREAM_LAST_DATA = "stream_last_data_at"
# Names in the `counters` table, besides the ingest's events_* and the worker's changes_queued.
COUNTER_RECONNECTS = "stream_reconnects"
COUNTER_API_ERRORS = "api_errors"
# The text and time of the latest Action API error any of the daemon's clients met (not only a count).
STATE_API_LAST_ERROR = "api_last_error"
STATE_API_LAST_ERROR_AT = "api_last_error_at"

PERSIST_SECONDS = 5.0


def _seconds_since(value: str | None, now: datetime) -> float | None:
    moment = parse_utc(value)
    return None if moment is None else round(max(0.0, (now - moment).total_seconds()), 1)


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (it may belong to another user: the DynamicUser)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


async def _tables(db: Store) -> dict[str, set[str]]:
    """Every table with its columns, to query tables of later migrations only where they exist."""
    return {name: set(columns) for name, columns in (await db.table_columns()).items()}


OUTBOX = "notify_outbox"  # watcher/store/notify_tables.py (migration 2)
DIGESTS = "notify_digests"
OUTBOX_STATES = ("pending", "sent", "failed", "dropped")


async def _notify_snapshot(db: Store, tables: dict[str, set[str]]) -> dict[str, Any]:
    """Outbox and digest figures from the notification tables; None where a table or column is missing.

    ``outbox_by_channel`` counts messages per channel and state (sent, failed = given up, pending,
    dropped); ``last_digest_at`` is when the latest digest message was delivered, and
    ``last_digest_period`` the latest period composed (channel:date).
    """
    out: dict[str, Any] = {
        "outbox_pending": None,
        "outbox_failed": None,
        "notifications_sent": None,
        "outbox_by_channel": None,
        "last_digest_at": None,
        "last_digest_period": None,
    }
    outbox_columns = tables.get(OUTBOX, set())
    try:
        if {"channel", "state"} <= outbox_columns:
            by_channel: dict[str, dict[str, int]] = {}
            totals = dict.fromkeys(OUTBOX_STATES, 0)
            for row in await db.fetchall(
                f"SELECT channel, state, count(*) FROM {OUTBOX} GROUP BY channel, state"
            ):
                channel, state, count = str(row[0]), str(row[1]), int(row[2])
                by_channel.setdefault(channel, dict.fromkeys(OUTBOX_STATES, 0))[state] = count
                totals[state] = totals.get(state, 0) + count
            out["outbox_by_channel"] = by_channel
            out["outbox_pending"] = totals["pending"]
            out["outbox_failed"] = totals["failed"]
            out["notifications_sent"] = totals["sent"]
        if {"kind", "state", "sent_at"} <= outbox_columns:
            out["last_digest_at"] = await db.scalar(
                f"SELECT max(sent_at) FROM {OUTBOX} WHERE kind = 'digest' AND state = 'sent'"
            )
        if {"channel", "period", "created_at"} <= tables.get(DIGESTS, set()):
            latest = await db.fetchone(
                f"SELECT channel, period FROM {DIGESTS} ORDER BY created_at DESC, period DESC LIMIT 1"
            )
            if latest is not None:
                out["last_digest_period"] = f"{latest[0]}:{latest[1]}"
    except STATEMENT_ERRORS as exc:
        log.debug("notification tables unreadable: %s", exc)
    return out


async def _inbox_snapshot(db: Store, now: datetime) -> dict[str, Any]:
    """The fetch worker's inbox (``inbox_pending`` is ``pending`` + ``retrying``).

    ``pending``: not tried yet; ``retrying``: failed, tried again with backoff; ``failed``: set
    aside (`watcher retry` puts them back); ``stuck``: retrying, received over
    ``stuck_after_seconds`` ago; ``oldest_retrying``: the longest-failing item and its last error.
    """
    summary = await store_state.inbox_summary(db, now=now)
    oldest = summary.oldest_retrying
    return {
        "pending": summary.pending,
        "retrying": summary.retrying,
        "failed": summary.failed,
        "stuck": summary.stuck,
        "stuck_after_seconds": store_state.STUCK_AFTER.total_seconds(),
        "oldest_retrying": None
        if oldest is None
        else {
            "id": oldest.id,
            "file": oldest.title,
            "kind": oldest.kind,
            "revision": oldest.revision,
            "received_at": oldest.received_at,
            "age_seconds": _seconds_since(oldest.received_at, now),
            "attempts": oldest.attempts,
            "last_error": oldest.last_error,
            "next_attempt_at": oldest.next_attempt_at,
        },
    }


def _inbox_problems(inbox: dict[str, Any]) -> list[tuple[str, str]]:
    """What an operator must know about the inbox, as (label, line); none when nothing is stuck."""
    problems: list[tuple[str, str]] = []
    days = _duration(inbox.get("give_up_after_seconds"))
    oldest = inbox.get("oldest_retrying")
    if inbox.get("stuck") and oldest:
        revision = f" r{oldest['revision']}" if oldest.get("revision") else ""
        problems.append(
            (
                "stuck",
                f"{_n(inbox['stuck'])} item(s) failing for over {_duration(inbox.get('stuck_after_seconds'))}, "
                f"retried until {days} old; the oldest, {one_line(str(oldest['file']))}{revision} "
                f"(inbox item {oldest['id']}), for {_duration(oldest.get('age_seconds'))}, "
                f"{_n(oldest.get('attempts'))} attempt(s): {one_line(str(oldest.get('last_error')))}",
            )
        )
    if inbox.get("failed"):
        problems.append(
            (
                "set aside",
                f"{_n(inbox['failed'])} item(s) failed past {days} or by an internal error: nothing "
                "retries them until `watcher retry --all` (or `watcher retry ID…`; the list: `watcher retry`)",
            )
        )
    return problems


async def database_snapshot(db: Store, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything `watcher status` and /metrics report that lives in the database."""
    now = now or datetime.now(UTC)
    tables = await _tables(db)
    counters = await store_state.get_counters(db)
    states = {str(row[0]): row[1] for row in await db.fetchall("SELECT key, value FROM state")}
    files = await store_tracked.count_files(db)
    last_event_time = states.get(store_state.CURSOR_TIME)
    connected = states.get(STATE_STREAM_CONNECTED)
    snapshot: dict[str, Any] = {
        "events_seen": counters.get("events_seen", 0),
        "events_matched": counters.get("events_matched", 0),
        "events_malformed": counters.get("events_malformed", 0),
        "events_duplicate": counters.get("events_duplicate", 0),
        "changes_queued": counters.get("changes_queued", 0),
        "last_event_id": states.get(store_state.CURSOR_ID),
        "last_event_time": last_event_time,
        "stream_lag_seconds": _seconds_since(last_event_time, now),
        "stream_connected": None if connected is None else connected == "1",
        "stream_last_data_at": states.get(STATE_STREAM_LAST_DATA),
        "stream_reconnects": counters.get(COUNTER_RECONNECTS, 0),
        "api_errors": counters.get(COUNTER_API_ERRORS, 0),
        "api_last_error": states.get(STATE_API_LAST_ERROR),
        "api_last_error_at": states.get(STATE_API_LAST_ERROR_AT),
        "tracked_files": files["active"],
        "tracked_files_deleted": files["deleted"],
        "tracked_categories": len(await store_tracked.categories(db)),
        "queue": await store_queue.queue_counts(db),
        "inbox_pending": await store_state.pending_count(db),
        "inbox_failed": int(await db.scalar("SELECT count(*) FROM inbox WHERE state = 'failed'")),
        "inbox": await _inbox_snapshot(db, now),
        "daemon_pid": int(states[STATE_PID]) if str(states.get(STATE_PID) or "").isdigit() else None,
        "daemon_started_at": states.get(STATE_STARTED) or None,
    }
    snapshot.update(await _notify_snapshot(db, tables))
    return snapshot


async def queue_by_collection(
    db: Store, config: Config, collections: Sequence[str] | None = None
) -> dict[str, dict[str, int]]:
    """Each collection's changes by status, in config order (``collections``: only those); without a
    selection also a collection the queue still has and the config no more."""
    counts: dict[str, dict[str, int]] = {
        name: dict.fromkeys(STATUSES, 0) for name in collections or config.collection_names
    }
    for row in await db.fetchall(
        "SELECT collection, status, count(*) FROM changes GROUP BY collection, status"
    ):
        name = str(row[0])
        if collections is None or name in counts:
            counts.setdefault(name, dict.fromkeys(STATUSES, 0))[str(row[1])] = int(row[2])
    return counts


async def collect_status(
    db: Store,
    config: Config,
    *,
    now: datetime | None = None,
    is_alive: Callable[[int], bool] = process_alive,
    collections: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The JSON of `watcher status --format json`: the contract's keys and the service's health;
    ``queue_by_collection`` of ``collections`` (`--collection`; None: every one)."""
    now = now or datetime.now(UTC)
    status = await database_snapshot(db, now=now)
    status["queue_by_collection"] = await queue_by_collection(db, config, collections)
    status["this_month"] = await _month_snapshot(db, config, collections, now)
    pid = status["daemon_pid"]
    if isinstance(db, PgDatabase):
        # A shared store: the pid is some node's, on some machine; the leader's lock tells.
        running = await db.leader_present()
    else:
        running = bool(pid) and is_alive(pid)
    status["daemon_running"] = running
    if not running:
        # Whatever the daemon last wrote about its stream is stale once it is gone.
        status["stream_connected"] = False if status["stream_connected"] is not None else None
    status["stream_silent_seconds"] = _seconds_since(status["stream_last_data_at"], now)
    status["stream_read_timeout"] = config.stream.read_timeout
    status["inbox"]["give_up_after_seconds"] = config.stream.retention_days * 86400
    status["inbox"]["problem"] = "; ".join(text for _, text in _inbox_problems(status["inbox"])) or None
    status["history"] = await _history_snapshot(db)
    status["tracked_summary"] = await tracked_snapshot(db, config)
    status["webhook"] = await _webhook_snapshot(db, config)
    status["database"] = location_text(config.store_location)
    status["schema_version"] = await db.user_version()
    status["checked_at"] = iso_utc(now)
    return status


async def _month_snapshot(
    db: Store, config: Config, collections: Sequence[str] | None, now: datetime
) -> dict[str, Any] | None:
    """Each collection's month as the agency's overview shows it (without the weekly bars); None if
    the database cannot say."""
    try:
        overview = await build_overview(db, config, collections or config.collection_names, now=now)
    except STATEMENT_ERRORS as exc:
        log.debug("the month's figures are unreadable: %s", exc)
        return None
    return {
        "month": overview.month.key,
        "collections": [
            {key: value for key, value in c.as_json().items() if key != "weeks"} for c in overview.collections
        ],
    }


def _month_lines(month: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A line per collection: its month so far, in the overview's words."""
    if not month:
        return []
    label = parse_utc(f"{month['month']}-01T00:00:00Z")
    heading = f"{label:%B}" if label else "this month"
    lines = []
    for c in month["collections"]:
        busiest = c["busiest"][0] if c["busiest"] else None
        text = (
            f"{plural(c['changes'], 'change', thousands=' ')}, {_n(c['accepted'])} accepted, "
            f"{_n(c['rejected'])} rejected, {_n(c['withdrawn'])} withdrawn; "
            f"last export {_optional(c['last_export'])}"
            + (f"; busiest {busiest['file']} ({_n(busiest['changes'])})" if busiest else "")
        )
        lines.append((heading, text if len(month["collections"]) == 1 else f"{c['name']}: {text}"))
    return lines


async def _history_snapshot(db: Store) -> dict[str, Any] | None:
    """The latest `watcher history` run: whether it finished, and where an unfinished one stands."""
    try:
        row = await db.fetchone(
            "SELECT id, state, phase, requests, started_at, finished_at FROM history_runs ORDER BY id DESC LIMIT 1"
        )
    except STATEMENT_ERRORS:
        return None
    if row is None:
        return None
    return {k: row[k] for k in ("id", "state", "phase", "requests", "started_at", "finished_at")}


async def _webhook_snapshot(db: Store, config: Config) -> dict[str, Any] | None:
    """Push on accept (watcher.export.push): how far the receiver has been told; None if unreadable."""
    try:
        return await webhook_status(db, config)
    except STATEMENT_ERRORS as exc:
        log.debug("webhook state unreadable: %s", exc)
        return None


def _webhook_line(webhook: dict[str, Any]) -> str:
    text = (
        f"delivered up to review event {webhook['pushed_up_to']}, {_n(webhook.get('backlog'))} waiting; "
        f"last success {_optional(webhook.get('last_success_at'))}"
    )
    if webhook.get("last_error"):
        what = "refused (fix the receiver; retried, nothing skipped)" if webhook.get("refused") else "failing"
        text += f"; {what}: {plural(webhook.get('failed_attempts') or 0, 'failed attempt', thousands=' ')}, the latest at "
        text += f"{_optional(webhook.get('last_error_at'))}: {webhook['last_error']}"
    return text


def _n(value: Any) -> str:
    """A count with spaces between thousands (1 234 567), as Swedish and SI style both read it."""
    return f"{int(value or 0):,}".replace(",", " ")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = int(seconds)
    if whole < 120:
        return f"{whole} s"
    if whole < 7200:
        return f"{whole // 60} min"
    if whole < 172800:
        return f"{whole // 3600} h {whole % 3600 // 60} min"
    return f"{whole // 86400} days"


def _optional(value: Any) -> str:
    return "—" if value is None else str(value)


def _daemon_line(status: dict[str, Any]) -> str:
    started = _optional(status.get("daemon_started_at"))
    if status.get("daemon_running"):
        return f"running (pid {status['daemon_pid']}), started {started}"
    if status.get("daemon_pid"):
        return f"not running (pid {status['daemon_pid']} is gone: it did not stop cleanly), started {started}"
    return "not running"


def _stream_line(status: dict[str, Any]) -> str:
    connected = status.get("stream_connected")
    if connected:
        text = "connected"
        if status.get("stream_silent_seconds") is not None:
            text += f", last data {_duration(status['stream_silent_seconds'])} ago"
    elif connected is None:
        text = "unknown (no daemon has reported yet)"
    else:
        text = "disconnected"
    return f"{text}; reconnects: {_n(status.get('stream_reconnects'))}"


def _fetch_work_line(status: dict[str, Any]) -> str:
    retrying = (status.get("inbox") or {}).get("retrying")
    again = f" ({_n(retrying)} retrying after failures)" if retrying else ""
    return (
        f"{_n(status.get('inbox_pending'))} pending{again}, {_n(status.get('inbox_failed'))} failed; "
        f"API errors: {_n(status.get('api_errors'))}"
    )


def _collection_lines(by_collection: dict[str, dict[str, int]]) -> list[tuple[str, str]]:
    """A line per collection, unless the only one is the `[tracking]` form's (the changes line says it)."""
    if list(by_collection) == [DEFAULT_COLLECTION]:
        return []
    return [
        ("collection", f"{name}: " + ", ".join(f"{_n(count)} {state}" for state, count in counts.items()))
        for name, counts in by_collection.items()
    ]


def render_status_text(status: dict[str, Any]) -> str:
    """The human `watcher status`: one aligned line per concern, in words a sysadmin can act on."""
    last_time = status.get("last_event_time")
    queue = status.get("queue") or {}
    lines: list[tuple[str, str]] = [
        ("daemon", _daemon_line(status)),
        ("stream", _stream_line(status)),
        (
            "last event",
            f"{last_time} ({_duration(status.get('stream_lag_seconds'))} ago)" if last_time else "none yet",
        ),
        ("last event id", _optional(status.get("last_event_id"))),
        (
            "events",
            f"{_n(status.get('events_seen'))} seen, {_n(status.get('events_matched'))} matched, "
            f"{_n(status.get('events_malformed'))} malformed, {_n(status.get('events_duplicate'))} repeated",
        ),
        (
            "tracked",
            f"{plural(status.get('tracked_files') or 0, 'file', thousands=' ')} "
            f"({_n(status.get('tracked_files_deleted'))} deleted), "
            f"{plural(status.get('tracked_categories') or 0, 'category', 'categories', thousands=' ')}",
        ),
        *tracked_lines(status.get("tracked_summary")),
        (
            "changes",
            f"{_n(status.get('changes_queued'))} queued in all; "
            + ", ".join(f"{_n(count)} {name}" for name, count in queue.items()),
        ),
        *_collection_lines(status.get("queue_by_collection") or {}),
        *_month_lines(status.get("this_month")),
        ("fetch work", _fetch_work_line(status)),
        *filter(None, [api_error_line(status)]),
    ]
    lines += _inbox_problems(status.get("inbox") or {})
    if status.get("outbox_pending") is not None or status.get("last_digest_at") is not None:
        lines.append(
            (
                "notifications",
                f"{_optional(status.get('outbox_pending'))} pending, {_optional(status.get('outbox_failed'))} "
                f"failed; last digest {_optional(status.get('last_digest_at'))}",
            )
        )
    history = status.get("history")
    if history:
        if history["state"] == "running":
            text = f"run {history['id']} unfinished (at {history['phase']}, started {history['started_at']}): run `watcher history` again to continue"
        else:
            text = f"run {history['id']} {history['state']} {_optional(history.get('finished_at'))}"
        lines.append(("history", text))
    webhook = status.get("webhook")
    if webhook and webhook.get("configured"):
        lines.append(("webhook", _webhook_line(webhook)))
    lines.append(
        (
            "database",
            f"{_optional(status.get('database'))} (schema {_optional(status.get('schema_version'))})",
        )
    )
    width = max(len(label) for label, _ in lines) + 1
    return "\n".join(f"{label + ':':<{width}} {text}" for label, text in lines)


async def save_daemon_started(db: Store, *, pid: int | None = None, started_at: str | None = None) -> None:
    """Record the running daemon (call once the database is open); clears the last run's stream state."""
    async with db.transaction() as conn:
        await store_state.set_state(conn, STATE_PID, str(pid or os.getpid()))
        await store_state.set_state(conn, STATE_STARTED, started_at or iso_utc(datetime.now(UTC)))
        await store_state.set_state(conn, STATE_STREAM_CONNECTED, "0")


async def save_daemon_stopped(db: Store) -> None:
    """Record a clean stop, so `watcher status` says "not running" rather than guessing from the pid."""
    async with db.transaction() as conn:
        await store_state.set_state(conn, STATE_PID, None)
        await store_state.set_state(conn, STATE_STREAM_CONNECTED, "0")


StreamSource = StreamStats | Callable[[], StreamStats | None] | None


def current_stream(source: StreamSource) -> StreamStats | None:
    """The stream stats now: the daemon makes a new EventStream (and stats) when it restarts the task."""
    if source is None or isinstance(source, StreamStats):
        return source
    return source()


class LiveStatePersister:
    """Copies the stream's and API clients' in-memory stats into `state` and `counters`.

    Counters are stored as increments since the last save, so totals survive restarts of the process
    and of the stream client (whose in-memory stats start again from zero).
    """

    def __init__(
        self,
        db: Store,
        stream: StreamSource,
        apis: Sequence[ApiStats] = (),
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.stream = stream
        self.apis = list(apis)
        self._monotonic = monotonic
        self._wall = wall
        self._saved_stream: StreamStats | None = None
        self._saved_reconnects = 0
        self._saved_errors = [0] * len(self.apis)

    async def save(self) -> None:
        stream = current_stream(self.stream)
        if stream is not self._saved_stream:
            self._saved_reconnects = 0  # a new client counts from zero
        reconnects = stream.reconnects if stream else 0
        errors = [api.errors for api in self.apis]
        # The latest error of a client whose count grew since the last save (the last one listed wins).
        new_error = next(
            (api.last_error for api, then in reversed(list(zip(self.apis, self._saved_errors, strict=True)))
             if api.errors > then and api.last_error),
            None,
        )  # fmt: skip
        last_data: str | None = None
        if stream is not None and stream.last_data_monotonic:
            age = max(0.0, self._monotonic() - stream.last_data_monotonic)
            last_data = iso_utc(datetime.fromtimestamp(self._wall().timestamp() - age, UTC))
        async with self.db.transaction() as conn:
            await store_state.set_state(
                conn, STATE_STREAM_CONNECTED, "1" if stream and stream.connected else "0"
            )
            if last_data is not None:
                await store_state.set_state(conn, STATE_STREAM_LAST_DATA, last_data)
            if new_error is not None:
                await store_state.set_state(conn, STATE_API_LAST_ERROR, new_error)
                await store_state.set_state(conn, STATE_API_LAST_ERROR_AT, iso_utc(self._wall()))
            await store_state.add_counters(
                conn,
                {
                    COUNTER_RECONNECTS: max(0, reconnects - self._saved_reconnects),
                    COUNTER_API_ERRORS: sum(
                        max(0, now - then) for now, then in zip(errors, self._saved_errors, strict=True)
                    ),
                },
            )
        self._saved_stream = stream
        self._saved_reconnects = reconnects
        self._saved_errors = errors

    async def run(self, interval: float = PERSIST_SECONDS) -> None:
        """Save every ``interval`` seconds until cancelled, and once more on the way out."""
        try:
            while True:
                try:
                    await self.save()
                except STATEMENT_ERRORS as exc:
                    log.warning("cannot save the stream state for `watcher status`: %s", exc)
                await asyncio.sleep(interval)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.save())


async def status_line(db: Store, stream: StreamSource = None) -> str:
    """The one line for systemd's STATUS= (shown by `systemctl status watcher`)."""
    counters = await store_state.get_counters(db)
    pending = int(await db.scalar("SELECT count(*) FROM changes WHERE status = 'pending'"))
    stats = current_stream(stream)
    if stats is None:
        state = "starting"
    elif stats.connected:
        state = "following the stream"
    elif not stats.connects:
        state = "connecting to the stream"
    else:
        state = "reconnecting to the stream"
    line = (
        f"{state}; {_n(counters.get('events_seen'))} events seen, {_n(counters.get('events_matched'))} matched, "
        f"{_n(counters.get('changes_queued'))} changes queued, {_n(pending)} pending review"
    )
    stuck = (await store_state.inbox_summary(db)).stuck
    if stuck:
        line += f"; {_n(stuck)} fetch item(s) failing for over {_duration(store_state.STUCK_AFTER.total_seconds())}"
    return line
