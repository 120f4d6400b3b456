"""Step 3 of `watcher history`: walk each changed file from its current revision back to its baseline.

Parents are fetched through ``revids=`` in rounds, 50 revisions a request across all files and no
content, so a file with k edits to walk costs k/50 requests. After four rounds (or when a single file
is left, where a round would cost a request for one revision) the rest read their page history in
single-page mode, 500 revisions a request: a handful of much-edited files then cost one request each
instead of one request per round. A parent that is gone (a deleted revision) also sends the file to
its page history, which lists only the revisions that are still there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence

from watcher.history.progress import FileProgress
from watcher.mediawiki.bulk import page_history, revision_metas
from watcher.mediawiki.client import ActionApi
from watcher.mediawiki.types import RevisionMeta

WALK_ROUNDS = 4  # parent look-ups through revids= before a file's whole history is read instead

SaveFn = Callable[[Sequence[FileProgress]], Awaitable[None]]


class Walker:
    """Extends each row's chain (newest first) until its last revision is the baseline.

    ``stops(revision)`` says whether a revision is a baseline (the museum's, or older than ``--since``);
    a page's first revision always is. ``save`` persists rows after every step, so an interrupted walk
    resumes from the chains it had.
    """

    def __init__(self, api: ActionApi, stops: Callable[[RevisionMeta], bool], save: SaveFn) -> None:
        self.api = api
        self.stops = stops
        self.save = save

    def next_revision(self, row: FileProgress) -> int | None:
        """The revision to fetch next, or None where the chain has reached its baseline."""
        last = row.chain[-1]
        if len(row.chain) > 1 and self.stops(last):
            return None
        if last.parentid == 0:
            return None
        if row.museum is not None and last.parentid == row.museum.revid:
            row.chain.append(row.museum)  # known from the contributions listing: no request
            return None
        return last.parentid

    async def walk(self, rows: Sequence[FileProgress]) -> None:
        active = list(rows)
        for round_number in range(WALK_ROUNDS):
            wanted: dict[int, list[FileProgress]] = {}
            settled: list[FileProgress] = []
            for row in active:
                revid = self.next_revision(row)
                if revid is None:
                    row.state = "walked"
                    settled.append(row)
                else:
                    wanted.setdefault(revid, []).append(row)
            await self.save(settled)
            active = [row for row in active if row.state == "walking"]
            if not wanted:
                return
            if round_number > 0 and len(active) == 1:
                break  # one file left: reading its history costs one request, a walk step as much
            found, _missing = await revision_metas(self.api, list(wanted))
            stuck: list[FileProgress] = []
            for revid, waiting in wanted.items():
                for row in waiting:
                    if revid in found:
                        row.chain.append(found[revid])
                    else:  # a deleted revision breaks the parent chain; the page history skips it
                        stuck.append(row)
            await self.save(active)
            for row in stuck:
                await self.read_history(row)
            active = [row for row in active if row.state == "walking"]
        for row in active:
            if self.next_revision(row) is not None:
                await self.read_history(row)
            else:
                row.state = "walked"
                await self.save([row])

    async def read_history(self, row: FileProgress) -> None:
        last = row.chain[-1]
        known = {r.revid for r in row.chain}
        async with contextlib.aclosing(page_history(self.api, last.pageid, last.revid)) as revisions:
            async for meta in revisions:
                if meta.revid in known:
                    continue
                row.chain.append(meta)
                if self.stops(meta) or meta.parentid == 0:
                    break
        row.state = "walked"
        await self.save([row])
