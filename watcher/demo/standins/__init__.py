"""Loopback stand-ins for the services the watcher talks to (tests, benchmarks, ``watcher demo``)."""

from __future__ import annotations

import asyncio
import signal
from types import TracebackType
from typing import Self

from aiohttp import web


class LoopbackSite:
    """An aiohttp server on a loopback address, started and closed the same way by every stand-in that
    serves at one path: :meth:`start` returns (and sets) ``url``; ``async with`` starts and closes it.

    A subclass sets ``host``, ``port`` and ``path`` and adds its routes in :meth:`routes`.
    """

    host: str
    port: int
    path: str
    url: str = ""
    _runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> str:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}{self.path}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def until_signalled() -> None:
    """Wait for SIGTERM or SIGINT: how a stand-in run as its own process (`python -m …`) ends."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
