"""Push on accept: each accepted change, and each retraction of one, POSTed as signed JSON to
``[export] webhook``, for collection systems with an API.

The review history (``review_events``) is the outbox, so nothing has to be queued twice and nothing
can be queued and then lost: every event that moves a change *to* ``accepted`` is an ``accepted``
push, every event that moves a pushed change *away* from it a ``retracted`` push. One cursor, the last
delivered event's id in the ``state`` table, says how far the receiver has been told. It advances in
its own transaction only after the receiver answered 2xx, so a crash between the delivery and that
commit repeats exactly that one delivery, with the same ``X-Watcher-Delivery`` id for the receiver to
drop (at most one duplicate). Deliveries go one at a time in event order: a collection system never
hears of a retraction before the accept it retracts.

A receiver that is down, slow or rate-limiting (network errors, timeouts, 408, 429, 5xx) is retried
with capped exponential backoff, honouring ``Retry-After``. One that refuses (any other 4xx, a
redirect to another host) is misconfigured: logged as an error each time and still retried, at the
capped interval, so that no change is ever skipped; ``watcher status`` shows the refusal.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from watcher.base.masking import mask_secrets, register_secret, register_url_secrets
from watcher.base.retry import EQUAL_JITTER, Backoff, parse_retry_after
from watcher.base.values import PushEvent
from watcher.config import Config, ExportSection
from watcher.export.jsonl import record_object
from watcher.export.shared import index_url
from watcher.export.words import labels_for
from watcher.store.db import utcnow
from watcher.store.engine import Store
from watcher.store.queue import ChangeFilter, list_changes
from watcher.store.reviews import ReviewEvent
from watcher.store.state import get_state, set_state

log = logging.getLogger("watcher.export.push")


# Keys of the `state` table: the cursor, and the figures `watcher status` shows.
STATE_PUSHED = "webhook_pushed_id"  # the last review event the receiver took (2xx)
STATE_LAST_SUCCESS = "webhook_last_success_at"
STATE_LAST_ERROR = "webhook_last_error"  # masked; cleared by the next success
STATE_LAST_ERROR_AT = "webhook_last_error_at"
STATE_REFUSED = "webhook_refused"  # "1" while the receiver refuses (4xx): a person must act
STATE_ATTEMPTS = "webhook_failed_attempts"  # failed attempts at the delivery now due
STATE_BACKLOG = "webhook_backlog"  # events waiting, as of the last attempt

POLL_SECONDS = 2.0
BATCH = 100
BODY_EXCERPT = 200  # characters of a refusing receiver's answer that are logged
_BODY_READ = 4096
MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

# The review events that are pushes. A retraction only for a change the receiver was told of: an
# earlier event accepted it (and, deliveries being in order, was delivered before this one).
_PUSHABLE = """(
    (e.status_after = 'accepted' AND e.status_before != 'accepted')
    OR (e.status_before = 'accepted' AND e.status_after != 'accepted' AND EXISTS (
        SELECT 1 FROM review_events p WHERE p.change_id = e.change_id AND p.id < e.id
            AND p.status_after = 'accepted' AND p.status_before != 'accepted'))
)"""


def default_backoff() -> Backoff:
    """2 s doubling to 5 min, 50–100 %: a receiver back from an outage is not hit by a thundering herd."""
    return Backoff(2.0, 300.0, jitter=EQUAL_JITTER)


def load_secret(export: ExportSection) -> str:
    """The HMAC key: ``webhook_secret``, or the file's text without its trailing newline.

    Raises ValueError with a plain message where there is none (the config check says so too).
    """
    if export.webhook_secret_file is not None:
        path = export.webhook_secret_file
        try:
            secret = path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"[export] webhook_secret_file: cannot read {path}: {exc}") from exc
        if not secret:
            raise ValueError(f"[export] webhook_secret_file: {path} is empty")
        return secret
    if not export.webhook_secret:
        raise ValueError("[export] webhook_secret (or webhook_secret_file) is required with webhook")
    return export.webhook_secret


def sign(secret: str, body: bytes) -> str:
    """``X-Watcher-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def push_event(event: ReviewEvent) -> PushEvent:
    return "accepted" if event.status_after == "accepted" else "retracted"


async def pushed_up_to(db: Store) -> int:
    value = await get_state(db, STATE_PUSHED)
    return int(value) if value and value.isdigit() else 0


async def pending_events(db: Store, after: int, limit: int = BATCH) -> list[ReviewEvent]:
    """The review events still to push after event ``after``, oldest first."""
    rows = await db.fetchall(
        f"SELECT e.* FROM review_events e WHERE e.id > ? AND {_PUSHABLE} ORDER BY e.id LIMIT ?",
        (after, limit),
    )
    return [ReviewEvent.from_row(row) for row in rows]


