"""Daily digests: one per channel and local date, composed exactly once, sent through the outbox.

- **Windows.** A digest covers the changes *queued* (``changes.queued_at``) in ``[window_start,
  window_end)``; ``window_end`` is the fire instant and the next window starts where the last one
  ended, so every change is in exactly one digest of a channel. Queue time, not edit time, because
  ``watcher history`` queues old edits. A channel's first digest starts at the fire instant before its
  first due one: records older than that are not announced again.
- **The first digest** is the first one due after the database began watching (the daemon's first
  start, or the first change `watcher history` queued, whichever came first): a first start at 10:00
  composes no digest for the 07:30 that passed before the database existed, which would hold nothing
  and use up the day's period; the changes of the first day go out with the next morning's digest.
- **One window for preview and send** (:func:`plan_window`): ``watcher digest`` shows the digest due
  now and not composed yet, exactly as ``--send`` composes it; where none is due, the next one as it
  stands (changes queued since the last one ended, until now). Both print the window
  (:func:`period_text`). ``--send --since DATE`` (:func:`send_digest_since`) sends now what the
  preview with the same ``--since`` shows, as an extra digest: the ledger and the schedule stay as
  they are.
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
- **Collections.** A channel of several collections (``[[notify]] collections``, default all) lists
  its files under each collection's title, in config order; a channel of one looks as it always did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from watcher.base.values import BodyFormat
from watcher.config import Config, NotifyChannel
from watcher.notify.channels import Channel
from watcher.notify.filters import channel_collections, filter_sql
from watcher.notify.outbox import Message, enqueue
from watcher.notify.render import ChangeView, Presenter, count_label, fit, render_template
from watcher.notify.schedule import DigestTime
from watcher.store.db import iso_utc
from watcher.store.engine import Connection, Store
from watcher.store.queue import RECORD_COLUMNS, ChangeRecord
from watcher.store.state import FIRST_START

log = logging.getLogger("watcher.notify")

HISTORY_LIST_MAX = 200
LIST_MAX = 1000  # changes listed one by one; the rest are counted
SCHEDULER_CHUNK = 60.0  # seconds; the wall clock is read again after each sleep


@dataclass(frozen=True)
class CollectionHeading:
    """The line above a collection's files in a digest of several collections."""

    title: str
    total: int  # its changes listed (or counted as "more") below it
    files: int


@dataclass(frozen=True)
class FileGroup:
    file: str
    file_url: str
    object_id: str | None
    counts: str
    changes: tuple[ChangeView, ...]
    total: int
    # The collection the file's changes here are of, where the digest covers several (a file in two
    # collections is a group under each); None with one collection: the digest looks as before.
    collection: CollectionHeading | None = None

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
    withdrawn: int = 0  # changes of the window that Commons undid: one line, not listed

    def render(self, fmt: BodyFormat, limit: int | None = None) -> str:
        def body(shown: int) -> str:
            groups = self.groups[:shown]
            listed = sum(len(g.changes) + g.hidden for g in groups)
            return render_template(
                "digest", fmt, title=self.title, since=self.since, until=self.until, total=self.total,
                files=self.files, field_counts=self.field_counts, groups=groups,
                more_groups=self.group_count - shown, more_changes=self.listed_total - listed,
                more_url=self.review_url, history=self.history, missed=self.missed,
                review_url=self.review_url, withdrawn=self.withdrawn,
            )  # fmt: skip

        return fit(body, len(self.groups), limit)


