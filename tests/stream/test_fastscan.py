"""The stream's compiled helper against the Python loops it stands in for, and the pure-Python path.

The helper (``watcher/stream/_fastscan.pyx``) is used where it is built; these tests build it into a
temporary folder where it is not (Cython and a C compiler needed; otherwise they skip, saying so),
and hold it to the Python loops byte for byte: the same spans out of the framing loop, the same
records let through by the prefilter's byte checks, the same batches out of the whole stream.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.support.stream import replay
from watcher.stream import native
from watcher.stream.build import MODULE, BuildFailed, build
from watcher.stream.client import EventBatch, EventStream
from watcher.stream.prefilter import Prefilter, TitleSetMatcher
from watcher.stream.sse import run_of
from watcher.stream.titleset import TitleSet, key_of

UA = "WatcherTests/1.0 (https://museum.example; tests@museum.example)"
TITLES = ["File:A.jpg", "File:Ölbild.jpg", "Category:Tracked"]
USERS = ["Museum Uploader"]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The built helper, or one built for these tests."""
    if native.fastscan is not None:
        return native.fastscan
    try:
        path = build(tmp_path_factory.mktemp("fastscan"))
    except BuildFailed as exc:
        pytest.skip(f"the compiled helper is not built and cannot be built here: {exc}")
    spec = importlib.util.spec_from_file_location(MODULE, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["avx2", "sse2"])
def vectors(compiled: ModuleType, request: pytest.FixtureRequest) -> Iterator[ModuleType]:
    """The helper with its 32-byte loops (where the processor has AVX2) and with its 16-byte ones."""
    used = compiled.simd(avx2=request.param == "avx2")
    if used != request.param:
        pytest.skip(f"this processor has no {request.param}")
    try:
        yield compiled
    finally:
        compiled.simd(avx2=True)


