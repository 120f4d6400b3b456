"""The SSE parser against the WHATWG rules, the real captures, and its own reference path."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.support.stream import CODFW_SSE, EQIAD_SSE
from watcher.stream.sse import SSEEvent, SSEParser


def parse(*chunks: bytes, fast: bool = True, last_id: bytes = b"") -> tuple[list[SSEEvent], SSEParser]:
    p = SSEParser(last_id, fast=fast)
    out: list[SSEEvent] = []
    for c in chunks:
        out += p.feed(c)
    return out, p


def datas(*chunks: bytes) -> list[bytes]:
    return [e.data for e in parse(*chunks)[0]]


BOTH = pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])


# -- the spec's own examples ----------------------------------------------------------------------


@BOTH
def test_spec_example_multiline_data(fast: bool) -> None:
    events, _ = parse(b"data: YHOO\ndata: +2\ndata: 10\n\n", fast=fast)
    assert events == [SSEEvent("message", b"YHOO\n+2\n10", b"")]


@BOTH
def test_spec_example_comments_and_ids(fast: bool) -> None:
    stream = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"
    events, p = parse(stream, fast=fast)
    assert events == [
        SSEEvent("message", b"first event", b"1"),
        SSEEvent("message", b"second event", b""),
        SSEEvent("message", b" third event", b""),
    ]
    assert p.last_event_id == b""


@BOTH
def test_spec_example_empty_data_and_unterminated(fast: bool) -> None:
    # "data" alone adds an empty line: the first record dispatches "", the second "\n"; the last has no
    # blank line after it and is never dispatched.
    events, _ = parse(b"data\n\ndata\ndata\n\ndata:", fast=fast)
    assert [e.data for e in events] == [b"", b"\n"]


@BOTH
def test_spec_example_space_after_colon_optional(fast: bool) -> None:
    assert [e.data for e in parse(b"data:test\n\ndata: test\n\n", fast=fast)[0]] == [b"test", b"test"]


# -- line endings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"], ids=["LF", "CR", "CRLF"])
@BOTH
def test_every_line_ending(eol: bytes, fast: bool) -> None:
    text = b"event: add" + eol + b"id: 7" + eol + b"data: a" + eol + b"data: b" + eol + eol
    events, p = parse(text, fast=fast)
    assert events == [SSEEvent("add", b"a\nb", b"7")]
    assert p.last_event_id == b"7"


@BOTH
def test_mixed_line_endings(fast: bool) -> None:
    events, _ = parse(b"data: a\rdata: b\r\ndata: c\n\r\ndata: d\r\r", fast=fast)
    assert [e.data for e in events] == [b"a\nb\nc", b"d"]


@BOTH
def test_cr_at_chunk_end_and_lf_at_next_start_are_one_line_end(fast: bool) -> None:
    # Were the LF taken as a line end of its own, it would be a blank line and dispatch "a" alone.
    events, _ = parse(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n", fast=fast)
    assert [e.data for e in events] == [b"a\nb"]


@BOTH
def test_cr_at_chunk_end_followed_by_cr_is_a_blank_line(fast: bool) -> None:
    events, _ = parse(b"data: a\r", b"\rdata: b\n\n", fast=fast)
    assert [e.data for e in events] == [b"a", b"b"]


# -- fields -------------------------------------------------------------------------------------


@BOTH
def test_only_one_leading_space_is_removed(fast: bool) -> None:
    assert datas(b"data:  two\n\ndata:\ttab\n\ndata:none\n\n") == [b" two", b"\ttab", b"none"]
    assert parse(b"data:  two\n\n", fast=fast)[0][0].data == b" two"


@BOTH
def test_colon_in_value_is_kept(fast: bool) -> None:
    assert parse(b'data: {"a":"b:c"}\n\n', fast=fast)[0][0].data == b'{"a":"b:c"}'


@BOTH
def test_event_type_resets_after_dispatch(fast: bool) -> None:
    events, _ = parse(b"event: add\ndata: 1\n\ndata: 2\n\nevent: gone\n\ndata: 3\n\n", fast=fast)
    assert [(e.type, e.data) for e in events] == [("add", b"1"), ("message", b"2"), ("message", b"3")]


@BOTH
def test_id_persists_across_events_and_is_committed_without_data(fast: bool) -> None:
    events, p = parse(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\n\n", fast=fast)
    assert [(e.data, e.id) for e in events] == [(b"a", b"1"), (b"b", b"1")]
    assert p.last_event_id == b"2"  # an id-only record moves the cursor without an event


@BOTH
def test_id_with_nul_is_ignored(fast: bool) -> None:
    events, p = parse(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", fast=fast)
    assert [e.id for e in events] == [b"1", b"1"]
    assert p.last_event_id == b"1"


@BOTH
def test_id_with_nul_is_ignored_in_eventstreams_shaped_records(fast: bool) -> None:
    events, p = parse(b"event: message\nid: 1\ndata: a\n\nevent: message\nid: 2\x00\ndata: b\n\n", fast=fast)
    assert [e.id for e in events] == [b"1", b"1"]
    assert p.last_event_id == b"1"


@BOTH
def test_id_value_that_looks_like_a_field(fast: bool) -> None:
    events, p = parse(b"event: message\nid: x id: y\ndata: id: z\n\n", fast=fast)
    assert events == [SSEEvent("message", b"id: z", b"x id: y")] and p.last_event_id == b"x id: y"


@BOTH
def test_uncommitted_id_is_not_the_last_event_id(fast: bool) -> None:
    _, p = parse(b"id: 1\ndata: a\n\nid: 2\ndata: b\n", fast=fast)
    assert p.last_event_id == b"1"


@BOTH
def test_initial_last_event_id_carries_over(fast: bool) -> None:
    events, _ = parse(b"data: a\n\n", fast=fast, last_id=b"[resume]")
    assert events[0].id == b"[resume]"


@BOTH
def test_retry_digits_only(fast: bool) -> None:
    assert parse(b"retry: 1500\n\n", fast=fast)[1].retry == 1500
    for bad in (b"retry: 15x\n", b"retry: -1\n", b"retry:\n", b"retry: 1.5\n", b"retry: \xd9\xa1\n"):
        assert parse(bad, fast=fast)[1].retry is None, bad
    assert parse(b"retry: 10\nretry: x\n", fast=fast)[1].retry == 10


@BOTH
def test_comments_unknown_fields_and_fieldless_lines(fast: bool) -> None:
    stream = b":ok\n\ndata: a\n: in the middle\nfoo: bar\nDATA: no\ndata\ndata: b\n\n:\n\n"
    assert parse(stream, fast=fast)[0] == [SSEEvent("message", b"a\n\nb", b"")]


@BOTH
def test_bom_stripped_once_at_start_even_split(fast: bool) -> None:
    assert [e.data for e in parse(b"\xef\xbb\xbfdata: x\n\n", fast=fast)[0]] == [b"x"]
    assert [e.data for e in parse(b"\xef", b"\xbb", b"\xbfdata: x\n\n", fast=fast)[0]] == [b"x"]
    # A second BOM is part of the field name, which then is no known field.
    assert parse(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n", fast=fast)[0] == []
    # Not at the start: not a BOM.
    assert parse(b"data: a\n\n\xef\xbb\xbfdata: x\n\n", fast=fast)[0] == [SSEEvent("message", b"a", b"")]


@BOTH
def test_empty_chunks_and_byte_by_byte(fast: bool) -> None:
    stream = b'event: message\nid: 9\ndata: {"x":1}\n\n'
    events, _ = parse(b"", *[stream[i : i + 1] for i in range(len(stream))], b"", fast=fast)
    assert events == [SSEEvent("message", b'{"x":1}', b"9")]


@BOTH
def test_unterminated_record_discarded_at_end(fast: bool) -> None:
    p = SSEParser(fast=fast)
    assert p.feed(b"data: a\n") == []
    p.end()
    assert p.feed(b"\ndata: b\n\n") == [SSEEvent("message", b"b", b"")]


def test_invalid_utf8_passes_through_as_bytes() -> None:
    events, _ = parse(b"data: \xff\xfe ok\n\n")
    assert events[0].data.decode("utf-8", "replace") == "\ufffd\ufffd ok"


# -- the real captures ------------------------------------------------------------------------------


@BOTH
def test_eqiad_capture(fast: bool) -> None:
    raw = EQIAD_SSE.read_bytes()
    events, p = parse(raw, fast=fast)
    assert len(events) == raw.count(b"\nevent: message\n") == 9
    payloads = [json.loads(e.data) for e in events]
    offsets = [ev["meta"]["offset"] for ev in payloads]
    assert offsets == sorted(offsets) and len(set(offsets)) == 9
    for e, ev in zip(events, payloads, strict=True):
        assert e.type == "message"
        stamp = next(entry for entry in json.loads(e.id) if "timestamp" in entry)["timestamp"]
        assert stamp == _ms(ev["meta"]["dt"]) + 1  # the id carries meta.dt + 1 ms
    assert p.last_event_id == events[-1].id
    # Byte by byte and in 7-byte pieces: the same events.
    assert parse(*[raw[i : i + 1] for i in range(len(raw))], fast=fast)[0] == events
    assert parse(*[raw[i : i + 7] for i in range(0, len(raw), 7)], fast=fast)[0] == events


@BOTH
def test_codfw_capture_is_unterminated_and_malformed(fast: bool) -> None:
    raw = CODFW_SSE.read_bytes()
    events, p = parse(raw, fast=fast)
    assert events == [] and p.last_event_id == b""  # no blank line after it: never dispatched
    events, p = parse(raw, b"\n", fast=fast)  # with the missing blank line it dispatches
    assert len(events) == 1 and p.last_event_id.startswith(b'[{"topic":"eqiad.mediawiki.recentchange"')
    payload = json.loads(events[0].data)
    assert "$schema" not in payload and ",[object Object]," in payload  # the blog widget's damage


def _ms(iso: str) -> int:
    from datetime import datetime

    return round(datetime.fromisoformat(iso).timestamp() * 1000)


# -- the fast path and the reference path agree ------------------------------------------------------

_NO_EOL = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))
_FAST_RECORD = st.builds(
    lambda i, d: b"event: message\nid: " + i + b"\ndata: " + d + b"\n\n",
    st.one_of(
        st.integers(0, 10**6).map(lambda i: b"[%d]" % i), _NO_EOL, st.sampled_from([b"[1\x00]", b"a id: b"])
    ),
    _NO_EOL,
)
_ODD_LINE = st.sampled_from(
    [
        b":ok\n",
        b": comment\n",
        b"\n",
        b"\r",
        b"\r\n",
        b"data: x\n",
        b"data\n",
        b"data:\r\n",
        b"data: y\r",
        b"event: error\n",
        b"event: message\n",
        b"id: 5\n",
        b"id: 6\x00\n",
        b"id\n",
        b"retry: 300\n",
        b"retry: 3a\n",
        b"foo: bar\n",
        b"event: message\nid: [2]\ndata: {}\n",
        b"event: message\nid: [3]\ndata: a\ndata: b\n\n",
        b"\xef\xbb\xbf",
        b"\n\n\n",
    ]
)


@settings(max_examples=400, deadline=None)
@example(  # found by hypothesis: a chunk ending in CRLF must not swallow the next chunk's LF
    parts=[b"data: x\n\n", b"data:\r\n", b"\n"], bom=False, cuts=[len(b"data: x\n\ndata:\r\n")]
)
@given(
    parts=st.lists(st.one_of(_FAST_RECORD, _FAST_RECORD, _ODD_LINE), max_size=40),
    bom=st.booleans(),
    cuts=st.lists(st.integers(0, 4000), max_size=30),
)
def test_fast_and_reference_paths_agree(parts: list[bytes], bom: bool, cuts: list[int]) -> None:
    stream = (b"\xef\xbb\xbf" if bom else b"") + b"".join(parts)
    bounds = sorted({c % (len(stream) + 1) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *bounds], [*bounds, len(stream)], strict=True)]
    fast, pf = parse(*chunks, fast=True)
    ref, pr = parse(*chunks, fast=False)
    whole, _ = parse(stream, fast=False)
    assert fast == ref == whole
    assert (pf.last_event_id, pf.retry) == (pr.last_event_id, pr.retry)
    # and they stay in step afterwards
    tail = b"event: message\nid: [t]\ndata: end\n\n"
    assert pf.feed(tail) == pr.feed(tail)
