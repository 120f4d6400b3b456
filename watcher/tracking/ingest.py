"""From stream batches to durable work: the filter stage of event → filter → fetch → diff → store.

Each batch's effects (tracked-set updates, inbox rows for the fetch worker, counters) are committed in
ONE transaction together with the stream cursor, so a kill at any instant either keeps the batch and
its cursor or neither. Batches with nothing for us only move the cursor in memory, flushed every few
seconds: no per-event database write for the 99.9 % of events that do not match.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiosqlite

from watcher.config import Config
from watcher.store import Database
from watcher.store import state as store_state
from watcher.store import tracked as store_tracked
from watcher.stream.client import EventBatch
from watcher.stream.events import (
    Categorized,
    Deleted,
    Edit,
    MalformedEvent,
    Moved,
    RecentChange,
    Uploaded,
    interpret,
    parse_event,
)
from watcher.tracking.resolver import TrackedSet, canonical_title

log = logging.getLogger("watcher.ingest")

CURSOR_FLUSH_SECONDS = 2.0


@dataclass
class _BatchOutcome:
    matched: int = 0
    malformed: int = 0
    queued: int = 0
    duplicates: int = 0
    add_files: list[str] = field(default_factory=list)
    drop_files: list[str] = field(default_factory=list)


class Ingest:
    """Applies stream batches to the database; owns the cursor's write policy."""

    def __init__(
        self,
        db: Database,
        tracked: TrackedSet,
        config: Config,
        *,
        wake_worker: Callable[[], None] = lambda: None,
        wake_tracking: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.tracked = tracked
        self.config = config
        self.wake_worker = wake_worker
        self.wake_tracking = wake_tracking
        self.clock = clock
        self.ignore_users = {canonical_title(u) for u in config.filters.ignore_users}
        self._pending_id: str | None = None
        self._pending_time: str | None = None
        self._pending_counts: dict[str, int] = {}
        self._last_flush = clock()
        # The stream consumer and the periodic flush share the pending position: one at a time.
        self._lock = asyncio.Lock()

    async def handle(self, batch: EventBatch) -> None:
        async with self._lock:
            await self._handle(batch)

    async def _handle(self, batch: EventBatch) -> None:
        if not batch.events:
            self._advance(batch)
            if self.clock() - self._last_flush >= CURSOR_FLUSH_SECONDS:
                await self._flush()
            return
        outcome = _BatchOutcome()
        async with self.db.transaction() as conn:
            for event in batch.events:
                await self._apply(conn, event.data, outcome)
            counts = {
                "events_seen": batch.seen,
                "events_malformed": batch.malformed + outcome.malformed,
                "events_matched": outcome.matched,
                "events_duplicate": outcome.duplicates,
            }
            await self._write_pending(conn, batch, counts)
        # Only after the commit: the cursor and the in-memory mirror follow the database, never lead it,
        # so a batch whose transaction failed is taken again from the stored position.
        self._clear_pending()
        for title in outcome.drop_files:
            self.tracked.files.discard(title)
        for title in outcome.add_files:
            self.tracked.files.add(title)
        if outcome.queued:
            self.wake_worker()

    def _advance(self, batch: EventBatch) -> None:
        """A batch with nothing for us: its position and counts wait in memory for the next flush."""
        if batch.last_id is not None:
            self._pending_id = batch.last_id
        if batch.last_time is not None:
            self._pending_time = batch.last_time
        self._count("events_seen", batch.seen)
        self._count("events_malformed", batch.malformed)

    async def flush(self) -> None:
        """Persist the cursor and counters now (every few seconds, and on shutdown)."""
        async with self._lock:
            await self._flush()

    async def flush_periodically(self) -> None:
        """Keep the stored position and counters at most a few seconds behind, even on a quiet stream."""
        while True:
            await asyncio.sleep(CURSOR_FLUSH_SECONDS)
            if self.clock() - self._last_flush >= CURSOR_FLUSH_SECONDS:
                await self.flush()

    async def _flush(self) -> None:
        if self._pending_id is None and self._pending_time is None and not self._pending_counts:
            return
        async with self.db.transaction() as conn:
            await self._write_pending(conn, None, {})
        self._clear_pending()

    async def _write_pending(
        self, conn: aiosqlite.Connection, batch: EventBatch | None, counts: dict[str, int]
    ) -> None:
        last_id = batch.last_id if batch is not None and batch.last_id is not None else self._pending_id
        last_time = (
            batch.last_time if batch is not None and batch.last_time is not None else self._pending_time
        )
        if last_id is not None:
            await store_state.set_state(conn, store_state.CURSOR_ID, last_id)
        if last_time is not None:
            await store_state.set_state(conn, store_state.CURSOR_TIME, last_time)
        totals = dict(self._pending_counts)
        for name, amount in counts.items():
            totals[name] = totals.get(name, 0) + amount
        await store_state.add_counters(conn, totals)

    def _clear_pending(self) -> None:
        self._pending_id = None
        self._pending_time = None
        self._pending_counts = {}
        self._last_flush = self.clock()

    def _count(self, name: str, amount: int) -> None:
        if amount:
            self._pending_counts[name] = self._pending_counts.get(name, 0) + amount

    async def _apply(
        self, conn: aiosqlite.Connection, data: dict[str, object], outcome: _BatchOutcome
    ) -> None:
        """One candidate. An unforeseen failure skips this event (logged, counted as malformed) rather
        than failing the batch, which would be redelivered and fail again for ever."""
        try:
            await self._apply_one(conn, data, outcome)
        except Exception:
            outcome.malformed += 1
            log.exception("event skipped after an internal error: %.300r", data)

    async def _apply_one(
        self, conn: aiosqlite.Connection, data: dict[str, object], outcome: _BatchOutcome
    ) -> None:
        try:
            change = parse_event(data)
        except MalformedEvent as exc:
            outcome.malformed += 1
            log.warning("malformed event skipped: %s", exc)
            return
        if change.is_canary or change.wiki != self.config.wiki.name:
            return
        meaning = interpret(change)
        if meaning is None:
            return
        if await store_state.seen_event(conn, change.key):
            outcome.duplicates += 1
            return
        if isinstance(meaning, Edit):
            await self._edit(conn, meaning, outcome)
        elif isinstance(meaning, Categorized):
            await self._categorized(conn, meaning, outcome)
        elif isinstance(meaning, Uploaded):
            await self._uploaded(conn, meaning, outcome)
        elif isinstance(meaning, Moved):
            await self._moved(conn, meaning, outcome)
        else:
            await self._deleted(conn, meaning, outcome)

    def _suppressed(self, change: RecentChange) -> str | None:
        """Why an action of this event makes no change record, or None."""
        if change.bot and self.config.filters.ignore_bots:
            return "bot"
        if change.user is not None and canonical_title(change.user) in self.ignore_users:
            return "ignored user"
        return None

    async def _is_tracked(self, conn: aiosqlite.Connection, title: str, outcome: _BatchOutcome) -> bool:
        """Tracked per the database, including files that joined earlier in this same batch."""
        if not (self.tracked.has_file(title) or title in outcome.add_files):
            return False
        return await store_tracked.is_tracked(conn, title)

    async def _edit(self, conn: aiosqlite.Connection, edit: Edit, outcome: _BatchOutcome) -> None:
        if not await self._is_tracked(conn, edit.title, outcome):
            return
        outcome.matched += 1
        change = edit.change
        why = "page creation" if edit.old_revision is None else self._suppressed(change)
        if why:
            log.debug("edit r%d of %s makes no records (%s)", edit.new_revision, edit.title, why)
            await store_state.remember_event(conn, change.key, edit.title)
            return
        if await store_state.enqueue(conn, change.key, "edit", edit.title, change.raw):
            outcome.queued += 1

    async def _categorized(
        self, conn: aiosqlite.Connection, event: Categorized, outcome: _BatchOutcome
    ) -> None:
        if not self.tracked.has_category(event.category):
            return
        root = await store_tracked.category_root(conn, event.category)
        if root is None:
            return
        outcome.matched += 1
        await store_state.remember_event(conn, event.change.key, event.category)
        member = event.member
        if member is None or member.startswith("Category:"):
            # No page named (or a subcategory came or went): resolve the category again through the API,
            # unless a refresh of it is already waiting.
            if not await store_state.pending_of_kind(conn, "category", root):
                key = f"category-refresh:{root}:{event.change.key}"
                await store_state.enqueue(
                    conn, key, "category", root, {"category": event.category, "root": root}
                )
                self.wake_tracking()
            return
        if not member.startswith("File:"):
            return
        # Categorisations arrive when the job queue runs, not in edit order: an older one than the last
        # applied for this file and category is stale.
        if not await store_tracked.newer_categorisation(
            conn, member, event.category, event.change.timestamp, event.added
        ):
            log.info(
                "stale categorisation of %s in %s from %s ignored",
                member,
                event.category,
                event.change.timestamp,
            )
            return
        if event.added:
            if await store_tracked.add_file(conn, member, "category", event.category):
                log.info("%s joined the tracked set (added to %s)", member, event.category)
            outcome.add_files.append(member)
        elif await store_tracked.remove_reason(conn, member, "category", event.category):
            log.info("%s left the tracked set (removed from %s)", member, event.category)

    async def _uploaded(self, conn: aiosqlite.Connection, event: Uploaded, outcome: _BatchOutcome) -> None:
        change = event.change
        user = canonical_title(change.user) if change.user else None
        if event.action == "upload":
            if user is not None and self.tracked.has_uploader(user):
                outcome.matched += 1
                await store_state.remember_event(conn, change.key, event.title)
                if await store_tracked.add_file(conn, event.title, "uploader", user):
                    log.info("%s joined the tracked set (uploaded by %s)", event.title, user)
                outcome.add_files.append(event.title)
            return
        if not await self._is_tracked(conn, event.title, outcome):
            return
        outcome.matched += 1
        if self._suppressed(change):
            await store_state.remember_event(conn, change.key, event.title)
            return
        if await store_state.enqueue(conn, change.key, "file", event.title, change.raw):
            outcome.queued += 1

    async def _is_known(self, conn: aiosqlite.Connection, title: str, outcome: _BatchOutcome) -> bool:
        if not (self.tracked.has_file(title) or title in outcome.add_files):
            return False
        return await store_tracked.is_known(conn, title)

    async def _moved(self, conn: aiosqlite.Connection, event: Moved, outcome: _BatchOutcome) -> None:
        if not await self._is_known(conn, event.old_title, outcome):
            return
        outcome.matched += 1
        await store_state.remember_event(conn, event.change.key, event.old_title)
        if await store_tracked.rename_file(conn, event.old_title, event.new_title):
            log.info("tracked file moved: %s → %s", event.old_title, event.new_title)
            outcome.drop_files.append(event.old_title)
            outcome.add_files.append(event.new_title)

    async def _deleted(self, conn: aiosqlite.Connection, event: Deleted, outcome: _BatchOutcome) -> None:
        if not await self._is_known(conn, event.title, outcome):
            return
        outcome.matched += 1
        await store_state.remember_event(conn, event.change.key, event.title)
        await store_tracked.set_deleted(conn, event.title, deleted=not event.restored)
        log.info("tracked file %s: %s", "restored" if event.restored else "deleted", event.title)
