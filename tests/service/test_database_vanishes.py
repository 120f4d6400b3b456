"""Issue 13, item 4: the database file deleted or replaced under a running daemon. /healthz says so,
the daemon logs why and stops with exit code 74, and nothing more is committed or recreated."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.support.harness import DaemonProcess, config_text, state, wait_for
from tests.support.ports import free_port
from watcher.config import parse_config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.eventstreams import EventStreamsStandIn
from watcher.service import daemon as daemon_module
from watcher.service.daemon import Daemon
from watcher.service.metrics import add_health_routes
from watcher.service.status import STATE_PID
from watcher.service.wiring import daemon_hooks
from watcher.store import Database
from watcher.store.db import DatabaseGone, lock_path

TRACKING = 'files = ["File:Example.jpg"]'
STOPPING = "stopping now so nothing more is written to a file nobody can read"

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the store: once noticed, nothing more is committed -------------------------------------------


async def test_writes_are_refused_once_the_file_is_known_to_be_gone(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path) as db:
        await db.write("INSERT INTO state(key, value) VALUES ('before', '1')")
        path.unlink()
        # Not noticed yet: SQLite itself writes on into the unlinked file without complaint.
        await db.write("INSERT INTO state(key, value) VALUES ('unnoticed', '1')")
        with pytest.raises(DatabaseGone, match="was deleted while the watcher ran"):
            db.check_still_there()
        with pytest.raises(DatabaseGone, match="was deleted while the watcher ran"):
            await db.write("INSERT INTO state(key, value) VALUES ('after', '1')")
        assert await db.scalar("SELECT count(*) FROM state WHERE key = 'after'") == 0
        with pytest.raises(DatabaseGone):
            db.check_still_there()  # still gone: it stays refused
    assert not path.exists()


# -- /healthz -------------------------------------------------------------------------------------


@dataclass
class LiveStream:
    """A HealthSource whose stream is live, so that only the database decides."""

    db: Database
    role: str = "single"

    def stream_live(self) -> bool:
        return True


async def test_healthz_says_the_database_was_deleted(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path) as db:
        app = web.Application()
        add_health_routes(app, LiveStream(db))
        client = await aiohttp_client(app)
        assert (await client.get("/healthz")).status == 200
        path.unlink()
        response = await client.get("/healthz")
        assert response.status == 503
        body = await response.json()
        assert body["status"] == "unavailable"
        assert body["reason"].startswith(f"database: the database file {path.absolute()} was deleted")
    assert not path.exists()


async def test_healthz_says_the_database_was_replaced(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    async with Database.open(path) as db:
        app = web.Application()
        add_health_routes(app, LiveStream(db))
        client = await aiohttp_client(app)
        async with Database.open(tmp_path / "backup.sqlite3"):
            pass
        os.replace(tmp_path / "backup.sqlite3", path)
        response = await client.get("/healthz")
        assert response.status == 503
        assert "was replaced while the watcher ran" in (await response.json())["reason"]


# -- the daemon in this process: it stops by itself, with the failure's exit code -----------------


async def run_daemon_until_connected(
    tmp_path: Path, api: ActionApiPeer, stream: EventStreamsStandIn
) -> tuple[Daemon, asyncio.Task[int]]:
    config = parse_config(
        config_text(api.url, stream.url, tmp_path / "w.sqlite3", tracking=TRACKING), tmp_path / "config.toml"
    )
    daemon = Daemon(config, daemon_hooks())
    running = asyncio.create_task(daemon.run())
    deadline = time.monotonic() + 30
    while not (stream.connections >= 1 and daemon.resolved.is_set()):
        assert not running.done(), running.result()
        assert time.monotonic() < deadline, "the daemon did not connect within 30 s"
        await asyncio.sleep(0.05)
    return daemon, running


async def test_the_daemon_stops_when_its_database_is_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setattr(daemon_module, "DATABASE_CHECK_SECONDS", 0.05)
    path = tmp_path / "w.sqlite3"
    async with ActionApiPeer() as api, EventStreamsStandIn([]) as stream:
        daemon, running = await run_daemon_until_connected(tmp_path, api, stream)
        try:
            path.unlink()
            code = await asyncio.wait_for(asyncio.shield(running), timeout=20)
        finally:
            daemon.stop()
            await asyncio.wait_for(running, timeout=20)
    assert code == DatabaseGone.exit_code == 74
    assert isinstance(daemon.failure, DatabaseGone)
    errors = [
        r.getMessage() for r in caplog.records if r.levelno == logging.ERROR and r.name == "watcher.daemon"
    ]
    assert len(errors) == 1, errors
    assert f"the database file {path.absolute()} was deleted while the watcher ran" in errors[0]
    assert errors[0].endswith(STOPPING)
    assert not path.exists()  # nothing made a new, empty one at the path
    assert not lock_path(path).exists()
    # Its write-ahead log is off the path (kept aside), so the next start's new database is sound.
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()
    assert len(list(tmp_path.glob("w.sqlite3-wal.orphaned-*"))) == 1
    async with Database.open(path, verify=True) as db:
        assert await db.scalar("SELECT count(*) FROM tracked_files") == 0


async def test_a_database_replaced_under_the_daemon_is_left_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setattr(daemon_module, "DATABASE_CHECK_SECONDS", 0.05)
    path = tmp_path / "w.sqlite3"
    restored = tmp_path / "restored.sqlite3"
    async with Database.open(restored) as db:
        await db.write("INSERT INTO state(key, value) VALUES ('restored', '1')")
        await db.scalar("PRAGMA wal_checkpoint(TRUNCATE)")
    async with ActionApiPeer() as api, EventStreamsStandIn([]) as stream:
        daemon, running = await run_daemon_until_connected(tmp_path, api, stream)
        try:
            os.replace(restored, path)
            before = digest(path)
            code = await asyncio.wait_for(asyncio.shield(running), timeout=20)
        finally:
            daemon.stop()
            await asyncio.wait_for(running, timeout=20)
    assert code == 74
    assert "was replaced while the watcher ran" in str(daemon.failure)
    # The daemon's shutdown (its last cursor flush, its clean-stop mark) went nowhere near the new file.
    assert digest(path) == before
    async with Database.open(path, create=False) as db:
        assert await db.scalar("SELECT value FROM state WHERE key = 'restored'") == "1"
        assert await db.scalar("SELECT value FROM state WHERE key = ?", (STATE_PID,)) is None


# -- `watcher run` as a process -------------------------------------------------------------------


async def test_watcher_run_exits_74_when_its_database_is_deleted(
    tmp_path: Path, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    database = tmp_path / "state" / "watcher.sqlite3"
    config = tmp_path / "config.toml"
    port = free_port()
    async with ActionApiPeer() as api, EventStreamsStandIn([]) as stream:
        config.write_text(
            config_text(
                api.url, stream.url, database, tracking=TRACKING, more=f'[web]\nlisten = "127.0.0.1:{port}"'
            )
        )
        daemon = daemons(config, tmp_path / "daemon.log")
        await daemon.start()
        assert daemon.proc is not None
        await wait_for(lambda: stream.connections == 1, 30, "the stream connection", daemon)
        await wait_for(lambda: state(database, STATE_PID) is not None, 30, "the daemon's live state", daemon)
        answers: list[tuple[int, str]] = []
        async with aiohttp.ClientSession() as client:
            deadline = time.monotonic() + 30
            while True:  # the review page (and /healthz) is up
                try:
                    async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                        await response.read()
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, daemon.log_text()
                    await asyncio.sleep(0.05)
            database.unlink()
            # Whatever /healthz answers until the daemon has gone is "not ok", with the reason.
            while daemon.proc.returncode is None and time.monotonic() < deadline:
                try:
                    async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                        answers.append((response.status, (await response.json())["reason"]))
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        code = await asyncio.wait_for(daemon.proc.wait(), timeout=20)
    log = daemon.log_text()
    assert code == 74, log
    assert all(status == 503 and "was deleted while the watcher ran" in reason for status, reason in answers)
    error = [line for line in log.splitlines() if " ERROR " in line]
    assert len(error) == 1, log
    assert (
        f"watcher.daemon: the database file {database.absolute()} was deleted while the watcher ran"
        in error[0]
    )
    assert error[0].endswith(STOPPING)
    assert "Traceback" not in log
    assert not database.exists()
    assert not lock_path(database).exists()
