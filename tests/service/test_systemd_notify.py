"""The sd_notify protocol against a real datagram socket, as systemd's NOTIFY_SOCKET would be."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from watcher.service import systemd


class NotifyListener:
    """A bound SOCK_DGRAM socket standing in for systemd's notification socket."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.setblocking(False)

    def drain(self) -> list[str]:
        """Every datagram received so far, without waiting."""
        messages = []
        while True:
            try:
                messages.append(self.sock.recv(4096).decode("utf-8"))
            except BlockingIOError:
                return messages

    async def wait_for(self, count: int, within: float = 10.0) -> list[str]:
        received: list[str] = []
        deadline = time.monotonic() + within
        while len(received) < count and time.monotonic() < deadline:
            received += self.drain()
            await asyncio.sleep(0.01)
        return received

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=["path", "abstract"])
def listener(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[NotifyListener]:
    if request.param == "path":
        address = str(tmp_path / "notify.sock")
        env_value = address
    else:
        name = f"watcher-test-{uuid.uuid4().hex}"
        address = "\0" + name
        env_value = "@" + name
    sock = NotifyListener(address)
    monkeypatch.setenv("NOTIFY_SOCKET", env_value)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield sock
    sock.close()


def test_ready_status_stopping_arrive_as_datagrams(listener: NotifyListener) -> None:
    assert systemd.ready("following the stream")
    assert systemd.status("3 changes queued,\n 2 pending")
    assert systemd.stopping()
    assert systemd.notify("EXTEND_TIMEOUT_USEC=5000000", "STATUS=flushing")
    assert listener.drain() == [
        "READY=1\nSTATUS=following the stream",
        "STATUS=3 changes queued, 2 pending",
        "STOPPING=1",
        "EXTEND_TIMEOUT_USEC=5000000\nSTATUS=flushing",
    ]


def test_without_notify_socket_everything_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd.ready() is False
    assert systemd.status("x") is False
    assert systemd.stopping() is False
    assert systemd.watchdog_ping() is False


def test_a_vanished_socket_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    assert systemd.ready() is False


def test_watchdog_interval_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert systemd.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")
    assert systemd.watchdog_interval() == 60.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert systemd.watchdog_interval() == 60.0
    # The watchdog belongs to another process (we inherited its environment): not ours to ping.
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert systemd.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    for bad in ("0", "-5", "soon", ""):
        monkeypatch.setenv("WATCHDOG_USEC", bad)
        assert systemd.watchdog_interval() is None


async def test_watchdog_task_pings_repeatedly(
    listener: NotifyListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # 0.1 s: a ping every 0.05 s
    task = asyncio.create_task(systemd.watchdog_task())
    try:
        pings = await listener.wait_for(4)
    finally:
        task.cancel()
    assert len(pings) >= 4
    assert set(pings) == {"WATCHDOG=1"}


async def test_watchdog_task_without_watchdog_returns_at_once(listener: NotifyListener) -> None:
    await asyncio.wait_for(systemd.watchdog_task(), timeout=5)
    assert listener.drain() == []


async def test_a_blocked_event_loop_stops_the_pings(
    listener: NotifyListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The point of pinging from a task: a wedged loop goes silent, so systemd's watchdog fires."""
    monkeypatch.setenv("WATCHDOG_USEC", "100000")
    task = asyncio.create_task(systemd.watchdog_task())
    try:
        assert len(await listener.wait_for(2)) >= 2
        listener.drain()
        time.sleep(0.6)  # noqa: ASYNC251 — the loop is blocked for 12 ping periods; a thread would keep pinging
        during_block = listener.drain()
        after = await listener.wait_for(2)
    finally:
        task.cancel()
    assert during_block == []
    assert len(after) >= 2  # and it recovers once the loop runs again


async def test_status_updates_repeat_the_current_text(listener: NotifyListener) -> None:
    counter = iter(range(1, 100))

    async def text() -> str:
        return f"following the stream; {next(counter)} events seen"

    task = asyncio.create_task(systemd.status_updates(text, interval=0.02))
    try:
        lines = await listener.wait_for(3)
    finally:
        task.cancel()
    assert lines[:3] == [f"STATUS=following the stream; {n} events seen" for n in (1, 2, 3)]


async def test_status_updates_survive_a_failing_text(listener: NotifyListener) -> None:
    calls = 0

    async def text() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database is locked")
        return "ok"

    task = asyncio.create_task(systemd.status_updates(text, interval=0.02))
    try:
        lines = await listener.wait_for(1)
    finally:
        task.cancel()
    assert lines[0] == "STATUS=ok"


def test_extend_timeout(listener: NotifyListener) -> None:
    assert systemd.extend_timeout(90)
    assert listener.drain() == ["EXTEND_TIMEOUT_USEC=90000000"]


def test_a_manager_that_stops_reading_never_blocks_the_caller(listener: NotifyListener) -> None:
    # Nobody reads the socket: its queue fills up. A blocking send would stall the event loop (and
    # with it the watchdog and the stop on SIGTERM); the notifications are dropped instead.
    sent = [systemd.status(f"line {n} " + "x" * 1000) for n in range(2000)]
    assert sent[0] and not all(sent)