async def _all(conn: Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    cursor = await conn.execute(sql, params)
    rows = await cursor.fetchall()
    await cursor.close()
    return list(rows)


def period_label(period: date) -> str:
    """``Monday 2 March 2026``: the local date a digest is for, as its title says it."""
    return f"{period:%A} {period.day} {period:%B %Y}"


def _label(field_name: str, language: str | None) -> str:
    return f"{field_name} [{language}]" if language else field_name


async def compose(
    conn: Connection,
    config: Config,
    filters: NotifyChannel,
    presenter: Presenter,
    start: datetime,
    end: datetime,
    *,
    period: date | None = None,
    missed: int = 0,
    db: Store | None = None,
) -> DigestContent:
    """Read the window's changes (inside the caller's transaction, or a reader's connection); ``db``
    (whose connection ``conn`` is) for the labels of the words, else the records' own labels."""
    condition, params = filter_sql(filters)
    # Withdrawn changes (Commons undid them before anyone decided) are counted in one line, not listed.
    where = f"queued_at >= ? AND queued_at < ? AND status != 'withdrawn' AND ({condition})"
    base = [iso_utc(start), iso_utc(end), *params]
    undone_condition, undone_params = filter_sql(replace(filters, exclude_reverted=False))
    undone = await _all(
        conn,
        f"SELECT count(*) FROM changes WHERE queued_at >= ? AND queued_at < ? AND status = 'withdrawn' "
        f"AND ({undone_condition})",
        [iso_utc(start), iso_utc(end), *undone_params],
    )
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
    # Several collections: the files under each collection's title, in config order.
    names = channel_collections(filters, config)
    several = len(names) > 1
    order, order_params = _collection_order(names if several else ())
    group_rows = await _all(
        conn,
        f"SELECT collection, file, field, language, count(*) AS n FROM changes WHERE {listed_where} "
        f"GROUP BY collection, file, field, language ORDER BY {order}file, n DESC, field",
        [*base, *order_params],
    )
    group_counts: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for row in group_rows:
        key = (row[0] if several else "", row[1])
        group_counts.setdefault(key, []).append((_label(row[2], row[3]), row[4]))
    records = [
        ChangeRecord.from_row(row)
        for row in await _all(
            conn,
            f"SELECT {RECORD_COLUMNS} FROM changes WHERE {listed_where} ORDER BY {order}file, id LIMIT ?",
            [*base, *order_params, LIST_MAX],
        )
    ]
    labels = await presenter.labels(db, records) if db is not None else None
    grouped: dict[tuple[str, str], list[ChangeRecord]] = {}
    for record in records:
        grouped.setdefault((record.collection if several else "", record.file), []).append(record)
    headings = _headings(config, group_counts) if several else {}
    groups = tuple(
        FileGroup(
            file=presenter.view(items[0]).file,
            file_url=presenter.file_url(key[1]),
            object_id=next((presenter.view(r).object_id for r in items if r.object_id), None),
            counts=count_label(group_counts.get(key, [])),
            changes=tuple(presenter.view(r, labels=labels) for r in items),
            total=sum(n for _, n in group_counts.get(key, [])),
            collection=headings.get(key[0]),
        )
        for key, items in grouped.items()
    )
    label = period_label(period) if period else presenter.local_time(end)[:10]
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
        withdrawn=int(undone[0][0]),
    )


def _collection_order(names: Sequence[str]) -> tuple[str, list[str]]:
    """An ORDER BY prefix putting the collections in config order (others after them); none for ()."""
    if not names:
        return "", []
    cases = " ".join(f"WHEN ? THEN {number}" for number in range(len(names)))
    return f"CASE collection {cases} ELSE {len(names)} END, collection, ", list(names)


def _headings(
    config: Config, group_counts: dict[tuple[str, str], list[tuple[str, int]]]
) -> dict[str, CollectionHeading]:
    """Each collection's heading: its title (its name where the config has it no more), its counts."""
    changes: dict[str, int] = {}
    files: dict[str, int] = {}
    for (name, _), counts in group_counts.items():
        changes[name] = changes.get(name, 0) + sum(n for _, n in counts)
        files[name] = files.get(name, 0) + 1
    headings: dict[str, CollectionHeading] = {}
    for name, total in changes.items():
        section = config.collection(name)
        headings[name] = CollectionHeading(section.title if section else name, total, files[name])
    return headings


@dataclass(frozen=True)
class DigestOutcome:
    channel: str
    period: date
    changes: int
    messages: int
    missed: int
    content: DigestContent | None = field(default=None, compare=False)
    window: str = field(default="", compare=False)  # period_text of what it covers


