"""The sd_notify protocol (systemd.service(5) Type=notify, WatchdogSec=), in a few lines of our own.

The PyPI packages for it are unmaintained (sdnotify: no release since 2017) or need libsystemd headers
(systemd-python); the protocol is one datagram per message to ``$NOTIFY_SOCKET``, as in systemd's
``man/notify-selfcontained-example.py``. Every function is a no-op when the variable is unset (not
under systemd, or ``Type=simple``), and never raises: a lost notification must not stop the daemon.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable

log = logging.getLogger("watcher.systemd")


def _address() -> str | None:
    """Where to send: a filesystem path, or an abstract socket name (``@name`` → ``\\0name``)."""
    path = os.environ.get("NOTIFY_SOCKET", "")
    if not path:
        return None
    if path.startswith("@"):
        return "\0" + path[1:]
    if path.startswith("/"):
        return path
    # systemd 253+ also allows vsock:… addresses, for VMs; nothing here runs in one.
    log.debug("NOTIFY_SOCKET=%s is not a path or abstract name; notifications are off", path)
    return None


def notify(*lines: str) -> bool:
    """Send ``KEY=value`` lines as one datagram; True when it was sent."""
    address = _address()
    if address is None or not lines:
        return False
    message = "\n".join(lines).encode("utf-8")
    try:
        # Non-blocking: a manager that stops reading (a full socket queue) must never stall the
        # event loop, which would also stop the watchdog pings and the stop on SIGTERM.
        with socket.socket(
            socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
        ) as sock:
            sock.connect(address)
            sock.send(message)
    except BlockingIOError:
        log.debug("systemd's notify socket is full; dropped: %s", message[:80])
        return False
    except OSError as exc:
        log.debug("cannot notify systemd at %s: %s", os.environ.get("NOTIFY_SOCKET"), exc)
        return False
    return True


def ready(status_text: str | None = None) -> bool:
    """READY=1: start-up is complete (Type=notify units count as started only now)."""
    lines = ["READY=1"]
    if status_text:
        lines.append(f"STATUS={_one_line(status_text)}")
    return notify(*lines)


def status(text: str) -> bool:
    """STATUS=…: the one line `systemctl status watcher` shows."""
    return notify(f"STATUS={_one_line(text)}")


def stopping(status_text: str | None = None) -> bool:
    """STOPPING=1: shutdown has begun (so systemd does not take the exit for a crash)."""
    lines = ["STOPPING=1"]
    if status_text:
        lines.append(f"STATUS={_one_line(status_text)}")
    return notify(*lines)


def watchdog_ping() -> bool:
    return notify("WATCHDOG=1")


def extend_timeout(seconds: float) -> bool:
    """EXTEND_TIMEOUT_USEC: a long start-up (or shutdown) step is making progress; wait this much more."""
    return notify(f"EXTEND_TIMEOUT_USEC={int(seconds * 1_000_000)}")


def enabled() -> bool:
    """Whether systemd listens (NOTIFY_SOCKET is set): lets callers skip building status text."""
    return _address() is not None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def watchdog_interval() -> float | None:
    """Seconds within which systemd expects a WATCHDOG=1 (WatchdogSec=), or None when it expects none.

    ``WATCHDOG_PID``, when set, names the process the watchdog is for; a child that inherited the
    environment (or a process started by one) must not ping on the main process's behalf.
    """
    usec = os.environ.get("WATCHDOG_USEC", "")
    try:
        micros = int(usec)
    except ValueError:
        return None
    if micros <= 0:
        return None
    pid = os.environ.get("WATCHDOG_PID", "")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    return micros / 1_000_000


async def watchdog_task() -> None:
    """Ping the watchdog at half its interval until cancelled; returns at once when there is none.

    It runs as an asyncio task on purpose, not in a thread: a blocked or wedged event loop stops the
    pings, systemd notices after WatchdogSec= and restarts the service. A thread would keep pinging
    for a daemon that no longer does anything.
    """
    interval = watchdog_interval()
    if interval is None or _address() is None:
        return
    period = interval / 2
    log.debug("systemd watchdog: %g s, pinging every %g s", interval, period)
    while True:
        watchdog_ping()
        await asyncio.sleep(period)


STATUS_SECONDS = 30.0


async def status_updates(text: Callable[[], Awaitable[str]], interval: float = STATUS_SECONDS) -> None:
    """Send ``STATUS=<text()>`` every ``interval`` seconds until cancelled; returns at once without systemd."""
    if not enabled():
        return
    while True:
        try:
            status(await text())
        except Exception as exc:  # a status line is never worth stopping for
            log.debug("cannot build the systemd status line: %s", exc)
        await asyncio.sleep(interval)