@pytest.fixture
def use_compiled(compiled: ModuleType, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setattr(native, "fastscan", compiled)
    return compiled


class Recording(Prefilter):
    """A prefilter that notes every record its byte checks let through, and parses none."""

    seen: list[bytes]

    def _candidate(self, data: bytes) -> dict[str, Any] | None:
        self.seen.append(data)
        return None


def matcher() -> TitleSetMatcher:
    return TitleSetMatcher(TitleSet(TITLES), TitleSet(USERS))


def let_through(buf: bytes, spans: list[int], *, compiled: bool) -> list[bytes]:
    pf = Recording("commonswiki", matcher(), compiled=compiled)
    pf.seen = []
    pf.scan(buf, spans)
    return pf.seen


# Pieces of event JSON that the byte checks look at, and some that confuse them.
PIECES = [
    b'"wiki":"', b"commonswiki", b'commonswiki"', b"enwiki", b'"title":"', b"File:A.jpg", b"File:B.jpg",
    "File:Ölbild.jpg".encode(), b"Category:Tracked", b'"', b"\\", b"}", b"{", b'"log_type":"upload"',
    b'"user":"', b"Museum Uploader", b",", b":", b"x", b"k", b"\xc3", b'"wiki": "', b'"title": "',
    b'title":"', b'user":"', b'"w', b'"t', b'"l', b'"u', b'"log_type":"', b"upload",
]  # fmt: skip
WALK_PIECES = [
    b"event: message\nid: ", b"1", b'[{"offset":5}]', b"\ndata: ", b"{}", b'{"a":1}', b"\n", b"\n\n", b"x",
    b"data: ", b"event: message\n", b"id: ", b":ok", b"event: error\n",
]  # fmt: skip


@st.composite
def records(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """A buffer of records made of PIECES, and the (start, end) spans of their data."""
    datas = draw(st.lists(st.lists(st.sampled_from(PIECES), max_size=14).map(b"".join), max_size=8))
    buf = b""
    spans: list[int] = []
    for data in datas:
        buf += b"event: message\nid: 0\ndata: "
        spans += [len(buf), len(buf) + len(data)]
        buf += data + draw(st.sampled_from([b"\n\n", b"", b"\n"]))
    return buf, spans


KEYS = [
    b'"title":"', b'"wiki":"', b'"log_type":"upload"', b'"user":"', b'"log_type":"edit"', b'"type":"log"',
    b'"comment":"', b'"meta":{"id":"x"}', b'"parsedcomment":"<a href=\\"wiki\\">w</a>"',
]  # fmt: skip
VALUES = [
    b"File:A.jpg", b"File:B.jpg", b"commonswiki", b"enwiki", b"Museum Uploader", b"Somebody", b"x\\y",
    b"Category:Tracked", "File:Ölbild.jpg".encode(), b"", b"title", b"wiki", b"user",
]  # fmt: skip


@st.composite
def eventish(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """Records shaped like events: the keys the checks look for, in any order, repeated or left out,
    with values that are tracked, untracked, ours, others', escaped; between them, other bytes."""
    buf = b""
    spans: list[int] = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        parts = [b"{"]
        for _ in range(draw(st.integers(min_value=0, max_value=10))):
            key = draw(st.sampled_from(KEYS))
            value = draw(st.sampled_from(VALUES)) + b'"' if key.endswith(b'"') else b""
            padding = draw(st.sampled_from([b",", b',"x":1,', b"," + b"q" * 20 + b",", b',"t":"tt",']))
            parts.append(key + value + padding)
        data = b"".join(parts) + b"}"
        buf += b"event: message\nid: 0\ndata: "
        spans += [len(buf), len(buf) + len(data)]
        buf += data + b"\n\n"
    return buf, spans


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(st.sampled_from(WALK_PIECES), max_size=30),
    pos=st.integers(min_value=0, max_value=400),
    limit=st.integers(min_value=1, max_value=120),
)
@example(parts=[b"event: message\nid: ", b"1", b"\ndata: ", b"{}", b"\n\n"], pos=0, limit=512)
def test_walk_is_the_python_loop(compiled: ModuleType, parts: list[bytes], pos: int, limit: int) -> None:
    buf = b"".join(parts)
    spans, end = compiled.walk(buf, pos, limit)
    assert (list(spans), end) == run_of(buf, pos, limit)


@settings(max_examples=800, deadline=None)
@given(sample=st.one_of(records(), eventish()))
@example(sample=(b'event: message\nid: 0\ndata: "wiki":"commonswiki","title":"File:A.jpg', [27, 68]))
@example(sample=(b'event: message\nid: 0\ndata: "wiki":"commonswiki""title":"x\\', [27, 57]))
def test_scan_lets_through_what_python_does(vectors: ModuleType, sample: tuple[bytes, list[int]]) -> None:
    buf, spans = sample
    python = let_through(buf, spans, compiled=False)
    titles = [s.table() for s in matcher().title_sets()]
    users = [s.table() for s in matcher().user_sets()]
    found = vectors.scan(buf, spans, b'commonswiki"', titles, users)
    assert [buf[spans[k] : spans[k + 1]] for k in found] == python


def test_the_prefilter_takes_the_compiled_checks_where_built(use_compiled: ModuleType) -> None:
    buf = b'event: message\nid: 0\ndata: {"title":"File:A.jpg","wiki":"commonswiki"}\n\n'
    spans = [27, len(buf) - 2]
    calls: list[int] = []
    real = use_compiled.scan

    def counting(*args: Any) -> list[int]:
        calls.append(1)
        result: list[int] = real(*args)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(use_compiled, "scan", counting)
        assert let_through(buf, spans, compiled=True) == [buf[27:-2]]
        assert calls == [1]
        assert let_through(buf, spans, compiled=False) == [buf[27:-2]]
        assert calls == [1]  # compiled=False: the Python loop, as where the helper is not built


@settings(max_examples=200, deadline=None)
@given(title=st.binary(max_size=80))
def test_title_keys_are_the_titlesets(compiled: ModuleType, title: bytes) -> None:
    assert compiled.title_key(title) == key_of(title)


def stream_batches(body: bytes, cuts: list[int]) -> Iterator[EventBatch | None]:
    stream = EventStream("http://x", UA, "commonswiki", matcher(), last_event_id=None, last_event_time=None)
    bounds = [0, *sorted(c % (len(body) + 1) for c in cuts), len(body)]
    for a, b in itertools.pairwise(bounds):
        yield stream.ingest(body[a:b])[0]


def eventstreams_body(n: int = 600) -> bytes:
    """Events varied from the captures, as EventStreams frames them, some of them about tracked files."""
    frames = [b":ok\n\n"]
    for i, ev in enumerate(replay(n, seed=7)):
        if i % 29 == 0:
            ev["title"] = TITLES[i % len(TITLES)]
            ev["wiki"] = "commonswiki"
        if ev.get("log_type") == "upload" and i % 3 == 0:
            ev["user"] = USERS[0]
        data = json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
        frames.append(f'event: message\nid: [{{"offset":{i}}}]\ndata: {data}\n\n'.encode())
    return b"".join(frames)


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=1 << 16), max_size=12))
def test_the_stream_gives_the_same_batches_either_way(vectors: ModuleType, cuts: list[int]) -> None:
    body = eventstreams_body()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(native, "fastscan", None)
        pure = list(stream_batches(body, cuts))
        patch.setattr(native, "fastscan", vectors)
        fast = list(stream_batches(body, cuts))
    assert fast == pure
    assert any(b is not None and b.events for b in pure)  # the capture does hold candidates


def test_pure_python_is_switched_on_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHER_PURE_PYTHON", "1")
    monkeypatch.setattr(native, "fastscan", native._usable(native._compiled))
    assert native.fastscan is None
    assert native.describe().startswith("pure Python")
