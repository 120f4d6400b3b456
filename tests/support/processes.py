"""Stopping the child processes the tests start, whatever state a failed test leaves them in."""

from __future__ import annotations

import asyncio
import contextlib


async def stop_process(proc: asyncio.subprocess.Process, limit: float = 10.0) -> int:
    """SIGTERM, up to ``limit`` seconds for the exit, then SIGKILL; the exit code (at once if it has exited)."""
    if proc.returncode is not None:
        return proc.returncode
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        return await asyncio.wait_for(proc.wait(), timeout=limit)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        return await proc.wait()