def _utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def period_text(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """``changes queued 2026-03-01 07:30 – 2026-03-02 07:30 Europe/Stockholm``: what preview and send print."""
    shown = [moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") for moment in (start, end)]
    return f"changes queued {shown[0]} – {shown[1]} {zone.key}"


def window_now(now: datetime) -> datetime:
    """The end of a window that runs until ``now``: queue times have whole seconds, so after this one."""
    return now.replace(microsecond=0) + timedelta(seconds=1)


@dataclass(frozen=True)
class DigestWindow:
    """Which changes a channel's digest covers: queued in ``[start, end)``.

    ``due``: the scheduled digest of ``period`` is due (its ``fire`` instant has passed) and not composed
    yet; ``end`` is then ``fire``, and ``--send`` composes exactly this. Otherwise ``period`` is the next
    digest, going out at ``fire``, and ``end`` is now: the digest as it stands so far.
    """

    period: date
    start: datetime
    end: datetime
    fire: datetime
    due: bool
    missed: int = 0
    composed: date | None = None  # the latest period in the ledger; None: no digest yet

    def text(self, zone: ZoneInfo) -> str:
        return period_text(self.start, self.end, zone)


async def _last_entry(conn: Connection, channel: str) -> tuple[date, datetime] | None:
    rows = await _all(
        conn,
        "SELECT period, window_end FROM notify_digests WHERE channel = ? ORDER BY period DESC LIMIT 1",
        [channel],
    )
    if not rows:
        return None
    return date.fromisoformat(rows[0][0]), _utc(rows[0][1])


async def watching_since(conn: Connection) -> datetime | None:
    """When the database began watching: the daemon's first start or the first change queued (by
    `watcher history`), whichever came first; None where neither is recorded (nothing to misplace)."""
    moments: list[datetime] = []
    for sql, params in (
        ("SELECT value FROM state WHERE key = ?", [FIRST_START]),
        ("SELECT min(queued_at) FROM changes", []),
    ):
        rows = await _all(conn, sql, params)
        if rows and rows[0][0]:
            with contextlib.suppress(ValueError):
                moments.append(_utc(str(rows[0][0])))
    return min(moments, default=None)


async def plan_window(conn: Connection, channel: str, timing: DigestTime, now: datetime) -> DigestWindow:
    """The digest ``--send`` composes now (``due``), or else the next one so far: one rule for both."""
    period, fire = timing.latest_due(now)
    last = await _last_entry(conn, channel)
    upcoming = period + timedelta(days=1)
    if last is not None and last[0] >= period:
        return DigestWindow(upcoming, last[1], window_now(now), timing.fire_instant(upcoming), False,
                            composed=last[0])  # fmt: skip
    if last is not None:
        missed = max((period - last[0]).days - 1, 0)
        return DigestWindow(period, last[1], fire, fire, True, missed, composed=last[0])
    origin = await watching_since(conn)
    if origin is not None and fire <= origin:
        # The 07:30 that passed before the database began watching: the first digest is the next one.
        return DigestWindow(upcoming, fire, window_now(now), timing.fire_instant(upcoming), False)
    return DigestWindow(period, timing.fire_instant(period - timedelta(days=1)), fire, fire, True)


async def send_due_digest(db: Store, config: Config, channel: Channel, now: datetime) -> DigestOutcome | None:
    """Compose and queue the channel's due digest (:func:`plan_window`); None when none is due."""
    timing = channel.digest_time
    presenter = Presenter(config, timing.zone)
    async with db.transaction() as conn:
        plan = await plan_window(conn, channel.name, timing, now)
        if not plan.due:
            return None
        period, start, fire, missed = plan.period, plan.start, plan.fire, plan.missed
        content = await compose(
            conn, config, channel.config, presenter, start, fire, period=period, missed=missed, db=db
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
    window = plan.text(timing.zone)
    log.info(
        "notify %s: digest for %s composed (%s): %d change(s), %d message(s)%s",
        channel.name, period, window, content.total, messages,
        f", catching up {missed} missed" if missed else "",
    )  # fmt: skip
    return DigestOutcome(channel.name, period, content.total, messages, missed, content, window)


async def send_due_digests(
    db: Store, config: Config, channels: Sequence[Channel], now: datetime
) -> list[DigestOutcome]:
    outcomes = []
    for channel in channels:
        if channel.wants_digest:
            outcome = await send_due_digest(db, config, channel, now)
            if outcome is not None:
                outcomes.append(outcome)
    return outcomes


async def send_digest_since(
    db: Store, config: Config, channel: Channel, since: datetime, now: datetime
) -> DigestOutcome:
    """Queue now, as an extra digest, the changes queued from ``since`` until now: exactly what
    ``watcher digest --since`` shows. Each run sends again; the ledger and the schedule are untouched."""
    timing = channel.digest_time
    presenter = Presenter(config, timing.zone)
    end = window_now(now)
    async with db.transaction() as conn:
        content = await compose(conn, config, channel.config, presenter, since, end, db=db)
        messages = 0
        if content.total or channel.config.send_empty:
            ref = f"digest:since:{iso_utc(since)}:{iso_utc(end)}"
            messages = await enqueue(
                conn, channel, Message("digest", ref, content.title, content.render), now
            )
    window = period_text(since, end, timing.zone)
    log.info(
        "notify %s: extra digest composed (%s): %d change(s), %d message(s)",
        channel.name, window, content.total, messages,
    )  # fmt: skip
    return DigestOutcome(channel.name, end.astimezone(timing.zone).date(), content.total, messages, 0,
                         content, window)  # fmt: skip


async def run_scheduler(
    db: Store,
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
    announced: dict[str, datetime] = {}
    while True:
        wake.clear()  # before looking, so a wake-up during the look is not lost
        now = clock()
        outcomes = await send_due_digests(db, config, digest_channels, now)
        if any(o.messages for o in outcomes):
            on_queued()
        for channel in digest_channels:  # nothing is due now: the next fire time is the next digest
            fire = channel.digest_time.next_fire(now)
            if announced.get(channel.name) != fire:
                announced[channel.name] = fire
                local = channel.digest_time.local(fire)
                log.info(
                    "notify %s: next digest, for %s, at %s %s", channel.name, period_label(local.date()),
                    local.strftime("%Y-%m-%d %H:%M"), channel.digest_time.zone.key,
                )  # fmt: skip
        upcoming = min(c.digest_time.next_fire(now) for c in digest_channels)
        timeout = min(SCHEDULER_CHUNK, max(0.01, (upcoming - clock()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=timeout)
