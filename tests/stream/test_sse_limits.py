"""Issue 13, item 5: an endless SSE record is dropped unread, in bounded memory and linear time, and
its id never moves the cursor."""

from __future__ import annotations

import logging
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from watcher.stream.sse import DEFAULT_MAX_RECORD, SSEEvent, SSEParser

BOTH = pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
CHUNK = 64 * 1024
BEFORE = b'event: message\nid: [1]\ndata: {"n": 1}\n\n'
AFTER = b'event: message\nid: [3]\ndata: {"n": 3}\n\nevent: message\nid: [4]\ndata: {"n": 4}\n\n'


def hostile(size: int, eol: bytes = b"\n") -> Iterator[bytes]:
    """A real event, a record whose data line is ``size`` bytes (carrying its own id), then real ones."""
    yield BEFORE
    yield b"event: message" + eol + b"id: [2-hostile]" + eol + b"data: "
    piece = b"x" * CHUNK  # one object, fed again and again: the input itself costs no memory
    for _ in range(size // CHUNK):
        yield piece
    yield eol + eol
    yield AFTER.replace(b"\n", eol)


def run(chunks: Iterator[bytes], parser: SSEParser) -> list[SSEEvent]:
    out: list[SSEEvent] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return out


def real_events(events: list[SSEEvent]) -> list[bytes]:
    return [e.id for e in events]


@BOTH
@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_fifty_megabyte_line_is_dropped_and_the_next_events_survive(
    fast: bool, eol: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    parser = SSEParser(fast=fast)
    with caplog.at_level(logging.WARNING, logger="watcher.stream.sse"):
        events = run(hostile(50 * 1024 * 1024, eol), parser)
    assert real_events(events) == [b"[1]", b"[3]", b"[4]"]
    assert all(len(e.data) < 100 for e in events)
    assert parser.last_event_id == b"[4]"
    assert parser.dropped == 1
    assert any("dropped an event-stream record" in r.getMessage() for r in caplog.records)


@BOTH
def test_the_oversize_record_id_is_never_the_last_event_id(fast: bool) -> None:
    parser = SSEParser(fast=fast, max_record=1024)
    events = run(iter([BEFORE, b"event: message\nid: [2-hostile]\ndata: ", b"y" * 4096]), parser)
    assert real_events(events) == [b"[1]"]
    # Still inside the oversize record: a reconnection must resume after [1], not after [2-hostile].
    assert parser.last_event_id == b"[1]"
    events = run(iter([b"\n\n"]), parser)
    assert events == [] and parser.last_event_id == b"[1]"
    assert real_events(run(iter([AFTER]), parser)) == [b"[3]", b"[4]"]


@BOTH
def test_events_inside_the_oversize_record_are_not_taken(fast: bool) -> None:
    # Without a blank line, everything up to it is one record (the spec's rule): dropped as a whole.
    parser = SSEParser(fast=fast, max_record=1024)
    inner = b"id: [inner]\ndata: hidden\n"
    events = run(iter([BEFORE, b"data: " + b"z" * 2000 + b"\n" + inner, b"\n", AFTER]), parser)
    assert real_events(events) == [b"[1]", b"[3]", b"[4]"]


@BOTH
def test_a_whole_oversize_record_in_one_chunk(fast: bool) -> None:
    parser = SSEParser(fast=fast, max_record=1024)
    big = b"event: message\nid: [2-hostile]\ndata: " + b"q" * 5000 + b"\n\n"
    events = run(iter([BEFORE + big + AFTER]), parser)
    assert real_events(events) == [b"[1]", b"[3]", b"[4]"]
    assert parser.dropped == 1


@BOTH
def test_many_small_lines_add_up_to_the_cap(fast: bool) -> None:
    parser = SSEParser(fast=fast, max_record=4096)
    lines = [b"data: %d\n" % i for i in range(5000)]
    events = run(iter([BEFORE, *lines, b"\n", AFTER]), parser)
    assert real_events(events) == [b"[1]", b"[3]", b"[4]"]
    assert parser.dropped == 1


@BOTH
def test_records_under_the_cap_are_untouched(fast: bool) -> None:
    parser = SSEParser(fast=fast, max_record=4096)
    data = b"w" * 3000
    record = b"event: message\nid: [2]\ndata: " + data + b"\n\n"
    events = run(iter([BEFORE, record[:1000], record[1000:2000], record[2000:], AFTER]), parser)
    assert real_events(events) == [b"[1]", b"[2]", b"[3]", b"[4]"]
    assert events[1].data == data
    assert parser.dropped == 0


def test_the_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_record"):
        SSEParser(max_record=0)


@BOTH
def test_peak_memory_stays_within_a_few_caps(fast: bool) -> None:
    parser = SSEParser(fast=fast)
    chunks = hostile(50 * 1024 * 1024)
    tracemalloc.start()
    try:
        events = run(chunks, parser)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert real_events(events) == [b"[1]", b"[3]", b"[4]"]
    assert peak < 5 * DEFAULT_MAX_RECORD, peak


@BOTH
def test_time_grows_linearly_with_the_line(fast: bool) -> None:
    def cost(size: int) -> float:
        best = float("inf")
        for _ in range(3):
            parser = SSEParser(fast=fast)
            started = time.perf_counter()
            assert real_events(run(hostile(size), parser)) == [b"[1]", b"[3]", b"[4]"]
            best = min(best, time.perf_counter() - started)
        return best

    small, large = cost(8 * 1024 * 1024), cost(64 * 1024 * 1024)
    # Eight times the bytes: linear work is ~8x, the old quadratic buffering was ~64x.
    assert large < 24 * small + 0.05, (small, large)
