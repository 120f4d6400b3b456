"""EventStreams ingest: SSE parsing, the byte-level prefilter and the reconnecting client.

Owns: ``sse`` (the parser), ``prefilter`` and ``titleset`` (which events can concern us, from their
bytes), ``client`` (the connection, resumed and filtered), ``events`` (an event's meaning), and the
compiled helper for the two hot loops: ``_fastscan.pyx`` / ``_fastscan_keys.h`` (built by ``build``,
found or refused by ``native``; without it the same loops run in Python).
"""

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
