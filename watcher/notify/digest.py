"""Daily digests: one per channel and local date, composed exactly once, sent through the outbox.

- **Windows.** A digest covers the changes *queued* (``changes.queued_at``) in ``[window_start,
  window_end)``; ``window_end`` is the fire instant and the next window starts where the last one
  ended, so every change is in exactly one digest of a channel. Queue time, not edit time, because
  ``watcher history`` queues old edits. A channel's first digest starts at the fire instant before its
  first due one: records older than that are not announced again.
- **Ledger.** ``notify_digests`` gets its row in the same transaction that queues the outbox rows. The
  row makes the period done whatever happens later; the outbox makes the sending at-least-once with at
  most one repeat per target after a crash. A digest that was due while the daemon was down is
  composed when it comes back (or by ``watcher digest --send``): exactly once.
- **Downtime.** After missing several digest times (a week of downtime), the watcher sends **one
  combined catch-up digest** for the latest due period, covering everything since the last digest,
  and says how many digest times it missed. Seven digests arriving at once would bury the one that
  matters; one digest with the whole gap is what a curator reads.
- **Empty periods** send nothing (the ledger still records them) unless the channel sets
  ``send_empty``.
- **History.** When a digest would hold more than ``HISTORY_LIST_MAX`` records from ``watcher
  history`` (``source = 'history'``), those are summarised (counts per field) instead of listed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import aiosqlite

from watcher.base.values import BodyFormat
from watcher.config import Config, NotifyChannel
from watcher.notify.channels import Channel
from watcher.notify.filters import filter_sql
from watcher.notify.outbox import Message, enqueue
from watcher.notify.render import ChangeView, Presenter, count_label, fit, render_template
from watcher.store.db import Database, iso_utc
from watcher.store.queue import ChangeRecord

log = logging.getLogger("watcher.notify")

HISTORY_LIST_MAX = 200
LIST_MAX = 1000  # changes listed one by one; the rest are counted
SCHEDULER_CHUNK = 60.0  # seconds; the wall clock is read again after each sleep


@dataclass(frozen=True)
class FileGroup:
    file: str
    file_url: str
    object_id: str | None
    counts: str
    changes: tuple[ChangeView, ...]
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.changes)


@dataclass(frozen=True)
class HistorySummary:
    total: int
    files: int
    counts: str


@dataclass(frozen=True)
class DigestContent:
    """Everything a digest shows, renderable in each format and cut to a length."""

    title: str
    since: str
    until: str
    total: int
    files: int
    field_counts: str
    groups: tuple[FileGroup, ...]
    listed_total: int  # records eligible for listing (all but summarised history)
    history: HistorySummary | None
    missed: int
    review_url: str | None
    group_count: int  # files with listed changes in the window, shown or not

    def render(self, fmt: BodyFormat, limit: int | None = None) -> str:
        def body(shown: int) -> str:
            groups = self.groups[:shown]
            listed = sum(len(g.changes) + g.hidden for g in groups)
            return render_template(
                "digest", fmt, title=self.title, since=self.since, until=self.until, total=self.total,
                files=self.files, field_counts=self.field_counts, groups=groups,
                more_groups=self.group_count - shown, more_changes=self.listed_total - listed,
                more_url=self.review_url, history=self.history, missed=self.missed,
                review_url=self.review_url,
            )  # fmt: skip

        return fit(body, len(self.groups), limit)


async def _all(conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    cursor = await conn.execute(sql, params)
    rows = await cursor.fetchall()
    await cursor.close()
    return list(rows)


def _label(field_name: str, language: str | None) -> str:
    return f"{field_name} [{language}]" if language else field_name


async def compose(
    conn: aiosqlite.Connection,
    config: Config,
    filters: NotifyChannel,
    presenter: Presenter,
    start: datetime,
    end: datetime,
    *,
    period: date | None = None,
    missed: int = 0,
) -> DigestContent:
    """Read the window's changes (inside the caller's transaction, or a reader's connection)."""
    condition, params = filter_sql(filters)
    where = f"queued_at >= ? AND queued_at < ? AND ({condition})"
    base = [iso_utc(start), iso_utc(end), *params]
    by_source = {
        row[0]: row[1]
        for row in await _all(
            conn, f"SELECT source, count(*) FROM changes WHERE {where} GROUP BY source", base
        )
    }
    total = sum(by_source.values())
    files = int((await _all(conn, f"SELECT count(DISTINCT file) FROM changes WHERE {where}", base))[0][0])
    field_rows = await _all(
        conn,
        f"SELECT field, language, count(*) AS n FROM changes WHERE {where} "
        "GROUP BY field, language ORDER BY n DESC, field, language",
        base,
    )
    history: HistorySummary | None = None
    listed_where = where
    if by_source.get("history", 0) > HISTORY_LIST_MAX:
        history_where = f"{where} AND source = 'history'"
        per_field = await _all(
            conn,
            f"SELECT field, count(*) AS n FROM changes WHERE {history_where} GROUP BY field ORDER BY n DESC, field",
            base,
        )
        history_files = await _all(
            conn, f"SELECT count(DISTINCT file) FROM changes WHERE {history_where}", base
        )
        history = HistorySummary(
            by_source["history"], int(history_files[0][0]), count_label([(r[0], r[1]) for r in per_field])
        )
        listed_where = f"{where} AND source != 'history'"
    group_rows = await _all(
        conn,
        f"SELECT file, field, language, count(*) AS n FROM changes WHERE {listed_where} "
        "GROUP BY file, field, language ORDER BY file, n DESC, field",
        base,
    )
    group_counts: dict[str, list[tuple[str, int]]] = {}
    for row in group_rows:
        group_counts.setdefault(row[0], []).append((_label(row[1], row[2]), row[3]))
    records = [
        ChangeRecord.from_row(row)
        for row in await _all(
            conn, f"SELECT * FROM changes WHERE {listed_where} ORDER BY file, id LIMIT ?", [*base, LIST_MAX]
        )
    ]
    grouped: dict[str, list[ChangeRecord]] = {}
    for record in records:
        grouped.setdefault(record.file, []).append(record)
    groups = tuple(
        FileGroup(
            file=presenter.view(items[0]).file,
            file_url=presenter.file_url(file_title),
            object_id=next((presenter.view(r).object_id for r in items if r.object_id), None),
            counts=count_label(group_counts.get(file_title, [])),
            changes=tuple(presenter.view(r) for r in items),
            total=sum(n for _, n in group_counts.get(file_title, [])),
        )
        for file_title, items in grouped.items()
    )
    label = f"{period:%A} {period.day} {period:%B %Y}" if period else presenter.local_time(end)[:10]
    title = f"Commons Watcher digest, {label}: " + (
        f"{total} change{'s' if total != 1 else ''} on {files} file{'s' if files != 1 else ''}"
        if total
        else "no changes"
    )
    return DigestContent(
        title=title,
        since=presenter.local_time(start),
        until=presenter.local_time(end),
        total=total,
        files=files,
        field_counts=count_label([(_label(r[0], r[1]), r[2]) for r in field_rows]),
        groups=groups,
        listed_total=sum(n for counts in group_counts.values() for _, n in counts),
        history=history,
        missed=missed,
        review_url=presenter.review_url(),
        group_count=len(group_counts),
    )


