"""The agency's overview: each collection's month in figures, read from the store in a few queries.

One :class:`Overview` serves the review page's ``/overview``, ``watcher status`` and the monthly
summary an agency forwards (:mod:`watcher.export.summary`), so the three cannot tell different stories.
A month is a calendar month in UTC; "changes this month" are those of edits *made* in it (the edit's
time, not when the watcher queued it: a catch-up after an outage counts where the volunteer worked),
"accepted/rejected/withdrawn this month" those whose latest decision fell in it. The weekly bars
run Monday to Sunday, the last one holding the month's end (or today, in the month under way).

Every query is bounded by collection and an indexed range (migration 12), and reads only portable
SQL (``count(*) FILTER``, window functions, ``substr``) that PostgreSQL reads too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from watcher.base.values import KINDS, Kind
from watcher.config import Config
from watcher.store.db import iso_utc
from watcher.store.engine import Store

WEEKS_SHOWN = 12
BUSIEST_SHOWN = 5
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DECIDED = ("accepted", "rejected", "withdrawn")


class MonthError(ValueError):
    """A month that is not ``YYYY-MM``: the message says what was given and what is wanted."""


@dataclass(frozen=True)
class Month:
    """A calendar month in UTC: ``start`` inclusive, ``end`` exclusive."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, moment: datetime) -> Month:
        start = moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        following = (start + timedelta(days=32)).replace(day=1)
        return cls(start, following)

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH.match(text.strip())
        if match is None or not 1 <= int(match[2]) <= 12:
            raise MonthError(f"{text!r} is not a month: give it as YYYY-MM, e.g. 2026-11")
        return cls.of(datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC))

    @property
    def key(self) -> str:
        """``2026-11``: how the page's links and ``--month`` name it."""
        return self.start.strftime("%Y-%m")

    @property
    def label(self) -> str:
        """``November 2026``."""
        return self.start.strftime("%B %Y")

    def previous(self) -> Month:
        return Month.of(self.start - timedelta(days=1))

    def following(self) -> Month:
        return Month.of(self.end)


@dataclass(frozen=True)
class WeekBar:
    """One week's changes by kind (edits made Monday 00:00 to Sunday 24:00 UTC)."""

    start: date
    counts: Mapping[Kind, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class BusyFile:
    file: str
    changes: int  # of edits made in the month
    pending: int  # of those, still waiting for a decision


@dataclass(frozen=True)
class CollectionMonth:
    """One collection's figures; ``decided`` counts the month's latest decisions by status."""

    name: str
    title: str
    tracked_files: int
    pending: int  # waiting for a decision now, whenever the edit was made
    changes: int  # of edits made in the month
    decided: Mapping[str, int]
    last_export: str | None  # when its collection system was last sent (or told to take back) a change
    busiest: tuple[BusyFile, ...]
    weeks: tuple[WeekBar, ...]

    @property
    def accepted(self) -> int:
        return self.decided.get("accepted", 0)

    @property
    def rejected(self) -> int:
        return self.decided.get("rejected", 0)

    @property
    def withdrawn(self) -> int:
        return self.decided.get("withdrawn", 0)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "tracked_files": self.tracked_files,
            "pending": self.pending,
            "changes": self.changes,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "withdrawn": self.withdrawn,
            "last_export": self.last_export,
            "busiest": [{"file": b.file, "changes": b.changes, "pending": b.pending} for b in self.busiest],
            "weeks": [{"start": w.start.isoformat(), **w.counts} for w in self.weeks],
        }


