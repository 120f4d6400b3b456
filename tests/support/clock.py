"""A clock the test sets by hand (monotonic seconds or wall-clock datetimes alike)."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class ManualClock(Generic[T]):
    """Returns ``now`` when called; the test moves ``now`` itself."""

    def __init__(self, now: T) -> None:
        self.now = now

    def __call__(self) -> T:
        return self.now
