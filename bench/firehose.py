"""A loopback EventStreams firehose for the ingest benchmark, in its own process.

It serves a prepared body (``event: message`` / ``id:`` / ``data:`` records, ids in EventStreams'
topic-partition shape) as fast as the reader takes it: ``:ok`` first, then the records in chunked
transfer encoding, each chunk sent with ``sendfile`` so that the server costs next to nothing and
the reader is what is measured. It honours ``Last-Event-ID`` (the ``offset`` of our topic, as the
stand-in writes it), so a client that reconnects is served from where it was; after the last record
the connection stays open, as the real stream does, until the client closes it.

For every connection it notes when the first event byte was handed to the kernel and when the last
one was: that interval is the benchmark's measure for every client alike (the daemon, the bare
client, the raw read), and ``GET /_firehose/state`` returns it as JSON.

    python -m bench.firehose --body FILE --index FILE [--port N] [--limit N]

``--index`` holds the byte offset of each record in the body (``array('Q')``, native order).
``--limit N``: a connection that starts before record N ends after record N-1 (the benchmark's
clients all read the first N); one that resumes at N or later gets the rest, so a restarted daemon
has events left to take.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from array import array
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STREAM_PATH = "/v2/stream/recentchange"
TOPIC = "eqiad.mediawiki.recentchange"
CHUNK = 1 << 18  # bytes per HTTP chunk, as the loopback stand-in writes them for the benchmarks
_OFFSET = re.compile(
    r'"topic"\s*:\s*"' + re.escape(TOPIC) + r'"\s*,\s*"partition"\s*:\s*0\s*,\s*"offset"\s*:\s*(-?\d+)'
)


@dataclass
class Connection:
    number: int
    user_agent: str
    last_event_id: str | None
    start: int  # index of the first record served
    end: int  # index after the last record served
    first_byte: float | None = None  # time.monotonic() before the first event byte went out
    last_byte: float | None = None  # ... after the last one did
    bytes: int = 0  # event bytes sent (the body's, without HTTP framing)
    closed: float | None = None  # when the client went away

    @property
    def seconds(self) -> float | None:
        if self.first_byte is None or self.last_byte is None:
            return None
        return self.last_byte - self.first_byte


class Firehose:
    def __init__(self, body: Path, offsets: array[int], *, limit: int | None = None) -> None:
        self.body = body
        self.size = body.stat().st_size
        self.offsets = offsets
        self.limit = limit
        self.connections: list[Connection] = []
        self.stream_requests = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def __len__(self) -> int:
        return len(self.offsets)

    def byte_at(self, index: int) -> int:
        return self.offsets[index] if index < len(self.offsets) else self.size

    def serve_forever(self, listener: socket.socket) -> None:
        listener.settimeout(0.2)
        while not self._stopping.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(sock,), daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()

    # -- one connection -----------------------------------------------------------------------------

    def _handle(self, sock: socket.socket) -> None:
        with contextlib.closing(sock):
            try:
                head = _read_head(sock)
            except OSError:
                return
            if head is None:
                return
            path, headers = head
            if path.split("?", 1)[0] == "/_firehose/state":
                _send_json(sock, self.state())
            elif path.split("?", 1)[0] == STREAM_PATH:
                self._stream(sock, headers)
            else:
                sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def _stream(self, sock: socket.socket, headers: dict[str, str]) -> None:
        last_id = headers.get("last-event-id")
        start = 0
        if last_id:
            match = _OFFSET.search(last_id)
            if match is None:
                sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            start = min(max(int(match.group(1)), 0), len(self))
        with self._lock:
            self.stream_requests += 1
            end = len(self)
            if self.limit is not None and start < self.limit:
                end = min(end, self.limit)
            conn = Connection(
                len(self.connections) + 1, headers.get("user-agent", ""), last_id, start, max(start, end)
            )
            self.connections.append(conn)
        sock.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n:ok\n\n\r\n"
        )
        try:
            with self.body.open("rb") as body:
                pos, stop = self.byte_at(conn.start), self.byte_at(conn.end)
                conn.first_byte = time.monotonic()
                while pos < stop:
                    n = min(CHUNK, stop - pos)
                    sock.sendall(b"%x\r\n" % n)
                    sent = 0
                    while sent < n:
                        sent += sock.sendfile(body, pos + sent, n - sent)
                    sock.sendall(b"\r\n")
                    pos += n
                    conn.bytes += n
                conn.last_byte = time.monotonic()
            # The stream stays open after the last record, as EventStreams does; wait for the close.
            sock.settimeout(0.2)
            while not self._stopping.is_set():
                try:
                    if not sock.recv(4096):
                        break
                except TimeoutError:
                    continue
        except OSError:
            pass
        finally:
            conn.closed = time.monotonic()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "events": len(self),
                "bytes": self.size,
                "now": time.monotonic(),
                "connections": [asdict(c) | {"seconds": c.seconds} for c in self.connections],
            }


def _read_head(sock: socket.socket) -> tuple[str, dict[str, str]] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            return None
        data += more
        if len(data) > 1 << 20:
            return None
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return parts[1], headers


def _send_json(sock: socket.socket, value: Any) -> None:
    body = json.dumps(value).encode()
    sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
        % len(body)
        + body
    )


def load_offsets(path: Path) -> array[int]:
    offsets = array("Q")
    offsets.frombytes(path.read_bytes())
    return offsets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.firehose", description=__doc__.split("\n")[0])
    ap.add_argument("--body", type=Path, required=True)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    hose = Firehose(args.body, load_offsets(args.index), limit=args.limit)
    listener = socket.create_server((args.host, args.port))
    signal.signal(signal.SIGTERM, lambda *_: hose.stop())
    signal.signal(signal.SIGINT, lambda *_: hose.stop())
    host, port = listener.getsockname()[:2]
    print(f"listening on http://{host}:{port}{STREAM_PATH} ({len(hose)} events)", flush=True)
    try:
        hose.serve_forever(listener)
    finally:
        listener.close()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
