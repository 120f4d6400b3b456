"""When digests fire: a local wall-clock time in the channel's own zone, never the host's.

A period is a local date; its digest fires at ``digest_at`` on that date. Daylight saving time:

- a ``digest_at`` that falls in the spring-forward gap (02:30 in Europe/Stockholm on the last Sunday of
  March) does not exist that day; the digest fires at the first valid instant after it (03:00 CEST);
- a ``digest_at`` that falls in the autumn fold (02:30 happens twice) fires once, at the first
  occurrence (``fold=0``), because there is exactly one fire instant per local date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# No zone has a gap longer than a day; the scan below stops there whatever tzdata says.
_MAX_GAP_MINUTES = 24 * 60


@dataclass(frozen=True)
class DigestTime:
    at: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, digest_at: str, timezone: str) -> DigestTime:
        hours, minutes = (int(part) for part in digest_at.split(":"))
        return cls(time(hours, minutes), ZoneInfo(timezone))

    def fire_instant(self, day: date) -> datetime:
        """The UTC instant the digest of local date ``day`` fires."""
        wall = datetime.combine(day, self.at)
        for minute in range(_MAX_GAP_MINUTES):
            candidate = wall + timedelta(minutes=minute)
            instant = candidate.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
            if instant.astimezone(self.zone).replace(tzinfo=None) == candidate:
                return instant  # this local time exists (first occurrence in a fold)
        raise ValueError(f"no valid local time after {wall} in {self.zone}")  # pragma: no cover

    def latest_due(self, now: datetime) -> tuple[date, datetime]:
        """The most recent period whose fire instant is at or before ``now``, and that instant."""
        today = now.astimezone(self.zone).date()
        for day in (today, today - timedelta(days=1), today - timedelta(days=2)):
            instant = self.fire_instant(day)
            if instant <= now:
                return day, instant
        raise AssertionError("a fire instant within two days")  # pragma: no cover

    def next_fire(self, now: datetime) -> datetime:
        """The first fire instant strictly after ``now``."""
        day, _ = self.latest_due(now)
        return self.fire_instant(day + timedelta(days=1))

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)
