"""A candidate that changes the tracked set ends its batch, so the rest of the chunk sees the change."""

from __future__ import annotations

import json
from typing import Any

from tests.support.stream import UA, WIKI, titleset
from watcher.stream.client import EventStream
from watcher.stream.prefilter import TitleSetMatcher

CATEGORY = "Category:Media contributed by Example Museum"
NEWCOMER = "File:Newcomer.jpg"


def event(n: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "$schema": "/mediawiki/recentchange/1.0.0",
        "meta": {"id": f"m-{n}", "dt": f"2026-03-01T10:00:{n:02d}.000Z", "domain": "commons.wikimedia.org"},
        "id": 1000 + n,
        "namespace": 6,
        "timestamp": 1772359200 + n,
        "user": "Volunteer",
        "bot": False,
        "wiki": WIKI,
    }
    return {**base, **fields}


def frame(n: int, data: dict[str, Any]) -> bytes:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return b'event: message\nid: [{"offset":%d}]\ndata: %s\n\n' % (n, body)


def chunk_of(*events: dict[str, Any]) -> bytes:
    return b":ok\n\n" + b"".join(frame(n, e) for n, e in enumerate(events))


def client(matcher: TitleSetMatcher) -> EventStream:
    return EventStream("http://x", UA, WIKI, matcher, last_event_id=None, last_event_time=None)


JOIN = event(1, type="categorize", namespace=14, title=CATEGORY, comment=f"[[:{NEWCOMER}]] added to category")
EDIT = event(2, type="edit", title=NEWCOMER, revision={"old": 1, "new": 2}, comment="fr")
NOISE = event(3, type="edit", title="File:Unrelated.jpg", revision={"old": 5, "new": 6})


def test_the_rest_of_a_chunk_is_filtered_after_the_consumer_applied_a_join() -> None:
    titles = titleset(CATEGORY)
    stream = client(TitleSetMatcher(titles, titleset()))
    batches = []
    for batch, error in stream._batches_of(stream._parser.feed_segments(chunk_of(NOISE, JOIN, EDIT, NOISE))):
        assert error is None and batch is not None
        batches.append(batch)
        for ev in batch.events:  # the consumer: a join adds the file to the tracked set
            if ev.data["type"] == "categorize":
                titles.add(NEWCOMER)
    assert [[e.data["id"] for e in b.events] for b in batches] == [[JOIN["id"]], [EDIT["id"]]]
    assert [b.last_id for b in batches] == ['[{"offset":1}]', '[{"offset":3}]']
    assert sum(b.seen for b in batches) == 4


def test_without_the_consumer_the_edit_would_not_be_a_candidate() -> None:
    """The control: the same chunk filtered in one go, the set unchanged, misses the edit."""
    stream = client(TitleSetMatcher(titleset(CATEGORY), titleset()))
    batch, error = stream.ingest(chunk_of(NOISE, JOIN, EDIT, NOISE))
    assert error is None and batch is not None
    assert [e.data["id"] for e in batch.events] == [JOIN["id"]]
    assert batch.seen == 4 and batch.last_id == '[{"offset":3}]'


def test_a_plain_edit_never_splits_a_batch() -> None:
    stream = client(TitleSetMatcher(titleset(NEWCOMER), titleset()))
    parts = list(stream._batches_of(stream._parser.feed_segments(chunk_of(EDIT, NOISE, EDIT))))
    assert len(parts) == 1
