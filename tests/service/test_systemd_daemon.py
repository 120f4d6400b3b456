"""The real daemon with the service wiring (`watcher.service.wiring.daemon_hooks`) against loopback peers:
READY once the stream is connected, STATUS, WATCHDOG from the loop, STOPPING on shutdown, and the
live state `watcher status` reads from the database."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.harness import config_text
from watcher.config import parse_config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.eventstreams import EventStreamsStandIn
from watcher.service.daemon import Daemon
from watcher.service.metrics import MetricsRecorder, daemon_routes
from watcher.service.status import collect_status
from watcher.service.wiring import daemon_hooks
from watcher.store import Database
from watcher.store.pg import LeaderLock

TRACKING = 'files = ["File:Example.jpg"]'


class Datagrams:
    """Drains the notify socket as systemd does (at once, always), so that the daemon's sends never
    find it full; :meth:`until` hands out what arrived, in order, up to a wanted line."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.arrived: list[str] = []
        self.handed_out = 0
        self.task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self.arrived.append((await loop.sock_recv(self.sock, 4096)).decode())

    async def until(self, want: str, within: float = 20.0) -> list[str]:
        """Datagrams since the last call until one contains ``want`` (all of them, in order)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for index in range(self.handed_out, len(self.arrived)):
                if want in self.arrived[index]:
                    batch = self.arrived[self.handed_out : index + 1]
                    self.handed_out = index + 1
                    return batch
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {want!r} within {within} s; got {self.arrived[self.handed_out :]}")

    def close(self) -> None:
        self.task.cancel()
        self.sock.close()


def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> socket.socket:
    """systemd's notify socket, as the daemon finds it (with a fast watchdog)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    return sock


async def test_daemon_reports_to_systemd_and_to_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sock = notify_socket(tmp_path, monkeypatch)
    async with ActionApiPeer() as api, EventStreamsStandIn([]) as stream:
        config = parse_config(
            config_text(api.url, stream.url, tmp_path / "w.sqlite3", tracking=TRACKING),
            tmp_path / "config.toml",
        )
        daemon = Daemon(config, daemon_hooks())
        datagrams = Datagrams(sock)
        running = asyncio.create_task(daemon.run())
        try:
            before_ready = await datagrams.until("READY=1")
            assert before_ready[-1] == "READY=1\nSTATUS=connected to the stream"
            # The status task's first line goes out at start-up: before the stream connects, or just
            # after where the connection is quicker than the first status query (both are fine).
            status_lines = [line for line in before_ready if line.startswith("STATUS=") and "events" in line]
            if not status_lines:
                status_lines = (await datagrams.until("events seen"))[-1:]
            assert status_lines[0].startswith(
                ("STATUS=starting; 0 events", "STATUS=connecting to the stream; 0 events",
                 "STATUS=following the stream; 0 events")
            ), status_lines  # fmt: skip
            await datagrams.until("WATCHDOG=1")
            await datagrams.until("WATCHDOG=1")

            # `watcher status`, from its own connection, sees the running daemon and its stream.
            deadline = time.monotonic() + 20
            while True:
                async with Database.open(config.database) as reader:
                    status = await collect_status(reader, config)
                if status["stream_connected"] or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert status["daemon_running"] is True
            assert status["daemon_pid"] == os.getpid()
            assert status["stream_connected"] is True
        finally:
            daemon.stop()
            exit_code = await asyncio.wait_for(running, timeout=15)
    assert exit_code == 0
    assert "STOPPING=1\nSTATUS=stopping" in await datagrams.until("STOPPING=1")
    async with Database.open(config.database) as reader:
        status = await collect_status(reader, config)
    assert status["daemon_pid"] is None  # a clean stop
    assert status["stream_connected"] is False
    datagrams.close()


async def test_daemon_serves_healthz_and_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wiring the daemon needs for the review page's /healthz and /metrics, end to end.

    The page is served like `run_web` does, on a port the OS picks (other suites run in parallel).
    """
    from aiohttp import web

    from watcher.web.app import create_app

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    recorder = MetricsRecorder()
    hooks = daemon_hooks()
    ports: asyncio.Queue[int] = asyncio.Queue()

    async def web_task(daemon: Daemon) -> None:
        assert daemon.db is not None
        app = create_app(daemon.db, daemon.config, extra_routes=daemon_routes(daemon, recorder))
        runner = web.AppRunner(app, shutdown_timeout=2.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            ports.put_nowait(runner.addresses[0][1])
            await asyncio.Event().wait()
        finally:
            await asyncio.shield(runner.cleanup())

    hooks.extra_tasks.append(("web", web_task))
    async with ActionApiPeer() as api, EventStreamsStandIn([]) as stream:
        more = '[web]\nlisten = "127.0.0.1:8750"'
        config = parse_config(
            config_text(api.url, stream.url, tmp_path / "w.sqlite3", tracking=TRACKING, more=more),
            tmp_path / "config.toml",
        )
        daemon = Daemon(config, hooks)
        running = asyncio.create_task(daemon.run())
        try:
            base = f"http://127.0.0.1:{await asyncio.wait_for(ports.get(), timeout=20)}"
            async with aiohttp.ClientSession() as client:
                # 503 until the stream has connected and sent its first bytes, then 200.
                deadline = time.monotonic() + 20
                health: dict[str, str] = {}
                while time.monotonic() < deadline:
                    async with client.get(f"{base}/healthz") as response:
                        health = await response.json()
                        if response.status == 200:
                            break
                        assert response.status == 503
                    await asyncio.sleep(0.05)
                assert health == {"status": "ok"}
                async with client.get(f"{base}/metrics") as response:
                    assert response.status == 200
                    text = await response.text()
        finally:
            daemon.stop()
            assert await asyncio.wait_for(running, timeout=15) == 0
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("watcher_database_readable", ())] == 1
    assert samples[("watcher_api_requests_total", (("api", "commons"),))] >= 1  # resolving the tracked files
    assert ("watcher_stream_connected", ()) in samples
    assert ("watcher_events_seen_total", ()) in samples


async def test_a_standby_on_a_shared_store_is_ready_and_feeds_the_watchdog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_dsn: str
) -> None:
    """On PostgreSQL a node that stands by (another holds the leader's lock) follows no stream, yet
    is up: READY says so and the watchdog is fed, or systemd would kill every standby."""
    sock = notify_socket(tmp_path, monkeypatch)
    other = LeaderLock(postgres_dsn)
    assert await other.try_acquire()  # another node leads
    async with ActionApiPeer() as api, EventStreamsStandIn([]) as stream:
        config = parse_config(
            config_text(api.url, stream.url, postgres_dsn, tracking=TRACKING), tmp_path / "config.toml"
        )
        daemon = Daemon(config, daemon_hooks())
        datagrams = Datagrams(sock)
        running = asyncio.create_task(daemon.run())
        try:
            ready = await datagrams.until("READY=1")
            assert ready[-1] == "READY=1\nSTATUS=standing by: another node follows the stream"
            await datagrams.until("WATCHDOG=1")
            await datagrams.until("WATCHDOG=1")
            assert daemon.role == "standby" and stream.connections == 0
            await other.release()  # the leader stops: this node leads and connects
            await datagrams.until("STATUS=connected to the stream")
            assert daemon.role == "leader" and stream.connections == 1
        finally:
            daemon.stop()
            exit_code = await asyncio.wait_for(running, timeout=15)
            await other.release()
            datagrams.close()
    assert exit_code == 0
