"""Push on accept through `watcher run`: the daemon pushes what curators accept to a loopback receiver
that fails at first, is SIGKILLed between a delivery and its cursor commit, and on restart repeats
that one delivery only; a later reject reaches the receiver as a retraction; `watcher status` says
how far the receiver has been told, and the secret stays out of the debug log."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import CATEGORY, DaemonProcess, config_text, query, state, wait_for
from tests.support.notify import add_change
from tests.support.webhook import Received, WebhookReceiver
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.eventstreams import EventStreamsStandIn
from watcher.export.push import STATE_PUSHED
from watcher.store import Database, reviews

SECRET = "whsec-daemon-planted-8d1a"


@pytest.fixture
async def wiki() -> AsyncIterator[tuple[ActionApiPeer, EventStreamsStandIn]]:
    api = ActionApiPeer()
    await api.start()
    api.add_page(CATEGORY, "")
    api.add_page(
        "File:Vase - EXM 1.jpg", "{{Information|description={{en|1=A vase}}}}", categories=[CATEGORY]
    )
    stream = EventStreamsStandIn()
    await stream.start()
    try:
        yield api, stream
    finally:
        await stream.stop()
        await api.close()


async def watcher_status(config: Path) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watcher", "status", "-c", str(config), "--format", "json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    status = json.loads(out)
    assert isinstance(status, dict)
    return status


async def test_the_daemon_pushes_accepts_through_failures_and_a_kill_with_one_duplicate(
    wiki: tuple[ActionApiPeer, EventStreamsStandIn],
    tmp_path: Path,
    daemons: Callable[[Path, Path], DaemonProcess],
) -> None:
    api, stream = wiki
    receiver = WebhookReceiver()
    await receiver.start()
    try:
        database = tmp_path / "watcher.sqlite3"
        secret_file = tmp_path / "webhook.secret"
        secret_file.write_text(SECRET + "\n")
        config = tmp_path / "config.toml"
        export = f'[export]\nwebhook = "{receiver.url}"\nwebhook_secret_file = "{secret_file}"\nwebhook_timeout = 5\n'
        config.write_text(config_text(api.url, stream.url, database, more=export))
        daemon = daemons(config, tmp_path / "daemon.log")
        await daemon.start()
        await wait_for(
            lambda: bool(query(database, "SELECT 1 FROM tracked_files")), 30, "the tracked set", daemon
        )

        db = await Database.connect(database)
        try:
            ids = [await add_change(db, new=f"text {n}", object_id=f"EXM-{n}") for n in range(3)]
            killed: list[str] = []

            async def kill_on_second_delivery(got: Received) -> None:
                # The receiver has the second change; the daemon dies before it reads the 200.
                if not killed and got.payload["change"]["id"] == ids[1]:
                    killed.append(got.delivery)
                    await daemon.kill()

            receiver.on_request = kill_on_second_delivery
            receiver.answer([503, "reset"])
            await reviews.review(db, ids, "accept", actor="anna")
            events = [int(row[0]) for row in await db.fetchall("SELECT id FROM review_events ORDER BY id")]

            await wait_for(lambda: bool(killed), 60, "the second delivery (then SIGKILL)", daemon)
            assert state(database, STATE_PUSHED) == str(events[0])  # delivered, not committed
            assert [r.answered for r in receiver.received[:3]] == [503, "reset", 200]

            await daemon.start()
            await wait_for(lambda: len(receiver.taken()) == 4, 60, "the rest after the restart", daemon)
            await reviews.review(db, [ids[0]], "reject", actor="bo", note="wrong object")
            await wait_for(lambda: len(receiver.taken()) == 5, 60, "the retraction", daemon)
        finally:
            await db.close()

        taken = receiver.taken()
        deliveries = [r.delivery for r in taken]
        retraction = int(deliveries[-1])
        assert deliveries == [str(e) for e in (events[0], events[1], events[1], events[2], retraction)]
        assert len(deliveries) - len(set(deliveries)) == 1  # the one delivery the kill left uncommitted
        assert [(r.payload["event"], r.payload["change"]["id"]) for r in taken] == [
            ("accepted", ids[0]), ("accepted", ids[1]), ("accepted", ids[1]), ("accepted", ids[2]),
            ("retracted", ids[0]),
        ]  # fmt: skip
        assert all(r.signature_ok(SECRET) for r in receiver.received)
        assert (
            taken[-1].payload["reviewed_by"] == "bo" and taken[-1].headers["X-Watcher-Event"] == "retracted"
        )

        await wait_for(
            lambda: state(database, STATE_PUSHED) == str(retraction), 30, "the last commit", daemon
        )
        webhook = (await watcher_status(config))["webhook"]
        assert webhook["configured"] is True and webhook["pushed_up_to"] == retraction
        assert webhook["backlog"] == 0 and webhook["refused"] is False and webhook["last_error"] is None
        code, _ = await daemon.terminate()
        assert code == 0
        log = daemon.log_text()
        assert "did not take delivery" in log  # the 503 and the reset were retried, and said so
        assert SECRET not in log
    finally:
        await receiver.close()