@dataclass(frozen=True)
class Overview:
    month: Month
    checked_at: datetime
    collections: tuple[CollectionMonth, ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        return {
            "month": self.month.key,
            "checked_at": iso_utc(self.checked_at),
            "collections": [c.as_json() for c in self.collections],
        }


def week_starts(month: Month, now: datetime, count: int = WEEKS_SHOWN) -> list[date]:
    """The Mondays of the ``count`` weeks up to the month's last day (today's week in a month under
    way; a month still to come has the weeks up to its start)."""
    last_day = min(month.end - timedelta(seconds=1), max(now, month.start)).date()
    last_monday = last_day - timedelta(days=last_day.weekday())
    return [last_monday - timedelta(weeks=count - 1 - i) for i in range(count)]


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


async def build_overview(
    db: Store,
    config: Config,
    collections: Sequence[str],
    *,
    month: Month | None = None,
    now: datetime | None = None,
    busiest: int = BUSIEST_SHOWN,
    weeks: int = WEEKS_SHOWN,
) -> Overview:
    """The figures of ``collections`` (names, in the order given) for ``month`` (default: this one)."""
    now = now or datetime.now(UTC)
    month = month or Month.of(now)
    names = list(dict.fromkeys(collections))
    if not names:
        return Overview(month, now)
    marks = _marks(names)
    start, end = iso_utc(month.start), iso_utc(month.end)
    mondays = week_starts(month, now, weeks)
    chart_start = iso_utc(datetime.combine(mondays[0], datetime.min.time(), UTC))
    chart_end = iso_utc(datetime.combine(mondays[-1] + timedelta(days=7), datetime.min.time(), UTC))

    tracked = await _by_collection(
        db,
        "SELECT r.collection, count(DISTINCT r.title) FROM tracked_reasons r "
        "JOIN tracked_files f ON f.title = r.title "
        f"WHERE f.state = 'active' AND r.collection IN ({marks}) GROUP BY r.collection",
        names,
    )
    pending = await _by_collection(
        db,
        f"SELECT collection, count(*) FROM changes WHERE status = 'pending' AND collection IN ({marks}) "
        "GROUP BY collection",
        names,
    )
    made = await _by_collection(
        db,
        f"SELECT collection, count(*) FROM changes WHERE collection IN ({marks}) "
        "AND timestamp >= ? AND timestamp < ? GROUP BY collection",
        [*names, start, end],
    )
    decided: dict[str, dict[str, int]] = {}
    for row in await db.fetchall(
        f"SELECT collection, status, count(*) FROM changes WHERE collection IN ({marks}) "
        f"AND reviewed_at >= ? AND reviewed_at < ? AND status IN ({_marks(_DECIDED)}) "
        "GROUP BY collection, status",
        [*names, start, end, *_DECIDED],
    ):
        decided.setdefault(str(row[0]), {})[str(row[1])] = int(row[2])
    busy: dict[str, list[BusyFile]] = {}
    for row in await db.fetchall(
        "SELECT collection, file, n, waiting FROM ("
        " SELECT collection, file, count(*) AS n, count(*) FILTER (WHERE status = 'pending') AS waiting,"
        "  row_number() OVER (PARTITION BY collection ORDER BY count(*) DESC, file) AS place"
        f" FROM changes WHERE collection IN ({marks}) AND timestamp >= ? AND timestamp < ?"
        " GROUP BY collection, file"
        ") AS ranked WHERE place <= ? ORDER BY collection, place",
        [*names, start, end, busiest],
    ):
        busy.setdefault(str(row[0]), []).append(BusyFile(str(row[1]), int(row[2]), int(row[3])))
    days: dict[str, dict[tuple[date, Kind], int]] = {}
    for row in await db.fetchall(
        "SELECT collection, kind, substr(timestamp, 1, 10) AS day, count(*) FROM changes "
        f"WHERE collection IN ({marks}) AND timestamp >= ? AND timestamp < ? GROUP BY collection, kind, day",
        [*names, chart_start, chart_end],
    ):
        kind = next((k for k in KINDS if k == row[1]), None)
        try:
            day = date.fromisoformat(str(row[2]))
        except ValueError:
            continue  # a timestamp that is not a time: in no week
        if kind is not None:
            monday = day - timedelta(days=day.weekday())
            per = days.setdefault(str(row[0]), {})
            per[(monday, kind)] = per.get((monday, kind), 0) + int(row[3])

    figures = []
    for name in names:
        section = config.collection(name)
        per_week = days.get(name, {})
        figures.append(
            CollectionMonth(
                name=name,
                title=section.title if section is not None else name,
                tracked_files=tracked.get(name, 0),
                pending=pending.get(name, 0),
                changes=made.get(name, 0),
                decided=decided.get(name, {}),
                last_export=await _last_export(db, name),
                busiest=tuple(busy.get(name, ())),
                weeks=tuple(WeekBar(m, {k: per_week.get((m, k), 0) for k in KINDS}) for m in mondays),
            )
        )
    return Overview(month, now, tuple(figures))


async def _by_collection(db: Store, sql: str, params: Sequence[object]) -> dict[str, int]:
    return {str(row[0]): int(row[1]) for row in await db.fetchall(sql, params)}


async def _last_export(db: Store, collection: str) -> str | None:
    """The latest export that wrote one of the collection's changes, or a retraction of one."""
    row = await db.fetchone(
        "SELECT (SELECT max(exported_at) FROM changes WHERE collection = ? AND exported_at IS NOT NULL),"
        " (SELECT max(retracted_at) FROM changes WHERE collection = ? AND retracted_at IS NOT NULL)",
        (collection, collection),
    )
    times = [str(value) for value in (row or ()) if value is not None]
    return max(times) if times else None
