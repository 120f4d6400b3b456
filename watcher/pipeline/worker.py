"""The fetch → diff → store stages: turns inbox items into queued change records.

Edits are independent of each other (each is diffed against its own parent revision), so the worker
takes them in batches: one `prop=revisions` request fetches both revisions of up to 25 edits. Each
edit's records and the inbox item's completion are committed together; an API failure leaves the item
pending for a later attempt with backoff, and the records' uniqueness key makes any repeat harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import aiohttp

from watcher.config import Config
from watcher.diff import diff_revisions, find_object_id
from watcher.diff.model import DiffSettings, FieldChange, RevisionContent
from watcher.mediawiki.client import ActionApi, ApiError, Revision
from watcher.pipeline.labels import LabelResolver, with_labels
from watcher.store import Database
from watcher.store import queue as store_queue
from watcher.store import state as store_state
from watcher.store.state import InboxItem
from watcher.stream.events import parse_event

log = logging.getLogger("watcher.worker")

EDITS_PER_ROUND = 25  # 50 revision ids: one API request


class Worker:
    def __init__(
        self,
        db: Database,
        api: ActionApi,
        config: Config,
        *,
        labels: LabelResolver | None = None,
        on_queued: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.db = db
        self.api = api
        self.config = config
        self.labels = labels
        self.on_queued = on_queued
        self.settings = DiffSettings.from_section(config.diff)
        self.languages = set(config.filters.languages)
        self._wake = asyncio.Event()
        self.api_errors = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Process due work until cancelled; sleeps until woken or the next retry is due."""
        while True:
            self._wake.clear()
            try:
                done = await self.process_due()
            except Exception:  # a bug must not stop the daemon; the items stay pending
                log.exception("fetch worker failed; retrying in 30 s")
                done = 0
                await asyncio.sleep(30)
            if done:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=30)

    async def process_due(self) -> int:
        """One round: up to EDITS_PER_ROUND due items. Returns how many items were settled."""
        items = await store_state.due_items(self.db, EDITS_PER_ROUND, ("edit", "file"))
        if not items:
            return 0
        edits = [item for item in items if item.kind == "edit"]
        settled = 0
        if edits:
            settled += await self._process_edits(edits)
        for item in items:
            if item.kind == "file":
                settled += await self._process_upload(item)
        return settled

    async def _process_edits(self, items: list[InboxItem]) -> int:
        revids: list[int] = []
        for item in items:
            raw = item.event.get("revision") or {}
            revids += [int(r) for r in (raw.get("old"), raw.get("new")) if isinstance(r, int) and r > 0]
        try:
            revisions = await self.api.revisions(sorted(set(revids)))
        except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
            await self._retry(items, f"cannot fetch revisions: {exc}")
            return 0
        settled = 0
        for item in items:
            try:
                changes, provenance = self._diff_edit(item, revisions)
                if changes:
                    changes = await with_labels(changes, self.labels)
                async with self.db.transaction() as conn:
                    added = 0
                    if provenance is not None:
                        added = await store_queue.insert_changes(conn, provenance, changes)
                        await store_state.add_counters(conn, {"changes_queued": added})
                    await store_state.finish_item(conn, item.id)
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

    def _diff_edit(
        self, item: InboxItem, revisions: dict[int, Revision]
    ) -> tuple[list[FieldChange], store_queue.Provenance | None]:
        change = parse_event(item.event)
        new_id, old_id = change.new_revision, change.old_revision
        new = revisions.get(new_id) if new_id else None
        old = revisions.get(old_id) if old_id else None
        if new is None or old is None:
            log.info(
                "%s: revision %s or its parent %s is gone (deleted or suppressed); nothing to compare",
                item.title,
                new_id,
                old_id,
            )
            return [], None
        if new.texthidden or old.texthidden:
            log.info("%s: r%s has hidden content; nothing to compare", item.title, new_id)
            return [], None
        changes = diff_revisions(
            RevisionContent(old.wikitext, old.mediainfo),
            RevisionContent(new.wikitext, new.mediainfo),
            self.settings,
        )
        if self.languages:
            changes = [c for c in changes if c.language is None or c.language in self.languages]
        object_id = find_object_id(item.title, new.wikitext, old.wikitext, self.config.tracking.object_id)
        provenance = store_queue.Provenance(
            wiki=change.wiki,
            file=item.title,
            revision=new.revid,
            old_revision=old.revid,
            timestamp=change.timestamp,
            user=change.user,
            comment=change.comment,
            object_id=object_id,
        )
        return changes, provenance

    async def _process_upload(self, item: InboxItem) -> int:
        """A new version of a tracked file: one record with the new SHA-1 as the Action API gives it."""
        change = parse_event(item.event)
        try:
            sha1 = await self.api.file_sha1(item.title)
            info = (await self.api.page_info([item.title])).get(item.title)
            revision = info.lastrevid if info is not None else None
            wikitext = None
            if revision:
                current = (await self.api.revisions([revision])).get(revision)
                wikitext = current.wikitext if current else None
        except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
            await self._retry([item], f"cannot fetch the new file version: {exc}")
            return 0
        async with self.db.transaction() as conn:
            if sha1 and revision:
                provenance = store_queue.Provenance(
                    wiki=change.wiki,
                    file=item.title,
                    revision=revision,
                    old_revision=None,
                    timestamp=change.timestamp,
                    user=change.user,
                    comment=change.comment,
                    object_id=find_object_id(item.title, wikitext, None, self.config.tracking.object_id),
                )
                record = FieldChange("file", "changed", None, sha1, detail={"upload": change.log_action})
                added = await store_queue.insert_changes(conn, provenance, [record])
                await store_state.add_counters(conn, {"changes_queued": added})
            await store_state.finish_item(conn, item.id)
        return 1

    async def _retry(self, items: list[InboxItem], error: str) -> None:
        self.api_errors += 1
        for item in items:
            again = await store_state.retry_later(self.db, item, error)
            if again:
                log.warning("%s: %s — will retry (attempt %d)", item.title, error, item.attempts + 1)
            else:
                log.error("%s: giving up after %d attempts: %s", item.title, item.attempts + 1, error)
