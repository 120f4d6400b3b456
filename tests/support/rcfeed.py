"""MediaWiki's own JSON RC feed (UDP) served as a Wikimedia EventStreams ``recentchange`` stream.

A real MediaWiki with ``$wgRCFeeds`` and ``JSONRCFeedFormatter`` sends one JSON datagram per recent
change. Wikimedia's pipeline (EventBus → Kafka → EventStreams) adds what the raw feed lacks, and this
bridge does the same in miniature so the daemon can follow a real wiki unchanged: ``$schema``,
``meta`` (uuid ``id``, ``dt``, ``domain``, ``stream``, ``topic``, ``partition``, ``offset``),
``title_url``/``notify_url``, and no ``revision.old``/``length.old`` where the feed writes ``null``
(EventStreams omits them on page creation). Serving, ids (the JSON array with the timestamp entry),
``Last-Event-ID`` and ``since`` are :class:`~watcher.demo.standins.eventstreams.EventStreamsStandIn`'s.

In-process::

    async with RcFeedBridge() as bridge:   # bridge.udp_port for $wgRCFeeds, bridge.url for the daemon
        ...

As a process: ``python -m tests.support.rcfeed --udp-port 9390 --port 8090``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

from watcher.demo.standins import until_signalled
from watcher.demo.standins.eventstreams import EventStreamsStandIn

__all__ = ["RcFeedBridge", "feed_to_event", "main"]

log = logging.getLogger(__name__)

SCHEMA = "/mediawiki/recentchange/1.0.0"


def feed_to_event(
    datagram: dict[str, Any], *, dt_ms: int, topic: str = "eqiad.mediawiki.recentchange"
) -> dict[str, Any]:
    """The EventStreams shape of one RC feed datagram; ``dt_ms`` becomes ``meta.dt`` (epoch ms)."""
    event = dict(datagram)
    server = str(event.get("server_url") or "")
    script = str(event.get("server_script_path") or "/w")
    title = str(event.get("title") or "")
    page_url = f"{server}/wiki/{quote(title.replace(' ', '_'))}"
    moment = datetime.fromtimestamp(dt_ms / 1000, UTC)
    event.pop("$schema", None)
    event.pop("meta", None)
    out: dict[str, Any] = {
        "$schema": SCHEMA,
        "meta": {
            "uri": page_url,
            "request_id": str(uuid.uuid4()),
            "id": str(uuid.uuid4()),
            "dt": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "domain": str(event.get("server_name") or "localhost"),
            "stream": "mediawiki.recentchange",
            "topic": topic,
            "partition": 0,
        },
        **event,
    }
    for key in ("revision", "length"):
        pair = out.get(key)
        if isinstance(pair, dict) and pair.get("old") is None:
            out[key] = {k: v for k, v in pair.items() if k != "old"}
    out.setdefault("title_url", page_url)
    revision = out.get("revision")
    if out.get("type") == "edit" and isinstance(revision, dict) and "notify_url" not in out:
        out["notify_url"] = (
            f"{server}{script}/index.php?diff={revision.get('new')}&oldid={revision.get('old')}&rcid={out.get('id')}"
        )
    return out


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes], None]) -> None:
        self.on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.on_datagram(data)


class RcFeedBridge:
    """Receives the UDP JSON RC feed and publishes each datagram, converted, on an EventStreams stand-in."""

    def __init__(
        self,
        *,
        udp_host: str = "127.0.0.1",
        udp_port: int = 0,
        stream: EventStreamsStandIn | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.udp_host = udp_host
        self.udp_port = udp_port
        self.stream = stream or EventStreamsStandIn()
        self.clock = clock
        self.received: list[dict[str, Any]] = []  # the datagrams as MediaWiki sent them
        self.rejected: list[bytes] = []  # datagrams that were not a JSON object
        self._last_ms = 0
        self._transport: asyncio.DatagramTransport | None = None

    @property
    def url(self) -> str:
        return self.stream.url

    async def start(self) -> None:
        await self.stream.start()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Receiver(self._on_datagram), local_addr=(self.udp_host, self.udp_port)
        )
        self._transport = transport
        self.udp_port = transport.get_extra_info("sockname")[1]

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        await self.stream.stop()

    async def __aenter__(self) -> RcFeedBridge:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def _on_datagram(self, data: bytes) -> None:
        try:
            datagram = json.loads(data)
        except ValueError:
            datagram = None
        if not isinstance(datagram, dict):
            self.rejected.append(data)
            log.warning("RC feed datagram is not a JSON object: %r", data[:200])
            return
        # meta.dt: the time the change reached the pipeline, strictly increasing so that `since` and
        # timestamp ids always find one position (MediaWiki's own timestamp has 1 s resolution).
        ms = max(round(self.clock() * 1000), self._last_ms + 1)
        self._last_ms = ms
        self.received.append(datagram)
        self.stream.publish(feed_to_event(datagram, dt_ms=ms, topic=self.stream.topic))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m tests.support.rcfeed", description=__doc__.split("\n")[0])
    ap.add_argument("--udp-host", default="127.0.0.1")
    ap.add_argument("--udp-port", type=int, default=9390)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)

    async def run() -> None:
        bridge = RcFeedBridge(
            udp_host=args.udp_host,
            udp_port=args.udp_port,
            stream=EventStreamsStandIn(host=args.host, port=args.port),
        )
        await bridge.start()
        print(f"RC feed on udp://{bridge.udp_host}:{bridge.udp_port}, serving {bridge.url}", flush=True)
        await until_signalled()
        await bridge.stop()

    asyncio.run(run())


if __name__ == "__main__":
    main()