@dataclass(frozen=True)
class DigestOutcome:
    channel: str
    period: date
    changes: int
    messages: int
    missed: int
    content: DigestContent | None = field(default=None, compare=False)


async def _last_entry(conn: aiosqlite.Connection, channel: str) -> tuple[date, datetime] | None:
    rows = await _all(
        conn,
        "SELECT period, window_end FROM notify_digests WHERE channel = ? ORDER BY period DESC LIMIT 1",
        [channel],
    )
    if not rows:
        return None
    return date.fromisoformat(rows[0][0]), datetime.fromisoformat(rows[0][1].replace("Z", "+00:00"))


async def send_due_digest(
    db: Database, config: Config, channel: Channel, now: datetime, *, since: datetime | None = None
) -> DigestOutcome | None:
    """Compose and queue the channel's latest due digest unless the ledger has it; None when it has."""
    timing = channel.digest_time
    period, fire = timing.latest_due(now)
    presenter = Presenter(config, timing.zone)
    async with db.transaction() as conn:
        last = await _last_entry(conn, channel.name)
        if last is not None and last[0] >= period:
            return None
        if last is not None:
            start, missed = last[1], max((period - last[0]).days - 1, 0)
        else:
            start, missed = timing.fire_instant(period - timedelta(days=1)), 0
        if since is not None:
            start = since
        content = await compose(
            conn, config, channel.config, presenter, start, fire, period=period, missed=missed
        )
        messages = 0
        if content.total or channel.config.send_empty:
            message = Message("digest", f"digest:{period.isoformat()}", content.title, content.render)
            messages = await enqueue(conn, channel, message, now)
        await conn.execute(
            "INSERT INTO notify_digests (channel, period, window_start, window_end, changes, missed, messages, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (channel.name, period.isoformat(), iso_utc(start), iso_utc(fire), content.total, missed, messages,
             iso_utc(now)),
        )  # fmt: skip
    log.info(
        "notify %s: digest for %s composed: %d change(s), %d message(s)%s",
        channel.name, period, content.total, messages, f", catching up {missed} missed" if missed else "",
    )  # fmt: skip
    return DigestOutcome(channel.name, period, content.total, messages, missed, content)


async def send_due_digests(
    db: Database, config: Config, channels: Sequence[Channel], now: datetime, *, since: datetime | None = None
) -> list[DigestOutcome]:
    outcomes = []
    for channel in channels:
        if channel.wants_digest:
            outcome = await send_due_digest(db, config, channel, now, since=since)
            if outcome is not None:
                outcomes.append(outcome)
    return outcomes


async def run_scheduler(
    db: Database,
    config: Config,
    channels: Sequence[Channel],
    clock: Callable[[], datetime],
    wake: asyncio.Event,
    on_queued: Callable[[], None],
) -> None:
    """Forever: compose each due digest, then sleep toward the next fire time in chunks of ≤ 60 s.

    ``asyncio.sleep`` runs on the monotonic clock, which drifts from the wall clock across suspends
    and clock steps, so the wall clock is read again after every chunk (and whenever ``wake`` is set).
    """
    digest_channels = [c for c in channels if c.wants_digest]
    if not digest_channels:
        return
    while True:
        wake.clear()  # before looking, so a wake-up during the look is not lost
        now = clock()
        outcomes = await send_due_digests(db, config, digest_channels, now)
        if any(o.messages for o in outcomes):
            on_queued()
        upcoming = min(c.digest_time.next_fire(now) for c in digest_channels)
        timeout = min(SCHEDULER_CHUNK, max(0.01, (upcoming - clock()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=timeout)
