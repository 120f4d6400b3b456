"""Issue 13, item 6, through the running fetch worker: an Action API that answers 503 for days (on a
hand-moved clock) loses no edit. Shorter than the stream's retention, the work is retried until the API
is back; longer, it is set aside with an ERROR naming it, `watcher status` says so, and `watcher retry`
(a separate process, while the worker runs) puts it back for the worker to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.clock import ManualClock
from tests.support.config import USER_AGENT
from tests.support.core import edit
from tests.support.processes import stop_process
from watcher.config import load_config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi
from watcher.pipeline import worker as worker_module
from watcher.pipeline.worker import Worker
from watcher.service.status import collect_status, render_status_text
from watcher.store import Database
from watcher.store import state as store_state

REPO = Path(__file__).resolve().parents[2]
A, B = "File:Chair - EXM 7.jpg", "File:Table - EXM 8.jpg"
BEFORE = "{{Information|description={{en|1=Thing}}|date=1890}}"
WITHIN = 30.0  # seconds of real time for one step of the worker: generous, the suite shares two cores


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock[datetime]:
    """The inbox's clock (received, due, set aside), moved by hand; it starts at the real now."""
    manual = ManualClock(datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(store_state, "inbox_now", manual)
    return manual


@pytest.fixture
async def wiki() -> AsyncIterator[ActionApiPeer]:
    async with ActionApiPeer() as peer:
        for title in (A, B):
            peer.add_page(title, BEFORE)
        yield peer


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The config of the `db` fixture's database (tmp_path/w.sqlite3), for the worker and the CLI."""
    path = tmp_path / "config.toml"
    path.write_text(
        f'[watcher]\nuser_agent = "{USER_AGENT}"\ndatabase = "w.sqlite3"\n\n'
        '[tracking]\ncategories = ["Category:X"]\n',
        encoding="utf-8",
    )
    return path


async def no_wait(_: float) -> None:
    return None


async def enqueue_edit(db: Database, wiki: ActionApiPeer, title: str, date: str) -> tuple[int, int]:
    """An edit on the wiki and its stream work in the inbox; returns (inbox id, new revision)."""
    old = wiki.page(title).latest.revid
    new = wiki.edit(title, BEFORE.replace("1890", date), user="Volunteer")
    async with db.transaction() as conn:
        await store_state.enqueue(conn, f"k{new}", "edit", title, edit(title, old, new, user="Volunteer"))
    return int(await db.scalar("SELECT id FROM inbox WHERE event_key = ?", (f"k{new}",))), new


async def attempts(db: Database) -> int:
    return int(await db.scalar("SELECT coalesce(sum(attempts), 0) FROM inbox"))


async def inbox_row(db: Database, item_id: int) -> dict[str, Any]:
    row = await db.fetchone("SELECT * FROM inbox WHERE id = ?", (item_id,))
    assert row is not None
    return dict(row)


async def queued(db: Database) -> list[tuple[Any, ...]]:
    rows = await db.fetchall("SELECT file, field, old, new, revision FROM changes ORDER BY revision")
    return [tuple(r) for r in rows]


def parse(stamp: object) -> datetime:
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll an async ``condition`` until it is true (a generous real-time bound)."""
    deadline = asyncio.get_running_loop().time() + WITHIN
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[None]:
    """The worker as the daemon runs it: its own task, polling and woken."""
    task = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def fail_through(db: Database, worker: Worker, clock: ManualClock[datetime], end: datetime) -> int:
    """The API keeps failing: each time the worker has failed the due work, move the clock to the next
    due time and wake it, until the next attempt would come after ``end``. Returns the rounds."""
    rounds = 0
    while True:
        due = await store_state.next_due_time(db)
        if due is None or parse(due) > end:
            clock.now = max(clock.now, end)
            return rounds
        clock.now = max(clock.now, parse(due))
        before = await attempts(db)
        worker.wake()
        await until(all_due_tried(db, clock.now, before), f"attempt after {before} at {clock.now}")
        rounds += 1


def more_attempts_than(db: Database, count: int) -> Callable[[], Awaitable[bool]]:
    async def condition() -> bool:
        return await attempts(db) > count

    return condition


def all_due_tried(db: Database, now: datetime, count: int) -> Callable[[], Awaitable[bool]]:
    """More attempts than ``count`` and nothing left due at ``now``: each item's retry is a transaction
    of its own, so a round is over only when the last one due is rescheduled past the clock."""

    async def condition() -> bool:
        due = await store_state.next_due_time(db)
        return await attempts(db) > count and (due is None or parse(due) > now)

    return condition


async def test_three_days_of_503_then_the_api_is_back_loses_nothing(
    db: Database, wiki: ActionApiPeer, config_file: Path, clock: ManualClock[datetime]
) -> None:
    config = load_config(config_file)
    start = clock.now
    a, ra = await enqueue_edit(db, wiki, A, "circa 1890")
    b, rb = await enqueue_edit(db, wiki, B, "1891")
    wiki.fail_http(503, times=10**6)
    async with ActionApi(wiki.url, USER_AGENT, sleep=no_wait, max_retries=0) as api:
        worker = Worker(db, api, config)
        async with running(worker):
            await until(more_attempts_than(db, 0), "the first attempt")
            rounds = await fail_through(db, worker, clock, start + timedelta(days=3))
            for item_id in (a, b):
                row = await inbox_row(db, item_id)
                assert row["state"] == "pending" and "503" in row["last_error"]
                assert timedelta(0) < parse(row["next_attempt_at"]) - clock.now <= timedelta(minutes=30)
            assert rounds > 100  # every 30 min for 3 days: the old 12 attempts are long past
            status = await collect_status(db, config, now=clock.now)
            inbox = status["inbox"]
            assert (inbox["pending"], inbox["retrying"], inbox["failed"], inbox["stuck"]) == (0, 2, 0, 2)
            assert inbox["oldest_retrying"]["file"] == A and inbox["oldest_retrying"]["revision"] == ra
            assert inbox["oldest_retrying"]["age_seconds"] == timedelta(days=3).total_seconds()
            assert "503" in inbox["oldest_retrying"]["last_error"]
            assert status["inbox_pending"] == 2  # the old keys stay
            text = render_status_text(status)
            assert "2 pending (2 retrying after failures), 0 failed" in text
            assert "stuck:" in text and f"the oldest, {A} r{ra} (inbox item {a}), for 3 days," in text

            wiki.faults.clear()  # the API is back
            due = await store_state.next_due_time(db)
            assert due is not None
            clock.now = parse(due)
            worker.wake()
            await until(lambda: _settled(db), "both edits settled")
    assert await queued(db) == [(A, "date", "1890", "circa 1890", ra), (B, "date", "1890", "1891", rb)]
    assert {(await inbox_row(db, i))["state"] for i in (a, b)} == {"done"}
    after = (await collect_status(db, config, now=clock.now))["inbox"]
    assert (after["retrying"], after["stuck"], after["problem"]) == (0, 0, None)
    assert after["oldest_retrying"] is None


async def _settled(db: Database) -> bool:
    return int(await db.scalar("SELECT count(*) FROM inbox WHERE state = 'pending'")) == 0


async def test_past_the_retention_it_is_set_aside_loudly_and_watcher_retry_takes_it_again(
    db: Database,
    wiki: ActionApiPeer,
    config_file: Path,
    clock: ManualClock[datetime],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The daemon's worker looks at its inbox every RETRY_SECONDS (30 s) besides being woken: shorter
    # here, so the item `watcher retry` puts back is found by that poll within the test's patience.
    monkeypatch.setattr(worker_module, "RETRY_SECONDS", 0.2)
    config = load_config(config_file)
    start = clock.now
    item_id, revision = await enqueue_edit(db, wiki, A, "circa 1890")
    wiki.fail_http(503, times=10**6)
    async with ActionApi(wiki.url, USER_AGENT, sleep=no_wait, max_retries=0) as api:
        worker = Worker(db, api, config)
        with caplog.at_level(logging.WARNING, logger="watcher.worker"):
            async with running(worker):
                await until(more_attempts_than(db, 0), "the first attempt")
                await fail_through(db, worker, clock, start + timedelta(days=6.9))
                assert (await inbox_row(db, item_id))["state"] == "pending"
                assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
                await fail_through(db, worker, clock, start + timedelta(days=7, hours=1))
                row = await inbox_row(db, item_id)
                assert row["state"] == "failed" and "503" in row["last_error"]
                set_aside_at = parse(row["done_at"])
                assert start + timedelta(days=7) <= set_aside_at <= start + timedelta(days=7, hours=1)

                errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
                assert len(errors) == 1, errors
                assert f"{A} r{revision} (inbox item {item_id}): set aside after" in errors[0]
                assert "past the stream's 7-day retention" in errors[0]
                assert f"last error: {row['last_error']}" in errors[0]
                assert f"`watcher retry {item_id}`" in errors[0] and "`watcher retry --all`" in errors[0]
                status = await collect_status(db, config, now=clock.now)
                assert status["inbox"]["failed"] == status["inbox_failed"] == 1
                assert "`watcher retry --all`" in status["inbox"]["problem"]
                assert "watcher retry --all" in render_status_text(status)

                wiki.faults.clear()  # the API is back; nothing retries the item on its own
                clock.now += timedelta(hours=1)
                worker.wake()
                await asyncio.sleep(0.5)  # a few idle polls of the worker
                assert (await inbox_row(db, item_id))["state"] == "failed"
                assert await queued(db) == []

                out, err, code = await watcher_retry(config_file, "--all")
                assert code == 0, err
                assert "put back to pending 1 item(s)" in out and f"{A} r{revision}" in out
                # No wake: the running worker finds it by polling its inbox, as in the daemon.
                await until(lambda: _settled(db), "the retried edit settled")
    assert await queued(db) == [(A, "date", "1890", "circa 1890", revision)]
    assert (await inbox_row(db, item_id))["state"] == "done"


async def watcher_retry(config: Path, *args: str) -> tuple[str, str, int]:
    """`watcher retry` as its own process, beside the running worker (its own connection and clock)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watcher", "retry", "-c", str(config), *args,
        cwd=config.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        await stop_process(process)
    return out.decode(), err.decode(), int(process.returncode or 0)
