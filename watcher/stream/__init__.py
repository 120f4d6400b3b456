"""EventStreams ingest: SSE parsing, the byte-level prefilter and the reconnecting client."""

from watcher.stream.client import EventBatch, EventStream, StreamEvent, StreamStats
from watcher.stream.prefilter import Matcher, Prefilter, TitleSetMatcher
from watcher.stream.sse import SSEEvent, SSEParser

__all__ = [
    "EventBatch",
    "EventStream",
    "Matcher",
    "Prefilter",
    "SSEEvent",
    "SSEParser",
    "StreamEvent",
    "StreamStats",
    "TitleSetMatcher",
]