async def backlog(db: Store, after: int) -> int:
    return int(
        await db.scalar(f"SELECT count(*) FROM review_events e WHERE e.id > ? AND {_PUSHABLE}", (after,))
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST: built once per event, so every retry sends the same bytes with the same signature."""

    event_id: int
    change_id: int
    event: PushEvent
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a delivery did not go through; ``refused`` where retrying alone will not help."""

    message: str
    refused: bool = False
    status: int | None = None
    retry_after: float | None = None


def _origin(url: URL) -> tuple[str, str | None, int | None]:
    return (url.scheme, url.host, url.port)


async def _wait(seconds: float, *events: asyncio.Event) -> None:
    """Until one of ``events`` is set or ``seconds`` have passed."""
    if any(event.is_set() for event in events):
        return
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


class WebhookPusher:
    """Delivers the review history's accepts and retractions to ``[export] webhook``, in order.

    ``session`` may be given (tests, a shared client); otherwise one is made and closed by :meth:`run`
    or :meth:`close`. ``backoff`` paces retries (:func:`default_backoff`).
    """

    def __init__(
        self,
        db: Store,
        config: Config,
        session: aiohttp.ClientSession | None = None,
        *,
        backoff: Backoff | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        export = config.export
        if not export.webhook:
            raise ValueError("[export] webhook is not set: there is nowhere to push to")
        self.db = db
        self.config = config
        self.url = URL(export.webhook)
        self.secret = load_secret(export)
        # Hidden in every log line from now on: the key, and any token in the receiver's URL.
        register_secret(self.secret)
        register_url_secrets(export.webhook)
        self.timeout = aiohttp.ClientTimeout(total=export.webhook_timeout)
        self.backoff = backoff or default_backoff()
        self.poll_seconds = poll_seconds
        self._session = session
        self._own_session = session is None
        self._woken = asyncio.Event()
        self._index = index_url(config)

    def wake(self) -> None:
        """Look for new review events now rather than at the next poll."""
        self._woken.set()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def run(self, stop: asyncio.Event) -> None:
        """Push until ``stop`` is set: every event due, then a poll every ``poll_seconds`` (or a wake)."""
        log.info("pushing accepted changes to %s", mask_secrets(str(self.url)))
        try:
            while not stop.is_set():
                self._woken.clear()
                await self.push_pending(stop)
                await _wait(self.poll_seconds, stop, self._woken)
        finally:
            await self.close()

    async def push_pending(self, stop: asyncio.Event | None = None) -> int:
        """Deliver every event due, in order, each retried until the receiver takes it; returns how
        many were delivered. Returns early (the rest stay due) once ``stop`` is set."""
        stop = stop or asyncio.Event()
        delivered = 0
        cursor = await pushed_up_to(self.db)
        while not stop.is_set():
            events = await pending_events(self.db, cursor)
            if not events:
                break
            for event in events:
                if not await self._push_one(event, stop):
                    return delivered
                delivered += 1
                cursor = event.id
        return delivered

    async def _push_one(self, event: ReviewEvent, stop: asyncio.Event) -> bool:
        """Deliver one event, retrying; True once delivered and the cursor committed, False if stopped."""
        delivery = await self.build(event)
        while True:
            failure = await self.deliver(delivery)
            if failure is None:
                await asyncio.shield(self._record_success(delivery))
                return True
            delay = self._delay(failure)
            await self._record_failure(delivery, failure)
            self._log_failure(delivery, failure, delay)
            await _wait(delay, stop)
            if stop.is_set():
                return False

    async def build(self, event: ReviewEvent) -> Delivery:
        """The payload of one event: the change record as `watcher changes --format jsonl` prints it
        now, and who made this decision, when, with which note."""
        records = await list_changes(self.db, ChangeFilter(status="all", kind="all", ids=[event.change_id]))
        kind = push_event(event)
        labels = await labels_for(self.db, records, self.config.labels.languages)
        payload: dict[str, Any] = {
            "event": kind,
            "delivery": str(event.id),
            "change": record_object(records[0], self._index, labels) if records else None,
            "status": event.status_after,
            "reviewed_by": event.actor,
            "reviewed_at": event.at,
            "note": event.note,
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": self.config.user_agent,
            "X-Watcher-Event": kind,
            "X-Watcher-Delivery": str(event.id),
            "X-Watcher-Signature": sign(self.secret, body),
        }
        return Delivery(event.id, event.change_id, kind, body, headers)

    async def deliver(self, delivery: Delivery) -> Failure | None:
        """One attempt (following redirects on the same scheme, host and port only); None on 2xx."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = self.url
        try:
            for _ in range(MAX_REDIRECTS + 1):
                async with self._session.post(
                    url, data=delivery.body, headers=delivery.headers, allow_redirects=False,
                    timeout=self.timeout,
                ) as response:  # fmt: skip
                    status = response.status
                    if status in _REDIRECTS:
                        location = response.headers.get("Location", "")
                        target = url.join(URL(location)) if location else None
                        if target is None or _origin(target) != _origin(url):
                            where = mask_secrets(str(target)) if target else "nowhere (no Location)"
                            return Failure(
                                f"HTTP {status}: redirected to {where}: not followed (only redirects to the "
                                "same scheme, host and port are; set [export] webhook to the final address)",
                                refused=True, status=status,
                            )  # fmt: skip
                        url = target
                        continue
                    if 200 <= status < 300:
                        return None
                    excerpt = await _excerpt(response)
                    message = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
                    if status in (408, 429) or status >= 500:
                        retry_after = parse_retry_after(response.headers.get("Retry-After"))
                        return Failure(message, status=status, retry_after=retry_after)
                    return Failure(message, refused=True, status=status)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            return Failure(mask_secrets(reason.rstrip(": ")))
        return Failure(f"more than {MAX_REDIRECTS} redirects", refused=True)

    def _delay(self, failure: Failure) -> float:
        if failure.refused:
            self.backoff.next_delay()  # counted, so that a later outage starts from the cap
            return self.backoff.cap
        delay = self.backoff.next_delay()
        if failure.retry_after is not None:
            return max(failure.retry_after, self.backoff.initial)
        return delay

    def _log_failure(self, delivery: Delivery, failure: Failure, delay: float) -> None:
        what = f"delivery {delivery.event_id} ({delivery.event} change {delivery.change_id})"
        if failure.refused:
            log.error(
                "the webhook receiver %s refused %s: %s — nothing is skipped: retrying every %g s "
                "until it takes it (fix the receiver or [export] webhook)",
                mask_secrets(str(self.url)), what, failure.message, delay,
            )  # fmt: skip
        else:
            log.warning(
                "the webhook receiver %s did not take %s: %s — retrying in %.3g s",
                mask_secrets(str(self.url)), what, failure.message, delay,
            )  # fmt: skip

    async def _record_success(self, delivery: Delivery) -> None:
        """Advance the cursor past this event: its own transaction, after the receiver's 2xx."""
        failed_before = int(await get_state(self.db, STATE_ATTEMPTS) or 0)
        remaining = await backlog(self.db, delivery.event_id)
        async with self.db.transaction() as conn:
            await set_state(conn, STATE_PUSHED, str(delivery.event_id))
            await set_state(conn, STATE_LAST_SUCCESS, utcnow())
            await set_state(conn, STATE_LAST_ERROR, None)
            await set_state(conn, STATE_REFUSED, "0")
            await set_state(conn, STATE_ATTEMPTS, "0")
            await set_state(conn, STATE_BACKLOG, str(remaining))
        self.backoff.reset()
        if failed_before:
            log.info(
                "the webhook receiver took delivery %d after %d failed attempt(s)",
                delivery.event_id,
                failed_before,
            )
        else:
            log.debug("delivered %d (%s change %d)", delivery.event_id, delivery.event, delivery.change_id)

    async def _record_failure(self, delivery: Delivery, failure: Failure) -> None:
        attempts = int(await get_state(self.db, STATE_ATTEMPTS) or 0) + 1
        remaining = await backlog(self.db, delivery.event_id - 1)
        text = mask_secrets(f"delivery {delivery.event_id}: {failure.message}")
        async with self.db.transaction() as conn:
            await set_state(conn, STATE_LAST_ERROR, text)
            await set_state(conn, STATE_LAST_ERROR_AT, utcnow())
            await set_state(conn, STATE_REFUSED, "1" if failure.refused else "0")
            await set_state(conn, STATE_ATTEMPTS, str(attempts))
            await set_state(conn, STATE_BACKLOG, str(remaining))


async def _excerpt(response: aiohttp.ClientResponse) -> str:
    """The start of a receiver's answer, one line, masked: what the error log shows of it."""
    with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
        raw = await response.content.read(_BODY_READ)
        text = " ".join(raw.decode("utf-8", errors="replace").split())
        return mask_secrets(text[:BODY_EXCERPT])
    return ""


async def webhook_status(db: Store, config: Config) -> dict[str, Any]:
    """The ``webhook`` object of `watcher status`: how far the receiver has been told, and how it goes."""
    states = {key: await get_state(db, key) for key in (
        STATE_LAST_SUCCESS, STATE_LAST_ERROR, STATE_LAST_ERROR_AT, STATE_REFUSED, STATE_ATTEMPTS,
    )}  # fmt: skip
    pushed = await pushed_up_to(db)
    configured = bool(config.export.webhook)
    return {
        "configured": configured,
        "url": mask_secrets(config.export.webhook) if configured else None,
        "pushed_up_to": pushed,
        "backlog": await backlog(db, pushed) if configured else None,
        "last_success_at": states[STATE_LAST_SUCCESS],
        "last_error": states[STATE_LAST_ERROR],
        "last_error_at": states[STATE_LAST_ERROR_AT],
        "refused": states[STATE_REFUSED] == "1",
        "failed_attempts": int(states[STATE_ATTEMPTS] or 0),
    }
