"""From stream batches to durable work: the filter stage of event → filter → fetch → diff → store.

A batch's effects (tracked-set updates, inbox rows for the fetch worker, counters) are committed in
ONE transaction together with the stream cursor, so a kill at any instant either keeps the batch and
its cursor or neither. Batches with nothing for us only move the cursor in memory, flushed every few
seconds: no per-event database write for the 99.9 % of events that do not match.

While a backlog is caught up (:attr:`EventBatch.backlog`: a restart after hours, a firehose), the
candidates of many batches wait in memory and are committed together, with the cursor of the last
of them, at most :data:`GROUP_SECONDS` (or :data:`GROUP_EVENTS` candidates) later: one commit, one
fsync, instead of one per batch, while the durability rule stays (a kill loses only uncommitted work,
whose events come again from the stored cursor). A batch that may change the tracked set is applied
at once, as is everything pending when the stream is followed live. Meanwhile the fetch worker, whose
work waits durably in the inbox, is woken at most every :data:`WORKER_WAKE_SECONDS` and as soon as
the stream goes quiet, so that it does not take the loop from the stream while the backlog comes in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from watcher.config import Config, FiltersSection
from watcher.store import queue as store_queue
from watcher.store import state as store_state
from watcher.store import tracked as store_tracked
from watcher.store.engine import Connection, Store
from watcher.stream.client import EventBatch, StreamEvent
from watcher.stream.events import (
    Categorized,
    Deleted,
    Edit,
    MalformedEvent,
    Moved,
    RecentChange,
    RevisionsHidden,
    Uploaded,
    interpret,
    parse_event,
)
from watcher.tracking.collections import uploader_collections
from watcher.tracking.resolver import TrackedSet, canonical_title

log = logging.getLogger("watcher.ingest")

CURSOR_FLUSH_SECONDS = 2.0
# While catching up a backlog: candidates wait at most this long, or this many, to be committed together.
GROUP_SECONDS = 0.5
GROUP_EVENTS = 500
# ... and the fetch worker, whose work waits in the inbox, is woken at most this often (the stream takes
# the loop first), and as soon as the stream has been quiet for QUIET_SECONDS.
WORKER_WAKE_SECONDS = 5.0
QUIET_SECONDS = 0.5


class EditorFilter:
    """Whose edits make no change records of their own (``[filters] ignore_bots``, ``ignore_users``):
    the one rule of ingest and the fetch worker.

    Such an edit still withdraws or supersedes what it undid or changed again (contract: "whoever made
    it"), so where its file has changes standing in the queue, ingest hands it to the worker, which
    uses it only for that (:func:`watcher.pipeline.queueing.queue_changes`, ``never_queue``).
    """

    def __init__(self, filters: FiltersSection) -> None:
        self.ignore_bots = filters.ignore_bots
        self.ignore_users = frozenset(canonical_title(u) for u in filters.ignore_users)

    def reason(self, change: RecentChange) -> str | None:
        """Why an action of this event makes no change record ("bot", "ignored user"), or None."""
        if change.bot and self.ignore_bots:
            return "bot"
        if change.user is not None and canonical_title(change.user) in self.ignore_users:
            return "ignored user"
        return None


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
        db: Store,
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
        self.editor_filter = EditorFilter(config.filters)
        # Whose uploads join which collections (an uploader may be tracked by several).
        self.uploader_collections = uploader_collections(config.collections)
        self._pending_id: str | None = None
        self._pending_time: str | None = None
        self._pending_counts: dict[str, int] = {}
        # Candidates of backlog batches waiting to be committed together, and since when.
        self._group: list[StreamEvent] = []
        self._group_since = 0.0
        self._group_batches = 0
        self._last_flush = clock()
        # When the worker was last woken, whether it is owed a wake-up, when the last batch came and
        # whether it was the live stream's.
        self._last_wake = clock()
        self._worker_owed = False
        self._last_batch = clock()
        self._live = True
        # The stream consumer and the periodic flush share the pending position: one at a time.
        self._lock = asyncio.Lock()

    async def handle(self, batch: EventBatch) -> None:
        """Take a batch; raises where its commit failed, and then forgets everything still waiting
        (the caller starts again from the stored position, which was never moved past it)."""
        async with self._lock:
            try:
                await self._handle(batch)
            except Exception:
                self._clear_pending()
                raise

    async def _handle(self, batch: EventBatch) -> None:
        self._last_batch = self.clock()
        if batch.backlog and self._live:
            self._last_wake = self._last_batch  # a backlog begins: the worker's first wake is due in 5 s
        self._live = not batch.backlog
        if self._live and self._worker_owed:
            self._wake_worker()
        self._advance(batch)
        if batch.events:
            if not self._group:
                self._group_since = self.clock()
                self._group_batches = 0
            self._group.extend(batch.events)
            self._group_batches += 1
        if self._group:
            if self._group_due(batch):
                await self._flush()
        elif self.clock() - self._last_flush >= CURSOR_FLUSH_SECONDS:
            await self._flush()

    def _group_due(self, batch: EventBatch | None) -> bool:
        """Whether the waiting candidates must be committed now (``batch``: the one just taken)."""
        if batch is not None and (not batch.backlog or batch.changes_tracking):
            return True
        return len(self._group) >= GROUP_EVENTS or self.clock() - self._group_since >= GROUP_SECONDS

    def _advance(self, batch: EventBatch) -> None:
        """A batch's position and counts wait in memory for the next commit."""
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
        """Keep the stored position and counters at most a few seconds behind, even on a quiet stream,
        and waiting candidates at most :data:`GROUP_SECONDS`."""
        while True:
            await asyncio.sleep(GROUP_SECONDS)
            await self.tick()

    async def tick(self) -> None:
        """What :meth:`flush_periodically` does every GROUP_SECONDS: commit what is due, wake the
        worker where it is owed a wake-up."""
        async with self._lock:
            if (
                self._group_due(None)
                if self._group
                else self.clock() - self._last_flush >= CURSOR_FLUSH_SECONDS
            ):
                await self._flush()
            now = self.clock()
            quiet = now - self._last_batch >= QUIET_SECONDS
            if self._worker_owed and (quiet or now - self._last_wake >= WORKER_WAKE_SECONDS):
                self._wake_worker()

    async def forget_pending(self) -> None:
        """The stream starts again from the stored position: what waits in memory will come again."""
        async with self._lock:
            self._clear_pending()

    async def _flush(self) -> None:
        """Commit the waiting candidates' work with the cursor and counters, in one transaction."""
        if (
            self._pending_id is None
            and self._pending_time is None
            and not self._pending_counts
            and not self._group
        ):
            return
        outcome = _BatchOutcome()
        async with self.db.transaction() as conn:
            for event in self._group:
                await self._apply(conn, event.data, outcome)
            await self._write_pending(
                conn,
                {
                    "events_malformed": outcome.malformed,
                    "events_matched": outcome.matched,
                    "events_duplicate": outcome.duplicates,
                },
            )
        if len(self._group) > 1:
            log.debug(
                "committed %d candidates of %d batches together, with the cursor %s",
                len(self._group), self._group_batches, self._pending_id,
            )  # fmt: skip
        # Only after the commit: the cursor and the in-memory mirror follow the database, never lead it,
        # so candidates whose transaction failed are taken again from the stored position.
        self._clear_pending()
        for title in outcome.drop_files:
            self.tracked.files.discard(title)
        for title in outcome.add_files:
            self.tracked.files.add(title)
        if outcome.queued:
            if self._live or self.clock() - self._last_wake >= WORKER_WAKE_SECONDS:
                self._wake_worker()
            else:
                self._worker_owed = True  # a backlog is being taken: flush_periodically wakes it

    def _wake_worker(self) -> None:
        self._worker_owed = False
        self._last_wake = self.clock()
        self.wake_worker()

    async def _write_pending(self, conn: Connection, counts: dict[str, int]) -> None:
        if self._pending_id is not None:
            await store_state.set_state(conn, store_state.CURSOR_ID, self._pending_id)
        if self._pending_time is not None:
            await store_state.set_state(conn, store_state.CURSOR_TIME, self._pending_time)
        totals = dict(self._pending_counts)
        for name, amount in counts.items():
            if amount:
                totals[name] = totals.get(name, 0) + amount
        await store_state.add_counters(conn, totals)

    def _clear_pending(self) -> None:
        self._pending_id = None
        self._pending_time = None
        self._pending_counts = {}
        self._group = []
        self._last_flush = self.clock()

    def _count(self, name: str, amount: int) -> None:
        if amount:
            self._pending_counts[name] = self._pending_counts.get(name, 0) + amount

    async def _apply(self, conn: Connection, data: dict[str, object], outcome: _BatchOutcome) -> None:
        """One candidate. An unforeseen failure skips this event (logged, counted as malformed) rather
        than failing the batch, which would be redelivered and fail again for ever."""
        try:
            await self._apply_one(conn, data, outcome)
        except Exception:
            outcome.malformed += 1
            log.exception("event skipped after an internal error: %.300r", data)

    async def _apply_one(self, conn: Connection, data: dict[str, object], outcome: _BatchOutcome) -> None:
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
        elif isinstance(meaning, RevisionsHidden):
            await self._revisions_hidden(conn, meaning, outcome)
        else:
            await self._deleted(conn, meaning, outcome)

    async def _is_tracked(self, conn: Connection, title: str, outcome: _BatchOutcome) -> bool:
        """Tracked per the database, including files that joined earlier in this same batch."""
        if not (self.tracked.has_file(title) or title in outcome.add_files):
            return False
        return await store_tracked.is_tracked(conn, title)

    async def _edit(self, conn: Connection, edit: Edit, outcome: _BatchOutcome) -> None:
        if not await self._is_tracked(conn, edit.title, outcome):
            return
        outcome.matched += 1
        change = edit.change
        why = "page creation" if edit.old_revision is None else self.editor_filter.reason(change)
        if why == "page creation" or (why and not await self._has_standing_work(conn, change, edit.title)):
            log.debug("edit r%d of %s makes no records (%s)", edit.new_revision, edit.title, why)
            await store_state.remember_event(conn, change.key, edit.title)
            return
        if why:
            log.debug(
                "edit r%d of %s (%s) is fetched only to see what it undid or changed again",
                edit.new_revision, edit.title, why,
            )  # fmt: skip
        if await store_state.enqueue(conn, change.key, "edit", edit.title, change.raw):
            outcome.queued += 1

    async def _has_standing_work(self, conn: Connection, change: RecentChange, title: str) -> bool:
        """Whether an edit of ``title`` could undo or change again something queued: the file has queued
        changes not yet undone, or edits still waiting to be fetched (met before the edit they undo).
        One indexed look-up, no API request: a bot's edit of any other file stays as cheap as before."""
        if await store_queue.has_standing_changes(conn, change.wiki, title):
            return True
        return await store_state.pending_of_kind(conn, "edit", title)

    async def _categorized(self, conn: Connection, event: Categorized, outcome: _BatchOutcome) -> None:
        if not self.tracked.has_category(event.category):
            return
        roots = await store_tracked.category_roots(conn, event.category)
        if not roots:
            return
        outcome.matched += 1
        await store_state.remember_event(conn, event.change.key, event.category)
        member = event.member
        if member is None or member.startswith("Category:"):
            # No page named (or a subcategory came or went): resolve the category again through the API
            # (in each collection whose root it is under), unless a refresh of it is already waiting.
            for root in dict.fromkeys(root for _, root in roots):
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
            joined = False
            for collection in dict.fromkeys(collection for collection, _ in roots):
                joined |= await store_tracked.add_file(
                    conn, member, "category", event.category, collection=collection
                )
            if joined:
                log.info("%s joined the tracked set (added to %s)", member, event.category)
            outcome.add_files.append(member)
        elif await store_tracked.remove_reason(conn, member, "category", event.category):
            log.info("%s left the tracked set (removed from %s)", member, event.category)

    async def _uploaded(self, conn: Connection, event: Uploaded, outcome: _BatchOutcome) -> None:
        change = event.change
        user = canonical_title(change.user) if change.user else None
        if event.action == "upload":
            if user is not None and self.tracked.has_uploader(user):
                outcome.matched += 1
                await store_state.remember_event(conn, change.key, event.title)
                joined = False
                for collection in self.uploader_collections.get(user, ()):
                    joined |= await store_tracked.add_file(
                        conn, event.title, "uploader", user, collection=collection
                    )
                if joined:
                    log.info("%s joined the tracked set (uploaded by %s)", event.title, user)
                outcome.add_files.append(event.title)
            return
        if not await self._is_tracked(conn, event.title, outcome):
            return
        outcome.matched += 1
        if self.editor_filter.reason(change):
            await store_state.remember_event(conn, change.key, event.title)
            return
        if await store_state.enqueue(conn, change.key, "file", event.title, change.raw):
            outcome.queued += 1

    async def _is_known(self, conn: Connection, title: str, outcome: _BatchOutcome) -> bool:
        if not (self.tracked.has_file(title) or title in outcome.add_files):
            return False
        return await store_tracked.is_known(conn, title)

    async def _moved(self, conn: Connection, event: Moved, outcome: _BatchOutcome) -> None:
        if not await self._is_known(conn, event.old_title, outcome):
            return
        outcome.matched += 1
        await store_state.remember_event(conn, event.change.key, event.old_title)
        if await store_tracked.rename_file(conn, event.old_title, event.new_title):
            log.info("tracked file moved: %s → %s", event.old_title, event.new_title)
            outcome.drop_files.append(event.old_title)
            outcome.add_files.append(event.new_title)

    async def _deleted(self, conn: Connection, event: Deleted, outcome: _BatchOutcome) -> None:
        if not await self._is_known(conn, event.title, outcome):
            return
        outcome.matched += 1
        await store_state.remember_event(conn, event.change.key, event.title)
        await store_tracked.set_deleted(conn, event.title, deleted=not event.restored)
        log.info("tracked file %s: %s", "restored" if event.restored else "deleted", event.title)

    async def _revisions_hidden(
        self, conn: Connection, event: RevisionsHidden, outcome: _BatchOutcome
    ) -> None:
        """Revision deletion of a tracked file's revisions: where pending changes of the revisions it
        names (or, naming none, any pending change of the file) could be affected, the worker asks the
        Action API which are hidden now (watcher.pipeline.revdel); otherwise nothing costs a request."""
        if not await self._is_tracked(conn, event.title, outcome):
            return
        outcome.matched += 1
        change = event.change
        named = event.revisions or None
        if event.content is False:
            why = "only the user name or summary was hidden, or content shown again"
        elif not await store_queue.has_pending_revisions(conn, change.wiki, event.title, named):
            why = "no pending change of those revisions"
        else:
            why = ""
        if why:
            log.debug("revision deletion on %s withdraws nothing (%s)", event.title, why)
            await store_state.remember_event(conn, change.key, event.title)
            return
        log.info(
            "revision deletion on %s (%s): its pending changes' revisions are checked",
            event.title, ", ".join(f"r{r}" for r in event.revisions) or "revisions not named",
        )  # fmt: skip
        if await store_state.enqueue(conn, change.key, "revdel", event.title, change.raw):
            outcome.queued += 1
