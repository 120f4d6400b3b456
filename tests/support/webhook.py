"""A loopback webhook receiver for the push tests: scripted failures, every request recorded.

``script`` is what the next requests get, one item each, then 200 for ever after:
``503`` / ``400`` / any int (that status; ``body`` as the text, ``Retry-After: 0`` on 429/503),
``"reset"`` (the TCP connection reset after the request was read), ``"hang"`` (no answer until the
client gives up or the receiver closes), ``("redirect", URL)`` (a 307 to URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import socket
import struct
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.ports import free_port

Step = int | str | tuple[str, str]


@dataclass(frozen=True)
class Received:
    """One request as it reached the receiver, with the raw body bytes the signature covers."""

    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | str  # the status sent, or "reset" / "hang"

    @property
    def delivery(self) -> str:
        return self.headers.get("X-Watcher-Delivery", "")

    @property
    def payload(self) -> dict[str, Any]:
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data

    def signature_ok(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers.get("X-Watcher-Signature", ""), expected)


@dataclass
class WebhookReceiver:
    script: deque[Step] = field(default_factory=deque)
    body: str = "receiver says no"
    # Called with each request before it is answered (e.g. to SIGKILL the sender meanwhile).
    on_request: Callable[[Received], Awaitable[None]] | None = None
    received: list[Received] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    _runner: web.AppRunner | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def answer(self, steps: Iterable[Step]) -> None:
        self.script.extend(steps)

    def taken(self) -> list[Received]:
        """The requests answered 2xx, in arrival order."""
        return [r for r in self.received if isinstance(r.answered, int) and 200 <= r.answered < 300]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        step: Step = self.script.popleft() if self.script else 200
        answered: int | str = step if isinstance(step, int | str) else 307
        got = Received(request.path, dict(request.headers), body, answered)
        self.received.append(got)
        if self.on_request is not None:
            await self.on_request(got)
        if step == "reset":
            transport = request.transport
            if transport is not None:
                sock = transport.get_extra_info("socket")
                if sock is not None:  # SO_LINGER 0: close sends RST, not FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
            return web.Response(status=500)
        if step == "hang":
            await self._hang()
            return web.Response(status=500)
        if isinstance(step, tuple):
            return web.Response(status=307, headers={"Location": step[1]})
        assert isinstance(step, int)
        headers = {"Retry-After": "0"} if step in (429, 503) else {}
        return web.Response(status=step, text="ok" if step < 300 else self.body, headers=headers)

    async def _hang(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), timeout=60)
