"""TitleSet: set semantics (checked against a Python set), bytes versus str, size at scale."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import watcher.stream.titleset
from watcher.stream.titleset import TitleSet


def test_add_discard_contains() -> None:
    ts = TitleSet(["File:A.jpg", "Category:Media contributed by Example Museum"])
    assert "File:A.jpg" in ts and ts.contains("File:A.jpg")
    assert ts.contains_utf8(b"Category:Media contributed by Example Museum")
    assert "File:B.jpg" not in ts and not ts.contains_utf8(b"File:B.jpg")
    assert "File:A_jpg" not in ts and "file:A.jpg" not in ts  # nothing normalised
    ts.add("File:A.jpg")
    assert len(ts) == 2
    ts.discard("File:A.jpg")
    ts.discard("File:A.jpg")  # absent: no error
    ts.discard("never there")
    assert "File:A.jpg" not in ts and len(ts) == 1
    assert 42 not in ts and None not in ts


def test_bytes_and_str_agree_beyond_ascii() -> None:
    titles = ["File:Café.jpg", "File:Крым.png", "File:東京.jpg", "File:𝔘.svg", "Category:Ü"]
    ts = TitleSet(titles)
    for t in titles:
        assert t in ts and t.encode() in ts and ts.contains_utf8(t.encode())
        assert t.encode("utf-16") not in ts
    ts2 = TitleSet()
    for t in titles:
        ts2.add_utf8(t.encode())
    assert all(t in ts2 for t in titles)
    for t in titles:
        ts2.discard_utf8(t.encode())
    assert len(ts2) == 0 and not any(t in ts2 for t in titles)


def test_clear_and_repr() -> None:
    ts = TitleSet(f"File:{i}.jpg" for i in range(100))
    assert "100 titles" in repr(ts)
    ts.clear()
    assert len(ts) == 0 and "File:1.jpg" not in ts


def _colliding(b: bytes) -> int:
    """Distinct 64-bit keys whose home slots all sit at the two ends of any table up to 256 slots."""
    h = int.from_bytes(hashlib.blake2b(b, digest_size=7).digest(), "big")
    return (h << 8) | (0x00, 0x01, 0xFE, 0xFF)[h & 3]


@pytest.fixture(params=["builtin hash", "colliding homes"])
def hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "colliding homes":
        monkeypatch.setattr(watcher.stream.titleset, "_hash", _colliding)
    return str(request.param)


_OPS = st.lists(
    st.tuples(st.sampled_from(["add", "discard", "contains"]), st.integers(0, 60)), min_size=1, max_size=300
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_behaves_like_a_set(hashing: str, ops: list[tuple[str, int]]) -> None:
    ts = TitleSet()
    ref: set[str] = set()
    for op, n in ops:
        title = f"File:Object {n}.jpg"
        if op == "add":
            ts.add(title)
            ref.add(title)
        elif op == "discard":
            ts.discard(title)
            ref.discard(title)
        assert (title in ts) == (title in ref)
        assert len(ts) == len(ref)
    assert all(f"File:Object {n}.jpg" in ts for n in range(61) if f"File:Object {n}.jpg" in ref)
    assert not any(f"File:Object {n}.jpg" in ts for n in range(61) if f"File:Object {n}.jpg" not in ref)


def test_heavy_clustering_with_wraparound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watcher.stream.titleset, "_hash", _colliding)
    rng = random.Random(5)
    titles = [f"File:{i}.jpg" for i in range(100)]
    ts = TitleSet(titles)
    present = set(titles)
    for _ in range(3):
        for t in rng.sample(titles, 60):
            ts.discard(t)
            present.discard(t)
            assert all(x in ts for x in present)
        for t in rng.sample(titles, 60):
            ts.add(t)
            present.add(t)
        assert len(ts) == len(present) and all(x in ts for x in present)
        assert not any(x in ts for x in set(titles) - present)


def test_large_set_is_exact_and_compact() -> None:
    n = 200_000
    titles = [f"File:Some museum object {i} - EXM {i}.jpg" for i in range(n)]
    ts = TitleSet(titles)
    assert len(ts) == n
    assert all(t in ts for t in titles[::7])
    absent = [f"File:Some museum object {i} - EXM {i}.jpg" for i in range(n, 2 * n)]
    assert sum(ts.contains_utf8(t.encode()) for t in absent) == 0  # 64-bit keys: no collisions at this size
    assert ts.nbytes <= 32 * n  # at most 32 bytes a title (load factor between 1/4 and 1/2)
    assert len(set(ts.keys())) == n
    for t in titles[: n // 2]:
        ts.discard(t)
    assert len(ts) == n // 2 and all(t in ts for t in titles[n // 2 :: 5])
    assert not any(t in ts for t in titles[: n // 2 : 5])


def test_capacity_hint_avoids_growth() -> None:
    ts = TitleSet(capacity=1000)
    size = ts.nbytes
    for i in range(1000):
        ts.add(f"t{i}")
    assert ts.nbytes == size and len(ts) == 1000
