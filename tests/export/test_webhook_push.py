"""Push on accept (issue 12, item 6): the review history's accepts and retractions reach a loopback
receiver in order, signed, through failures and a crash, with at most one duplicate; a refusing
receiver is retried and reported, never skipped; the secret stays out of the log."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.support.config import USER_AGENT
from tests.support.notify import add_change, wait_until
from tests.support.webhook import Received, WebhookReceiver
from watcher.base.masking import MASK, forget_registered_secrets, mask_secrets
from watcher.base.retry import Backoff
from watcher.config import Config
from watcher.export import jsonl
from watcher.export.push import STATE_PUSHED, WebhookPusher, pushed_up_to, webhook_status
from watcher.service.status import collect_status, render_status_text
from watcher.store import Database, reviews
from watcher.store.queue import ChangeFilter, list_changes
from watcher.store.state import get_state

SECRET = "whsec-planted-4f9c2e71"
CAP = 0.05


def fast() -> Backoff:
    return Backoff(0.01, CAP)


@pytest.fixture(autouse=True)
def clean_secrets() -> Iterator[None]:
    yield
    forget_registered_secrets()


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    sink = WebhookReceiver()
    await sink.start()
    try:
        yield sink
    finally:
        await sink.close()


def webhook_config(make_config: Callable[..., Config], url: str, secret_line: str | None = None) -> Config:
    secret = secret_line or f'webhook_secret = "{SECRET}"'
    return make_config(f'\n[export]\nwebhook = "{url}"\n{secret}\nwebhook_timeout = 0.5\n')


async def event_ids(db: Database) -> list[int]:
    return [int(row[0]) for row in await db.fetchall("SELECT id FROM review_events ORDER BY id")]


async def jsonl_record(db: Database, config: Config, change_id: int) -> dict[str, object]:
    """The record exactly as `watcher changes --format jsonl` prints it."""
    records = await list_changes(db, ChangeFilter(status="all", kind="all", ids=[change_id]))
    text = "".join(jsonl.write(records, config))
    parsed = json.loads(text)
    assert isinstance(parsed, dict)
    return parsed


async def test_every_accept_arrives_in_order_signed_through_503_reset_and_timeout(
    db: Database, make_config: Callable[..., Config], receiver: WebhookReceiver
) -> None:
    config = webhook_config(make_config, receiver.url)
    ids = [await add_change(db, new=f"text {n}", object_id=f"EXM-{n}") for n in range(3)]
    await reviews.review(db, ids, "accept", actor="anna", note="into the CMS")
    receiver.answer([503, "reset", "hang"])
    pusher = WebhookPusher(db, config, backoff=fast())
    try:
        assert await pusher.push_pending() == 3
        assert await pusher.push_pending() == 0  # nothing is sent twice once the cursor moved
    finally:
        await pusher.close()

    events = await event_ids(db)
    assert [r.answered for r in receiver.received] == [503, "reset", "hang", 200, 200, 200]
    # The failed tries were the first delivery, sent again byte for byte; then each in event order.
    assert {r.body for r in receiver.received[:4]} == {receiver.received[3].body}
    taken = receiver.taken()
    assert [r.delivery for r in taken] == [str(e) for e in events]
    for got, change_id in zip(taken, ids, strict=True):
        assert got.signature_ok(SECRET)
        assert not got.signature_ok(SECRET + "x")
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["User-Agent"] == USER_AGENT
        assert got.headers["X-Watcher-Event"] == "accepted"
        payload = got.payload
        assert payload["event"] == "accepted" and payload["delivery"] == got.delivery
        assert payload["change"] == await jsonl_record(db, config, change_id)
        assert (payload["reviewed_by"], payload["note"], payload["status"]) == (
            "anna",
            "into the CMS",
            "accepted",
        )
        assert str(payload["reviewed_at"]).endswith("Z")
    assert await pushed_up_to(db) == events[-1]
    status = await webhook_status(db, config)
    assert status["backlog"] == 0 and status["last_error"] is None and status["last_success_at"]


async def test_a_changed_mind_is_a_retraction_and_notes_are_not_pushed(
    db: Database, make_config: Callable[..., Config], receiver: WebhookReceiver
) -> None:
    config = webhook_config(make_config, receiver.url)
    kept, changed, never = [await add_change(db, new=f"v{n}") for n in range(3)]
    pusher = WebhookPusher(db, config, backoff=fast())
    try:
        await reviews.review(db, [kept, changed], "accept", actor="anna")
        assert await pusher.push_pending() == 2
        await reviews.review(db, [changed], "note", actor="bo", note="the date is disputed")
        await reviews.review(db, [changed], "reject", actor="bo", note="wrong object")
        await reviews.review(db, [never], "reject", actor="bo")  # never accepted: nothing to retract
        await reviews.review(db, [changed], "undo", actor="bo")  # rejected → accepted again
        await reviews.review(db, [kept], "accept", actor="cy")  # accepted → accepted: no news
        assert await pusher.push_pending() == 2
    finally:
        await pusher.close()
    seen = [
        (r.payload["event"], r.payload["change"]["id"], r.payload["reviewed_by"]) for r in receiver.taken()
    ]
    assert seen == [
        ("accepted", kept, "anna"),
        ("accepted", changed, "anna"),
        ("retracted", changed, "bo"),
        ("accepted", changed, "bo"),
    ]
    retraction = receiver.taken()[2]
    assert retraction.headers["X-Watcher-Event"] == "retracted"
    assert (retraction.payload["status"], retraction.payload["note"]) == ("rejected", "wrong object")
    assert len({r.delivery for r in receiver.taken()}) == 4


class Crash(Exception):
    """Stands for the process dying between the receiver's 2xx and the cursor's commit."""


async def test_a_crash_before_the_cursor_commit_repeats_that_one_delivery_only(
    db: Database,
    make_config: Callable[..., Config],
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = webhook_config(make_config, receiver.url)
    ids = [await add_change(db, new=f"text {n}") for n in range(4)]
    await reviews.review(db, ids, "accept", actor="anna")
    events = await event_ids(db)
    commit = WebhookPusher._record_success

    async def dies_after_second(self: WebhookPusher, delivery: object) -> None:
        if getattr(delivery, "event_id", None) == events[1]:
            raise Crash
        await commit(self, delivery)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(WebhookPusher, "_record_success", dies_after_second)
        first = WebhookPusher(db, config, backoff=fast())
        with pytest.raises(Crash):
            await first.push_pending()
        await first.close()
    assert await get_state(db, STATE_PUSHED) == str(events[0])  # the second was delivered, not committed

    restarted = WebhookPusher(db, config, backoff=fast())  # a new process: new session, cursor from the db
    try:
        assert await restarted.push_pending() == 3
    finally:
        await restarted.close()
    deliveries = [r.delivery for r in receiver.taken()]
    assert deliveries == [str(e) for e in (events[0], events[1], events[1], events[2], events[3])]
    assert len(deliveries) - len(set(deliveries)) == 1
    assert await pushed_up_to(db) == events[-1]


async def test_a_refusing_receiver_is_retried_reported_and_nothing_is_skipped(
    db: Database,
    make_config: Callable[..., Config],
    receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = webhook_config(make_config, receiver.url)
    receiver.body = "unknown field mapping: " + "x" * 177 + "|AFTER-200-CHARACTERS"
    receiver.answer([400, 400, 400])
    ids = [await add_change(db, new=f"text {n}") for n in range(3)]
    await reviews.review(db, ids, "accept", actor="anna")
    stop = asyncio.Event()
    pusher = WebhookPusher(db, config, backoff=fast(), poll_seconds=0.05)
    caplog.set_level(logging.INFO, logger="watcher.export.push")
    task = asyncio.create_task(pusher.run(stop))
    try:
        await wait_until(lambda: len(receiver.received) >= 2)
        status = await collect_status(db, config)
        webhook = status["webhook"]
        # A refusal keeps the change due: not pushed, reported, and tried again.
        assert webhook["refused"] is True and webhook["pushed_up_to"] == 0 and webhook["backlog"] == 3
        assert webhook["failed_attempts"] >= 1
        assert "HTTP 400" in webhook["last_error"] and "AFTER-200" not in webhook["last_error"]
        assert "refused" in render_status_text(status).split("webhook:")[1].splitlines()[0]
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert errors and all("HTTP 400: unknown field mapping: xxx" in r.getMessage() for r in errors)
        assert all("AFTER-200" not in r.getMessage() for r in errors)
        assert all(f"retrying every {CAP:g} s" in r.getMessage() for r in errors)
        await wait_until(lambda: len(receiver.taken()) == 3)  # the receiver fixed: all of them, in order
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert [r.answered for r in receiver.received] == [400, 400, 400, 200, 200, 200]
    assert [r.payload["change"]["id"] for r in receiver.taken()] == ids
    assert len({r.delivery for r in receiver.received[:4]}) == 1
    webhook = (await collect_status(db, config))["webhook"]
    assert webhook["refused"] is False and webhook["backlog"] == 0 and webhook["last_error"] is None


async def test_redirects_to_another_host_are_not_followed(
    db: Database, make_config: Callable[..., Config], receiver: WebhookReceiver
) -> None:
    elsewhere = WebhookReceiver()
    await elsewhere.start()
    try:
        config = webhook_config(make_config, receiver.url)
        await reviews.review(db, [await add_change(db)], "accept", actor="anna")
        # The same host's other path is followed; another port (another server) is not.
        receiver.answer([("redirect", "/hook/v2"), ("redirect", elsewhere.url), ("redirect", elsewhere.url)])
        stop = asyncio.Event()
        pusher = WebhookPusher(db, config, backoff=fast(), poll_seconds=0.05)
        task = asyncio.create_task(pusher.run(stop))
        try:
            await wait_until(lambda: len(receiver.taken()) == 1)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
        assert [r.path for r in receiver.received] == ["/hook", "/hook/v2", "/hook", "/hook"]
        assert elsewhere.received == []
        assert receiver.taken()[0].signature_ok(SECRET)
    finally:
        await elsewhere.close()


async def test_the_secret_never_reaches_the_log_and_the_file_loses_its_newline(
    db: Database,
    make_config: Callable[..., Config],
    receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    secret_file = tmp_path / "webhook.secret"
    secret_file.write_text(SECRET + "\n")
    config = webhook_config(make_config, receiver.url, f'webhook_secret_file = "{secret_file}"')
    # A careless receiver echoes the key in its error page; it must not reach the log from there either.
    receiver.body = f"signature mismatch, expected key {SECRET}"
    receiver.answer([400, 503])
    await reviews.review(db, [await add_change(db)], "accept", actor="anna")
    stored: list[str] = []

    async def read_state(_: Received) -> None:
        rows = await db.fetchall("SELECT value FROM state WHERE key LIKE 'webhook%' AND value IS NOT NULL")
        stored.append(" ".join(str(row[0]) for row in rows))

    receiver.on_request = read_state
    caplog.set_level(logging.DEBUG)
    pusher = WebhookPusher(db, config, backoff=fast())
    try:
        assert await pusher.push_pending() == 1
    finally:
        await pusher.close()
    assert receiver.taken()[0].signature_ok(SECRET)  # signed with the file's text, newline stripped
    assert any("signature mismatch" in r.getMessage() for r in caplog.records)
    assert SECRET not in caplog.text
    assert mask_secrets(f"key={SECRET}") == f"key={MASK}"
    # What `watcher status` shows of the failures: the receiver's words, the key masked.
    assert "signature mismatch" in stored[-1] and MASK in stored[-1]
    assert not any(SECRET in text for text in stored)
