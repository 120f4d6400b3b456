"""Helpers of the notification tests: configs, change records, and loopback SMTP and HTTP sinks."""

from __future__ import annotations

import asyncio
import email
import itertools
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Any

from aiohttp import web

from watcher.config import DEFAULT_COLLECTION
from watcher.diff.model import FieldChange
from watcher.store import Database, iso_utc
from watcher.store.queue import Provenance, insert_changes

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_ATTR = '"><img onerror=x>'

_revisions = itertools.count(5_000_000)


async def add_change(
    db: Database,
    *,
    file: str = "File:Vase.jpg",
    field: str = "description",
    old: str | None = "old text",
    new: str | None = "new text",
    language: str | None = None,
    action: str = "changed",
    kind: str = "content",
    user: str = "Alice",
    object_id: str | None = "EXM-1",
    source: str = "live",
    template: str | None = "Information",
    queued_at: datetime | None = None,
    timestamp: str = "2026-03-02T10:00:00Z",
    collection: str = DEFAULT_COLLECTION,
    revision: int | None = None,
) -> int:
    """Queue one change record (its own revision unless given, in ``collection``); returns its id."""
    revision = next(_revisions) if revision is None else revision
    provenance = Provenance(
        wiki="commonswiki", file=file, revision=revision, old_revision=revision - 1, timestamp=timestamp,
        user=user, comment="edit", object_id=object_id, source=source,  # type: ignore[arg-type]
        collection=collection,
    )  # fmt: skip
    change = FieldChange(
        field=field, action=action, old=old, new=new, template=template,  # type: ignore[arg-type]
        language=language, kind=kind,  # type: ignore[arg-type]
    )  # fmt: skip
    async with db.transaction() as conn:
        await insert_changes(conn, provenance, [change])
        cursor = await conn.execute("SELECT max(id) FROM changes")
        row = await cursor.fetchone()
        assert row is not None
        change_id = int(row[0])
        if queued_at is not None:
            await conn.execute(
                "UPDATE changes SET queued_at = ? WHERE id = ?", (iso_utc(queued_at), change_id)
            )
    return change_id


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.is_multipart():
                return str(part.get_content())
        raise AssertionError(f"no {content_type} part in {self.message.get_content_type()}")


class SmtpSink:
    """aiosmtpd's handler: every message it receives, parsed."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@dataclass
class Post:
    path: str
    at: float
    status: int
    body: dict[str, Any]


@dataclass
class HttpSink:
    """A loopback web server taking apprise's json:// and Slack webhook posts.

    ``script[path]`` lists the answers for the next posts to that path, as (status, headers); when it is
    empty the answer is 200 "ok". ``delay`` holds the answer back that many seconds.
    """

    port: int = 0
    posts: list[Post] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    delay: float = 0.0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def ok(self, path: str) -> list[Post]:
        return [p for p in self.posts if p.path == path and p.status == 200]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.delay:
            await asyncio.sleep(self.delay)
        answers = self.script.get(request.path) or []
        status, headers = answers.pop(0) if answers else (200, {})
        self.posts.append(Post(request.path, time.monotonic(), status, body))
        return web.Response(status=status, headers=headers, text="ok" if status == 200 else "error")


async def wait_until(condition: Callable[[], bool], within: float = 15.0) -> None:
    """Poll ``condition`` until it holds (a generous bound: the suite shares two cores)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def wait_for_state(db: Database, channel: str, state: str, within: float = 15.0) -> None:
    """Wait until the channel's outbox row reaches ``state``: the sink sees a post before the outbox
    commits its outcome, so a test that read the row at once raced the commit on a busy machine."""
    deadline = time.monotonic() + within
    while True:
        row = await db.fetchone("SELECT state FROM notify_outbox WHERE channel = ?", (channel,))
        if row is not None and row["state"] == state:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the {channel} outbox row is {row and row['state']!r}, not {state!r}")
        await asyncio.sleep(0.02)


def statuses(posts: Sequence[Post]) -> list[int]:
    return [p.status for p in posts]


async def run_watcher(*args: str, within: float = 60.0) -> tuple[int, str, str]:
    """``python -m watcher ARGS`` as a user runs it, from a test whose loop serves the sinks meanwhile
    (click's CliRunner would run the command's own event loop inside the test's); (code, out, err)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watcher", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
