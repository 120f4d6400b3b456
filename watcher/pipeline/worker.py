"""The fetch → diff → store stages: turns inbox items into queued change records.

Edits are independent of each other (each is diffed against its own parent revision), so the worker
takes them in batches: one `prop=revisions` request fetches both revisions of up to 25 edits. Each
edit's records and the inbox item's completion are committed together; an API failure leaves the item
pending for a later attempt with backoff, and the records' uniqueness key makes any repeat harmless.

An edit by a bot (``ignore_bots``) or an ignored user reaches the worker only where its file has
changes it could undo (:class:`watcher.tracking.ingest.EditorFilter`); it is diffed like any other and
queued with ``never_queue``: it withdraws and supersedes, and makes no record of its own. A revision
deletion of a tracked file (``revdel`` work) has the file's pending changes' revisions checked
(:func:`watcher.pipeline.revdel.withdraw_hidden_of_file`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from datetime import timedelta

import aiohttp

from watcher.base.retry import Backoff, supervise
from watcher.config import Config
from watcher.diff.model import FieldChange
from watcher.mediawiki.client import ActionApi, ApiError, Revision
from watcher.mediawiki.types import Revisions, Unanswered, unanswered_message
from watcher.pipeline.editors import EditorFacts
from watcher.pipeline.labels import LabelResolver
from watcher.pipeline.queueing import Queued, queue_changes
from watcher.pipeline.records import RecordMaker, incomparable
from watcher.pipeline.redirects import stored_redirects
from watcher.pipeline.revdel import withdraw_hidden_of_file, withdraw_hidden_revisions
from watcher.store import queue as store_queue
from watcher.store import state as store_state
from watcher.store.engine import Store
from watcher.store.state import InboxItem
from watcher.store.thumbnails import THUMB_WIDTH, store_thumbnails
from watcher.stream.events import RevisionsHidden, interpret, parse_event
from watcher.tracking.ingest import EditorFilter

log = logging.getLogger("watcher.worker")

EDITS_PER_ROUND = 25  # 50 revision ids: one API request
RETRY_SECONDS = 30.0  # the longest idle wait, and the wait after an unexpected error
RESTART_MESSAGE = "%s failed; retrying in %.0f s"


class Worker:
    def __init__(
        self,
        db: Store,
        api: ActionApi,
        config: Config,
        *,
        labels: LabelResolver | None = None,
        on_queued: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.db = db
        self.api = api
        self.config = config
        self.records = RecordMaker(config, labels)
        self.editors = EditorFacts(db, api)  # who made each edit: one list=users per 50 new editors
        self.editor_filter = EditorFilter(config.filters)  # whose edits only undo, never queue
        self.on_queued = on_queued
        self._wake = asyncio.Event()
        self.api_errors = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Process due work until cancelled; sleeps until woken or the next retry is due.

        A bug must not stop the daemon: after an unexpected error the items stay pending and the rounds
        start again 30 s later.
        """
        backoff = Backoff(RETRY_SECONDS, RETRY_SECONDS, factor=1.0)
        await supervise("fetch worker", self._rounds, log=log, backoff=backoff, message=RESTART_MESSAGE)

    async def _rounds(self) -> None:
        while True:
            self._wake.clear()
            if await self.process_due():
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=RETRY_SECONDS)

    async def process_due(self) -> int:
        """One round: up to EDITS_PER_ROUND due items. Returns how many items were settled."""
        items = await store_state.due_items(self.db, EDITS_PER_ROUND, ("edit", "file", "revdel"))
        if not items:
            return 0
        edits = [item for item in items if item.kind == "edit"]
        self.records.use_redirects((await stored_redirects(self.db))[0])  # the daemon keeps them current
        settled = 0
        if edits:
            settled += await self._process_edits(edits)
        for item in items:
            if item.kind == "file":
                settled += await self._process_upload(item)
            elif item.kind == "revdel":
                settled += await self._process_revdel(item)
        return settled

    def _never_queue(self, item: InboxItem) -> str | None:
        """Why this edit makes no records of its own (a bot's, an ignored user's), or None."""
        return self.editor_filter.reason(parse_event(item.event))

    async def _process_edits(self, items: list[InboxItem]) -> int:
        revids: list[int] = []
        for item in items:
            raw = item.event.get("revision") or {}
            revids += [int(r) for r in (raw.get("old"), raw.get("new")) if isinstance(r, int) and r > 0]
        try:
            revisions = await self.api.revisions(sorted(set(revids)), thumb_width=THUMB_WIDTH)
            # The editors of the edits the answer holds (the rest make no records now), but not of the
            # edits that only undo (their changes are never queued).
            found = [
                i for i in items
                if (i.event.get("revision") or {}).get("new") in revisions and not self._never_queue(i)
            ]  # fmt: skip
            wanted = {(i.event.get("revision") or {}).get("new") for i in found}
            tags = (tag for revid, revision in revisions.items() if revid in wanted for tag in revision.tags)
            await self.editors.learn((item.event.get("user") for item in found), tags, inbox_ahead=True)
        except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
            await self._retry(items, f"cannot fetch revisions: {exc}")
            return 0
        await withdraw_hidden_revisions(self.db, self.api, self.config.wiki.name, revisions)
        await store_thumbnails(self.db, revisions.thumbnails.values())  # for the review page
        settled = 0
        for item in items:
            try:
                never_queue = self._never_queue(item)
                changes, provenance_in = await self._diff_edit(item, revisions)
                provenance: store_queue.Provenance | None = None
                queued = Queued()
                async with self.db.transaction() as conn:
                    added = 0
                    # One fetch and one diff; the records once per collection that holds the file.
                    for collection in (
                        await self.records.collections(conn, item.title) if provenance_in else ()
                    ):
                        assert provenance_in is not None
                        provenance = provenance_in(collection)
                        provenance = self.editors.stamp(provenance, revisions[provenance.revision].tags)
                        done = await queue_changes(conn, provenance, changes, never_queue=never_queue)
                        queued = queued.plus(done)
                        added += done.added
                        await store_state.add_counters(
                            conn, {"changes_queued": done.added, "changes_withdrawn": len(done.withdrawn)}
                        )
                    await store_state.finish_item(conn, item.id)
                if provenance is not None and queued.reverted:
                    log.info(
                        "%s: r%d undid %d queued change(s) (%s withdrawn)", item.title, provenance.revision,
                        len(queued.reverted), len(queued.withdrawn) or "none",
                    )  # fmt: skip
                if provenance is not None and never_queue:
                    log.debug(
                        "%s: r%d (%s) queued no records: %d change(s) kept only to match reverts",
                        item.title, provenance.revision, never_queue, queued.reverts + queued.unqueued,
                    )  # fmt: skip
            except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
                await self._retry([item], str(exc))
                continue
            except Exception as exc:  # a bug or an input nobody foresaw: set this edit aside, go on
                log.exception(
                    "%s: cannot turn r%s into changes; set aside", item.title, item.event.get("revision")
                )
                async with self.db.transaction() as conn:
                    await store_state.finish_item(conn, item.id, error=f"internal error: {exc!r}")
                continue
            settled += 1
            if added:
                log.info(
                    "%s: %d change(s) queued from r%s", item.title, added, provenance and provenance.revision
                )
                self.on_queued(added)
        return settled

    async def _diff_edit(
        self, item: InboxItem, revisions: Revisions[Revision]
    ) -> tuple[list[FieldChange], Callable[[str], store_queue.Provenance] | None]:
        """The edit's records and their provenance in a collection, or none where the API said a
        revision is gone or hidden.

        Revisions the answer left out without naming them gone raise :class:`Unanswered` (an
        :class:`ApiError`), so the edit goes the retry path instead of being marked done.
        """
        change = parse_event(item.event)
        new_id, old_id = change.new_revision, change.old_revision
        new = revisions.get(new_id) if new_id else None
        old = revisions.get(old_id) if old_id else None
        why = incomparable(revisions, old_id, new_id)
        if why == "unanswered":
            raise Unanswered(unanswered_message(revisions.unanswered(r for r in (new_id, old_id) if r)))
        if why == "gone":
            log.info(
                "%s: revision %s or its parent %s is gone (the API named it deleted or unknown); "
                "nothing to compare",
                item.title,
                new_id,
                old_id,
            )
            return [], None
        if why == "hidden":
            log.info("%s: r%s has hidden content; nothing to compare", item.title, new_id)
            return [], None
        assert old is not None and new is not None
        provenance = functools.partial(
            self.records.provenance,
            item.title,
            old,
            new,
            wiki=change.wiki,
            timestamp=change.timestamp,
            user=change.user,
            comment=change.comment,
        )
        return await self.records.changes(old, new), lambda collection: provenance(collection=collection)

    async def _process_upload(self, item: InboxItem) -> int:
        """A new version of a tracked file: one record with the new SHA-1 as the Action API gives it."""
        change = parse_event(item.event)
        try:
            sha1 = await self.api.file_sha1(item.title)
            info = (await self.api.page_info([item.title])).get(item.title)
            revision = info.lastrevid if info is not None else None
            wikitext = None
            tags: tuple[str, ...] = ()
            if revision:
                answer = await self.api.revisions([revision], thumb_width=THUMB_WIDTH)
                await store_thumbnails(self.db, answer.thumbnails.values())  # the new version's
                current = answer.get(revision)
                wikitext = current.wikitext if current else None
                tags = current.tags if current else ()
            await self.editors.learn([change.user], tags)
        except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
            await self._retry([item], f"cannot fetch the new file version: {exc}")
            return 0
        async with self.db.transaction() as conn:
            for collection in await self.records.collections(conn, item.title) if sha1 and revision else ():
                assert revision is not None
                provenance = store_queue.Provenance(
                    wiki=change.wiki,
                    file=item.title,
                    revision=revision,
                    old_revision=None,
                    timestamp=change.timestamp,
                    user=change.user,
                    comment=change.comment,
                    object_id=self.records.object_id(item.title, wikitext, None, collection),
                    collection=collection,
                )
                provenance = self.editors.stamp(provenance, tags)
                record = FieldChange("file", "changed", None, sha1, detail={"upload": change.log_action})
                added = await store_queue.insert_changes(conn, provenance, [record])
                await store_state.add_counters(conn, {"changes_queued": added})
            await store_state.finish_item(conn, item.id)
        return 1

    async def _process_revdel(self, item: InboxItem) -> int:
        """A revision deletion on a tracked file: the file's pending changes' revisions are asked about
        (one request of at most 50, those the log names first), and the hidden ones' changes withdrawn."""
        meaning = interpret(parse_event(item.event))
        named = meaning.revisions if isinstance(meaning, RevisionsHidden) else ()
        try:
            await withdraw_hidden_of_file(self.db, self.api, self.config.wiki.name, item.title, named)
        except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
            await self._retry([item], f"cannot check the revisions hidden on Commons: {exc}")
            return 0
        async with self.db.transaction() as conn:
            await store_state.finish_item(conn, item.id)
        return 1

    async def _retry(self, items: list[InboxItem], error: str) -> None:
        """Schedule the items again, or set aside those past the stream's retention, saying so loudly.

        The items of one failed request share one WARNING (25 edits fetched together fail together);
        each item set aside gets an ERROR naming it, its last error and how to try it again.
        """
        self.api_errors += 1
        days = self.config.stream.retention_days
        again: list[tuple[InboxItem, store_state.Retry]] = []
        for item in items:
            outcome = await store_state.retry_later(self.db, item, error, retention=timedelta(days=days))
            if outcome.again:
                again.append((item, outcome))
                continue
            log.error(
                "%s: set aside after %d attempts over %s, past the stream's %g-day retention; last "
                "error: %s. Nothing retries it now: once the Action API answers again, run "
                "`watcher retry %d` (or `watcher retry --all` for every item set aside)",
                item.describe(), outcome.attempts, outcome.waited, days, error, item.id,
            )  # fmt: skip
        if again:
            shown = ", ".join(item.describe() for item, _ in again[:3])
            if len(again) > 3:
                shown += f" and {len(again) - 3} more"
            outcome = max((o for _, o in again), key=lambda o: o.age)
            log.warning(
                "%s: %s — will retry in %.0f s (attempt %d, failing for %s; retried until %g days old)",
                shown, error, outcome.delay, outcome.attempts, outcome.waited, days,
            )  # fmt: skip
