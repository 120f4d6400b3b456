"""A compact set of page titles for the per-event "is this one of ours?" test.

A million tracked titles as a Python ``set`` of ``str`` costs well over 100 MB; here each title is a
64-bit hash of its UTF-8 bytes in an open-addressing table (``array('Q')``, linear probing, load at
most one half), about 16 bytes per title. Lookups take the raw title bytes out of the event JSON, so
the ~99.9 % of events that don't concern us are rejected without decoding anything.

What that costs in exactness: two titles whose hashes collide are one entry. A colliding title that
is not tracked tests as tracked (a false positive), which is harmless because every candidate is
checked against the database afterwards; discarding one of two colliding tracked titles drops both.
At a million titles either happens with a probability around 1e-8. The hash is Python's ``hash()``,
randomised per process, so a table is never persisted or shared between processes; build it from the
database at start-up.

Titles are stored exactly as given: the caller passes canonical titles (``File:`` prefix, spaces).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

__all__ = ["TitleSet", "key_of", "keyed_by_builtin_hash"]

_M64 = (1 << 64) - 1
_MIN_CAPACITY = 8
# Indirection so the tests can force collisions; a module global is as fast to call as the builtin.
_hash = hash


def _key(b: bytes) -> int:
    """The table's key for some bytes: a non-zero 64-bit integer (zero marks an empty slot)."""
    return (_hash(b) & _M64) or 1


def key_of(title_utf8: bytes) -> int:
    """The key a table holds for these title bytes (what the compiled helper must compute too)."""
    return _key(title_utf8)


def keyed_by_builtin_hash() -> bool:
    """Whether keys are Python's own ``hash()`` (the tests swap it to force collisions), which is
    what the compiled helper computes; where not, the stream's byte checks stay in Python."""
    return _hash is hash


class TitleSet:
    """Set of titles keyed by the 64-bit hash of their UTF-8 bytes. Not thread-safe (nor needs to be)."""

    __slots__ = ("_len", "_limit", "_mask", "_table")

    def __init__(self, titles: Iterable[str] = (), *, capacity: int = 0) -> None:
        size = _MIN_CAPACITY
        while size < 2 * capacity:
            size *= 2
        self._alloc(size)
        self._len = 0
        self.update(titles)

    def _alloc(self, size: int) -> None:
        self._table = array("Q", bytes(8 * size))
        self._mask = size - 1
        self._limit = size // 2

    def __len__(self) -> int:
        return self._len

    def __contains__(self, title: object) -> bool:
        if isinstance(title, str):
            return self.contains_utf8(title.encode())
        if isinstance(title, bytes):
            return self.contains_utf8(title)
        return False

    def __repr__(self) -> str:
        return f"<TitleSet {self._len} titles, {self.nbytes // 1024} KiB>"

    @property
    def nbytes(self) -> int:
        """Bytes held by the table (what the set adds to resident memory, give or take a page)."""
        return len(self._table) * 8

    def table(self) -> tuple[array[int], int]:
        """The open-addressing table and its mask, for the compiled helper (which only reads them).
        Fetch it anew for each use: the table is replaced whenever the set grows."""
        return self._table, self._mask

    def contains(self, title: str) -> bool:
        return self.contains_utf8(title.encode())

    def contains_utf8(self, title: bytes) -> bool:
        """Membership of raw UTF-8 title bytes, e.g. sliced straight out of event JSON."""
        key = (_hash(title) & _M64) or 1
        table = self._table
        mask = self._mask
        i = key & mask
        while True:
            v = table[i]
            if v == key:
                return True
            if not v:
                return False
            i = (i + 1) & mask

    def add(self, title: str) -> None:
        self.add_utf8(title.encode())

    def add_utf8(self, title: bytes) -> None:
        self._insert(_key(title))

    def update(self, titles: Iterable[str]) -> None:
        for title in titles:
            self._insert(_key(title.encode()))

    def discard(self, title: str) -> None:
        self.discard_utf8(title.encode())

    def discard_utf8(self, title: bytes) -> None:
        key = _key(title)
        table = self._table
        mask = self._mask
        i = key & mask
        while True:
            v = table[i]
            if v == key:
                break
            if not v:
                return
            i = (i + 1) & mask
        # Backward-shift deletion: pull later members of the probe run into the hole so that every
        # member stays reachable from its home slot without tombstones.
        j = i
        while True:
            j = (j + 1) & mask
            v = table[j]
            if not v:
                break
            home = v & mask
            # v stays unless its home lies cyclically outside (i, j]: then it can fill the hole.
            stays = (i < home <= j) if i <= j else (home > i or home <= j)
            if not stays:
                table[i] = v
                i = j
        table[i] = 0
        self._len -= 1

    def clear(self) -> None:
        self._alloc(_MIN_CAPACITY)
        self._len = 0

    def keys(self) -> Iterator[int]:
        """The stored 64-bit keys (for tests and diagnostics; titles themselves are not kept)."""
        return (v for v in self._table if v)

    def _insert(self, key: int) -> None:
        table = self._table
        mask = self._mask
        i = key & mask
        while True:
            v = table[i]
            if v == key:
                return
            if not v:
                break
            i = (i + 1) & mask
        table[i] = key
        self._len += 1
        if self._len > self._limit:
            self._grow()

    def _grow(self) -> None:
        old = self._table
        self._alloc(len(old) * 2)
        table = self._table
        mask = self._mask
        for v in old:
            if v:
                i = v & mask
                while table[i]:
                    i = (i + 1) & mask
                table[i] = v
