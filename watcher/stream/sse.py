"""Incremental Server-Sent Events parser (WHATWG HTML, "Parsing an event stream"), bytes in, events out.

Everything stays in bytes: the field names and line ends the spec cares about are ASCII, so splitting the
raw bytes gives the same fields as decoding the stream first, and the caller decodes (or, for most
events, never decodes) the data itself. Use ``data.decode("utf-8", "replace")`` for the spec's string.

Two paths give identical results (a hypothesis test holds them to it):

* the reference path follows the spec line by line (CR, LF, CRLF, a CR at the end of one chunk and its
  LF at the start of the next, comments, ``retry``, a BOM, multi-line data);
* the fast path handles what EventStreams actually sends, ``event: message\\nid: …\\ndata: …\\n\\n``
  records with LF endings: four ``find``/``startswith`` calls a record, no per-line work, and no object
  per event (:meth:`SSEParser.feed_segments` returns them as :class:`Run` s of offsets into the chunk).
  A chunk holding a CR or a NUL goes to the reference path whole; any other record out of that shape
  (the ``:ok`` comment, another field, a second data line) goes to it on its own.

A record is capped (``max_record`` bytes, 512 KiB unless told; EventStreams' events are a few KiB): a
longer one is dropped with a warning as soon as it passes the cap, never dispatched, and its ``id:``
never becomes the last event id, so a reconnection never resumes past events hidden inside it. The
parser then skips to the record's blank line and carries on. Buffering stays linear: an unfinished
record is kept as a list of chunks, joined once when it ends, and only the new chunk is searched.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import NamedTuple

from watcher.stream import native

__all__ = ["DEFAULT_MAX_RECORD", "Run", "SSEEvent", "SSEParser", "clean_of", "record_id", "run_of"]

DEFAULT_MAX_RECORD = 512 * 1024
log = logging.getLogger(__name__)

_BOM = b"\xef\xbb\xbf"
_EOL = re.compile(rb"\r\n?|\n")
_FAST_HEAD = b"event: message\nid: "


class SSEEvent(NamedTuple):
    """One dispatched event. A tuple because the stream makes hundreds of thousands of them."""

    type: str
    data: bytes
    id: bytes


class Run(NamedTuple):
    """Consecutive ``message`` records in EventStreams' shape, as spans of one buffer: the data of
    record k is ``buf[spans[2k]:spans[2k + 1]]`` and its id is :func:`record_id` of its data start.
    (A list from the Python loop, an ``array('q')`` from the compiled helper.)"""

    buf: bytes
    spans: Sequence[int]


def record_id(buf: bytes, data_start: int) -> bytes:
    """The id of the run record whose data starts at ``data_start`` (its own ``id:`` line)."""
    id_end = data_start - 7  # "\ndata: "
    return buf[buf.rfind(b"\nid: ", 0, id_end) + 5 : id_end]


def clean_of(buf: bytes) -> bool:
    """Whether ``buf`` holds neither CR nor NUL, the fast path's condition (two memchr passes; the
    compiled helper's ``clean`` makes it one)."""
    return b"\r" not in buf and b"\0" not in buf


def run_of(buf: bytes, pos: int, limit: int) -> tuple[Sequence[int], int]:
    """From ``pos``, the data spans of consecutive ``event: message\nid: X\ndata: Y\n\n`` records of at
    most ``limit`` bytes each, and the position after them: the fast path's inner loop (the compiled
    helper's ``walk`` is the same loop in C)."""
    find = buf.find
    starts_with = buf.startswith
    head = _FAST_HEAD
    n = len(buf)
    spans: list[int] = []
    append = spans.append
    while starts_with(head, pos):
        nl = find(b"\n", pos + 19)  # len(head)
        if nl < 0 or not starts_with(b"data: ", nl + 1):
            break
        end = find(b"\n", nl + 7)
        if end < 0 or end + 1 >= n or buf[end + 1] != 0x0A or end + 2 - pos > limit:
            break
        append(nl + 7)
        append(end)
        pos = end + 2
    return spans, pos


