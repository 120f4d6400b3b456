"""The client's chunk-to-batch step (fast SSE runs + byte prefilter) against a plain oracle: the reference
SSE parser, ``json.loads`` of every event and the candidate rule, on random mixes and chunkings."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.support.stream import UA, WIKI, is_candidate, sample_events, titleset
from watcher.stream.client import EventStream
from watcher.stream.prefilter import TitleSetMatcher
from watcher.stream.sse import SSEParser

POOL = [e for e in sample_events() if "meta" in e]
NON_ASCII = [i for i, e in enumerate(POOL) if e["wiki"] == "commonswiki" and not e["title"].isascii()]
USERS = ("1971markus",)

COMMONS = [i for i, e in enumerate(POOL) if e["wiki"] == WIKI]
_INDEX = st.one_of(st.sampled_from(COMMONS), st.integers(0, len(POOL) - 1))
_ITEM = st.one_of(
    st.tuples(
        st.just("event"),
        _INDEX,
        st.sampled_from(["compact", "compact", "escaped", "spaced", "multiline"]),
        st.booleans(),  # track its title
        st.integers(0, 9),  # 0: make it a canary
    ),
    st.tuples(st.just("malformed"), _INDEX),
    st.tuples(st.sampled_from(["comment", "id-only", "retry", "blank"])),
)


def _record(item: tuple[Any, ...], n: int, tracked: list[str]) -> bytes:
    kind = item[0]
    if kind == "comment":
        return b": keep-alive\n\n"
    if kind == "id-only":
        return b"id: [only %d]\n\n" % n
    if kind == "retry":
        return b"retry: 2000\n\n"
    if kind == "blank":
        return b"\n"
    ev = copy.deepcopy(POOL[item[1]])
    ev["meta"]["id"] = f"meta-{n}"
    if kind == "malformed":
        data = json.dumps(ev, ensure_ascii=False, separators=(",", ":")).encode()
        data = data[: len(data) // 2]
    else:
        _, _, style, track, canary = item
        if canary == 0:
            ev["meta"]["domain"] = "canary"
        if track and isinstance(ev.get("title"), str):
            tracked.append(ev["title"])
        if style == "spaced":
            data = json.dumps(ev, ensure_ascii=False).encode()
        else:
            data = json.dumps(ev, ensure_ascii=style == "escaped", separators=(",", ":")).encode()
        if style == "multiline":  # two data lines, joined by the parser with a newline (JSON whitespace)
            data = data.replace(b',"', b',\ndata: "', 1)
    return b"event: message\nid: [%d]\ndata: " % n + data + b"\n\n"


@settings(max_examples=150, deadline=None)
@example(  # every byte-path escape hatch at least once, whatever the random draw
    items=[
        *[("event", i, style, True, 1) for i in NON_ASCII for style in ("escaped", "spaced", "multiline")],
        ("event", NON_ASCII[0], "compact", True, 0),
        ("malformed", NON_ASCII[0]),
        ("comment",),
        ("id-only",),
        ("event", NON_ASCII[-1], "compact", True, 1),
    ],
    crlf=False,
    cuts=[7, 700, 701, 5000],
)
@given(
    items=st.lists(_ITEM, min_size=3, max_size=30),
    crlf=st.booleans(),
    cuts=st.lists(st.integers(0, 200_000), max_size=25),
)
def test_ingest_equals_reference_parse_and_rule(
    items: list[tuple[Any, ...]], crlf: bool, cuts: list[int]
) -> None:
    tracked: list[str] = ["Category:Jetons"]
    stream = b":ok\n\n" + b"".join(_record(item, n, tracked) for n, item in enumerate(items))
    if crlf:
        stream = stream.replace(b"\n", b"\r\n")
    bounds = sorted({c % (len(stream) + 1) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *bounds], [*bounds, len(stream)], strict=True)]

    # The oracle: the spec parser, json.loads, the rule.
    ref = SSEParser(fast=False)
    expected: list[tuple[str, str]] = []
    invalid = 0
    messages = ref.feed(stream)
    for ev in messages:
        try:
            parsed = json.loads(ev.data)
        except ValueError:
            invalid += 1
            continue
        if isinstance(parsed, dict) and is_candidate(parsed, tracked, USERS):
            expected.append((ev.id.decode(), parsed["meta"]["id"]))

    matcher = TitleSetMatcher(titleset(*tracked), titleset(*USERS))
    client = EventStream("http://x", UA, WIKI, matcher, last_event_id=None, last_event_time=None)
    got: list[tuple[str, str]] = []
    seen = malformed = 0
    last_id = None
    for chunk in chunks:
        batch, error = client.ingest(chunk)
        assert error is None
        if batch is not None:
            got += [(e.id, e.data["meta"]["id"]) for e in batch.events]
            seen += batch.seen
            malformed += batch.malformed
            last_id = batch.last_id or last_id
    assert got == expected
    assert seen == len(messages)
    assert (last_id or "") == ref.last_event_id.decode()
    assert malformed <= invalid
