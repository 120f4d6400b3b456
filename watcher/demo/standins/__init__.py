"""Loopback stand-ins for the services the watcher talks to (tests, benchmarks, ``watcher demo``)."""

from __future__ import annotations

import asyncio
import signal


async def until_signalled() -> None:
    """Wait for SIGTERM or SIGINT: how a stand-in run as its own process (`python -m …`) ends."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
