"""Digest fire times in the channel's zone: Europe/Stockholm's spring-forward gap and autumn fold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.notify import utc
from watcher.notify.schedule import DigestTime

STOCKHOLM = "Europe/Stockholm"
SPRING = date(2026, 3, 29)  # 02:00 CET → 03:00 CEST
AUTUMN = date(2026, 10, 25)  # 03:00 CEST → 02:00 CET


def test_ordinary_days_fire_at_local_time_in_either_offset() -> None:
    timing = DigestTime.parse("07:30", STOCKHOLM)
    assert timing.fire_instant(date(2026, 3, 28)) == utc(2026, 3, 28, 6, 30)  # CET, UTC+1
    assert timing.fire_instant(SPRING) == utc(2026, 3, 29, 5, 30)  # CEST, UTC+2
    assert timing.fire_instant(AUTUMN) == utc(2026, 10, 25, 6, 30)  # CET again


def test_a_time_in_the_spring_gap_fires_at_the_first_valid_instant_after() -> None:
    timing = DigestTime.parse("02:30", STOCKHOLM)
    instant = timing.fire_instant(SPRING)
    assert instant == utc(2026, 3, 29, 1, 0)
    assert timing.local(instant).strftime("%H:%M %Z") == "03:00 CEST"
    assert timing.fire_instant(SPRING + timedelta(days=1)) == utc(2026, 3, 30, 0, 30)  # 02:30 CEST


def test_a_time_in_the_autumn_fold_fires_once_at_its_first_occurrence() -> None:
    timing = DigestTime.parse("02:30", STOCKHOLM)
    assert timing.fire_instant(AUTUMN) == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, not 02:30 CET
    # Walking the night minute by minute, the due period changes exactly once, at that instant.
    changes = []
    now = utc(2026, 10, 24, 22, 0)
    previous = timing.latest_due(now)[0]
    while now < utc(2026, 10, 25, 3, 0):
        period = timing.latest_due(now)[0]
        if period != previous:
            changes.append((period, now))
            previous = period
        now += timedelta(minutes=1)
    assert changes == [(AUTUMN, utc(2026, 10, 25, 0, 30))]


def test_next_fire_skips_to_the_following_day() -> None:
    timing = DigestTime.parse("07:30", STOCKHOLM)
    assert timing.next_fire(utc(2026, 3, 28, 6, 30)) == utc(2026, 3, 29, 5, 30)  # exactly at: next day's
    assert timing.next_fire(utc(2026, 3, 28, 6, 29)) == utc(2026, 3, 28, 6, 30)
    assert timing.latest_due(utc(2026, 3, 28, 6, 29)) == (date(2026, 3, 27), utc(2026, 3, 27, 6, 30))


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    zone=st.sampled_from([STOCKHOLM, "America/New_York", "Australia/Lord_Howe", "UTC"]),
)
def test_latest_due_and_next_fire_bracket_every_instant(
    moment: datetime, hour: int, minute: int, zone: str
) -> None:
    timing = DigestTime.parse(f"{hour:02d}:{minute:02d}", zone)
    now = moment.replace(tzinfo=UTC)
    period, fired = timing.latest_due(now)
    upcoming = timing.next_fire(now)
    assert fired <= now < upcoming
    assert upcoming == timing.fire_instant(period + timedelta(days=1))
    # One fire per local date, and consecutive ones between 22 and 26 hours apart (DST and gaps).
    assert timedelta(hours=22) <= upcoming - fired <= timedelta(hours=26)
    local = timing.local(fired)
    assert local.date() == period
    assert (local.hour, local.minute) >= (hour, minute)