class SSEParser:
    """Feed it the body bytes chunk by chunk; it returns the events each chunk completes.

    ``last_event_id`` is the spec's "last event ID string": what a reconnection sends as
    ``Last-Event-ID``. It changes only when an event is dispatched (even one with no data).
    ``retry`` is the last valid ``retry:`` value in milliseconds, if any. ``dropped`` counts the
    records dropped for passing ``max_record`` bytes (see the module docstring).
    """

    __slots__ = (
        "_at_start",
        "_clean_of",
        "_data",
        "_event",
        "_fast",
        "_head",
        "_id_buf",
        "_line",
        "_line_len",
        "_max",
        "_mid_line",
        "_oversize",
        "_retry",
        "_run_of",
        "_size",
        "_skip_lf",
        "_tail",
        "_tail_len",
        "dropped",
        "last_event_id",
    )

    def __init__(
        self,
        last_event_id: bytes = b"",
        *,
        fast: bool = True,
        max_record: int = DEFAULT_MAX_RECORD,
        compiled: bool = True,
    ) -> None:
        if max_record < 1:
            raise ValueError(f"max_record must be positive, not {max_record}")
        # The fast path's inner loops: the compiled helper's where built (and not refused), else Python's.
        helper = native.fastscan if compiled else None
        self._run_of = helper.walk if helper is not None else run_of
        self._clean_of = helper.clean if helper is not None else clean_of
        self.last_event_id = last_event_id
        self.dropped = 0
        self._max = max_record
        self._retry: int | None = None
        self._fast = fast
        self._id_buf = last_event_id
        self._at_start = True
        self._head = b""
        # Reference-path state: the partial line (as pieces, and their length), whether an LF must
        # be skipped (the previous chunk ended in CR), the data and event-type buffers of the record
        # being read and its size so far; while ``_oversize``, lines are skipped up to a blank one
        # (``_mid_line``: the skipped line has not ended yet).
        self._line: list[bytes] = []
        self._line_len = 0
        self._skip_lf = False
        self._data: list[bytes] = []
        self._event = b""
        self._size = 0
        self._oversize = False
        self._mid_line = False
        # Fast-path state: raw bytes of an unfinished record, starting at a record boundary, as the
        # chunks they came in (never holding "\n\n", CR or NUL), and their total length.
        self._tail: list[bytes] = []
        self._tail_len = 0

    @property
    def retry(self) -> int | None:
        retry = self._retry
        tail = b"".join(self._tail)
        if b"retry" in tail:
            # The fast path holds an unfinished record raw; its finished lines already count.
            for line in tail[: tail.rfind(b"\n") + 1].split(b"\n"):
                name, colon, value = line.partition(b":")
                value = value[1:] if colon and value.startswith(b" ") else value
                if name == b"retry" and value.isdigit():
                    retry = int(value)
        return retry

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """The events this chunk completes."""
        out: list[SSEEvent] = []
        for seg in self.feed_segments(chunk):
            if isinstance(seg, Run):
                buf, spans = seg
                for k in range(0, len(spans), 2):
                    out.append(SSEEvent("message", buf[spans[k] : spans[k + 1]], record_id(buf, spans[k])))
            else:
                out.append(seg)
        return out

    def feed_segments(self, chunk: bytes) -> list[SSEEvent | Run]:
        """Like :meth:`feed`, but EventStreams-shaped records come as :class:`Run` s, not one by one.

        The stream's hot path: a run costs no object per event, only two ints.
        """
        if self._at_start:
            chunk = self._strip_bom(chunk)
            if self._at_start:
                return []
        out: list[SSEEvent | Run] = []
        if not self._fast:
            out.extend(self._feed_reference(chunk))
            return out
        if not self._clean():
            # The reference path holds a partial record. Any input ending in "\n\n" leaves it at a
            # record boundary (the last LF ends an empty line), so give it up to the first one.
            cut = chunk.find(b"\n\n")
            if cut < 0:
                out.extend(self._feed_reference(chunk))
                return out
            out.extend(self._feed_reference(chunk[: cut + 2]))
            chunk = chunk[cut + 2 :]
        if self._tail:
            if not chunk:
                return out
            # Only the new chunk can end the unfinished record: search it alone, and keep it aside
            # (no copy) unless the record ends here or the chunk needs the reference path.
            across = self._tail[-1].endswith(b"\n") and chunk.startswith(b"\n")
            ends = across or b"\n\n" in chunk
            clean = self._clean_of(chunk)
            if not ends and clean:
                self._tail.append(chunk)
                self._tail_len += len(chunk)
                if self._tail_len > self._max:
                    self._drop_tail(chunk.endswith(b"\n"))
                return out
            if clean:
                # The unfinished record ends at the chunk's first blank line: join only up to there (the
                # tail never holds one), then read the rest of the chunk in place, with no copy of it.
                cut = 1 if across else chunk.find(b"\n\n") + 2
                self._tail.append(chunk[:cut])
                head = b"".join(self._tail)
                self._tail = []
                self._tail_len = 0
                self._walk(head, out)
                self._walk(chunk, out, cut)
                return out
            self._tail.append(chunk)
            buf = b"".join(self._tail)
            self._tail = []
            self._tail_len = 0
        else:
            buf = chunk
        if not self._clean_of(buf):  # CR and NUL are absent from EventStreams' output
            out.extend(self._feed_reference(buf))
            return out
        self._walk(buf, out)
        return out

    def end(self) -> None:
        """End of stream: the spec discards an unfinished record."""
        self._line = []
        self._line_len = 0
        self._skip_lf = False
        self._data = []
        self._event = b""
        self._size = 0
        self._oversize = False
        self._mid_line = False
        self._tail = []
        self._tail_len = 0

    def _warn_dropped(self) -> None:
        self.dropped += 1
        log.warning(
            "dropped an event-stream record longer than %d bytes without reading it (a broken or hostile"
            " stream?); resuming at the next record, the last event id stays %r",
            self._max,
            self.last_event_id.decode("utf-8", "replace")[:200],
        )

    def _drop_tail(self, at_line_start: bool) -> None:
        """The fast path's unfinished record passed the cap: skip the rest of it on the reference path."""
        self._tail = []
        self._tail_len = 0
        self._start_skipping(mid_line=not at_line_start)

    def _start_skipping(self, *, mid_line: bool) -> None:
        self._line = []
        self._line_len = 0
        self._data = []
        self._event = b""
        self._size = 0
        self._id_buf = self.last_event_id  # the oversize record's own id: never taken
        self._oversize = True
        self._mid_line = mid_line
        self._warn_dropped()

    # -- fast path --------------------------------------------------------------------------------

    def _walk(self, buf: bytes, out: list[SSEEvent | Run], pos: int = 0) -> None:
        """Collect runs of ``event: message\nid: X\ndata: Y\n\n`` records (X, Y without LF; the caller
        has ruled out CR and NUL) from ``pos`` (a record boundary) on, handing anything else to the
        reference path record by record."""
        find = buf.find
        walk = self._run_of
        n = len(buf)
        limit = self._max
        while pos < n:
            spans, pos = walk(buf, pos, limit)
            if spans:
                out.append(Run(buf, spans))
                self.last_event_id = self._id_buf = record_id(buf, spans[-2])
            cut = find(b"\n\n", pos)
            if cut < 0:
                break
            if cut + 2 - pos > limit:  # a whole record past the cap in this buffer: drop it unread
                self._warn_dropped()
            else:
                out.extend(self._feed_reference(buf[pos : cut + 2]))
            pos = cut + 2
        if n - pos > self._max:
            self._start_skipping(mid_line=not buf.endswith(b"\n"))
        elif pos < n:
            self._tail = [buf[pos:]]
            self._tail_len = n - pos

    def _clean(self) -> bool:
        return not (self._line or self._skip_lf or self._data or self._event or self._size or self._oversize)

    # -- reference path ---------------------------------------------------------------------------

    def _strip_bom(self, chunk: bytes) -> bytes:
        head = self._head + chunk
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._head = head
            return b""
        self._at_start = False
        self._head = b""
        return head[len(_BOM) :] if head.startswith(_BOM) else head

    def _feed_reference(self, chunk: bytes) -> list[SSEEvent]:
        out: list[SSEEvent] = []
        pos = 0
        if self._skip_lf:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                pos = 1
        limit = self._max
        for m in _EOL.finditer(chunk, pos):
            start, stop = m.span()
            if (
                stop == len(chunk) and stop - start == 1 and chunk[start] == 0x0D
            ):  # a lone CR at the end: its LF may follow
                self._skip_lf = True
            if self._oversize:
                # Skipping a dropped record: only its blank line matters.
                if start == pos and not self._mid_line:
                    self._oversize = False
                self._mid_line = False
                pos = stop
                continue
            length = self._line_len + start - pos
            if self._size + length > limit:
                self._start_skipping(mid_line=False)
                pos = stop
                continue
            line = chunk[pos:start]
            if self._line:
                self._line.append(line)
                line = b"".join(self._line)
                self._line = []
                self._line_len = 0
            pos = stop
            self._process_line(line, out)
        if pos < len(chunk):
            if self._oversize:
                self._mid_line = True
            elif self._size + self._line_len + len(chunk) - pos > limit:
                self._start_skipping(mid_line=True)
            else:
                self._line.append(chunk[pos:])
                self._line_len += len(chunk) - pos
        return out

    def _process_line(self, line: bytes, out: list[SSEEvent]) -> None:
        if not line:
            self._size = 0
            self._dispatch(out)
            return
        self._size += len(line) + 1  # the record's raw size, comments included, as the fast path counts
        if line[0] == 0x3A:  # ':' comment
            return
        name, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value
        elif name == b"id":
            if b"\0" not in value:
                self._id_buf = value
        elif name == b"retry" and value.isdigit():  # bytes.isdigit(): ASCII digits only, as the spec asks
            self._retry = int(value)

    def _dispatch(self, out: list[SSEEvent]) -> None:
        self.last_event_id = self._id_buf
        if not self._data:
            self._event = b""
            return
        data = b"\n".join(self._data)
        event_type = self._event.decode("utf-8", "replace") if self._event else "message"
        self._data = []
        self._event = b""
        out.append(SSEEvent(event_type, data, self.last_event_id))
