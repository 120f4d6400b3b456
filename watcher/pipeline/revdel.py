"""Revisions whose content Commons hid (revision deletion, suppression): their pending changes are withdrawn.

The watcher learns of a hidden revision where an answer it fetched anyway says so (``texthidden``:
the content is gone from view, for everyone without the right to see it). MediaWiki never hides a
page's current revision, so a hidden one always has a later edit, whose diff then meets it as the
parent. Administrators hide whole runs of revisions (a vandal's, and the ones between that carried
the text along), so where a file has a hidden revision, its other pending changes' revisions are
asked about too: one request of at most 50 revisions, only then.

The stream also says so itself: a ``delete``/``revision`` (or ``suppress``/``revision``) log event of a
tracked file becomes ``revdel`` work (watcher.tracking.ingest) where the revisions it names have
pending changes, and :func:`withdraw_hidden_of_file` asks about the file's pending changes'
revisions, those named first, in one request, so that a revision hidden after its changes were queued
is withdrawn without waiting for a later edit to meet it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiohttp

from watcher.mediawiki.client import ActionApi, ApiError, Revision
from watcher.mediawiki.types import Revisions, Unanswered, unanswered_message
from watcher.pipeline.queueing import withdraw_hidden
from watcher.store.engine import Store

__all__ = ["withdraw_hidden_of_file", "withdraw_hidden_revisions"]

log = logging.getLogger("watcher.revdel")

RECHECK_REVISIONS = 50  # one request


async def withdraw_hidden_revisions(
    db: Store, api: ActionApi, wiki: str, revisions: Revisions[Revision]
) -> list[int]:
    """Withdraw the pending changes of the hidden revisions among ``revisions`` (and of other hidden
    revisions of the same files); returns the ids withdrawn. An API failure only narrows the look."""
    hidden = {revid for revid, revision in revisions.items() if revision.texthidden}
    if not hidden:
        return []
    titles = sorted({revisions[revid].title for revid in hidden if revisions[revid].title})
    if titles:
        others = [r for r in await _pending_revisions(db, wiki, titles) if r not in revisions]
        if others:
            try:
                more = await api.revisions(others)
            except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
                log.warning("cannot check the other revisions of %s for hiding: %s", ", ".join(titles), exc)
            else:
                hidden |= {revid for revid, revision in more.items() if revision.texthidden}
    async with db.transaction() as conn:
        withdrawn = await withdraw_hidden(conn, wiki, hidden)
    if withdrawn:
        shown = ", ".join(f"#{i}" for i in withdrawn)
        revs = ", ".join(f"r{r}" for r in sorted(hidden))
        log.info("withdrew %s: the content of %s was hidden on Commons (revision deletion)", shown, revs)
    return withdrawn


async def withdraw_hidden_of_file(
    db: Store, api: ActionApi, wiki: str, title: str, named: Sequence[int] = ()
) -> list[int]:
    """After a revision deletion on ``title``: ask about its pending changes' revisions (``named``, the
    ones the log event names, first; at most 50, one request) and withdraw the hidden ones' changes.

    Nothing is asked where no pending change is left (withdrawn meanwhile, decided on) or, where the
    event named revisions, none of them has a pending change. The API's errors are raised: the caller
    retries the work later, as for a failed fetch.
    """
    pending = await _pending_revisions(db, wiki, [title], limit=None)
    if named and not set(named) & set(pending):
        return []
    first = [r for r in pending if r in set(named)]
    asked = (first + [r for r in pending if r not in set(first)])[:RECHECK_REVISIONS]
    if not asked:
        return []
    answer = await api.revisions(asked)
    left_out = answer.unanswered(asked)
    if left_out:  # not an answer about them: ask again later, never take them for shown
        raise Unanswered(unanswered_message(left_out))
    withdrawn = await withdraw_hidden_revisions(db, api, wiki, answer)
    if not withdrawn:
        log.info("%s: a revision deletion hid none of its pending changes' revisions", title)
    return withdrawn


async def _pending_revisions(
    db: Store, wiki: str, titles: Sequence[str], *, limit: int | None = RECHECK_REVISIONS
) -> list[int]:
    """The revisions of the pending changes of ``titles``, newest first (at most ``limit``)."""
    marks = ",".join("?" * len(titles))
    rows = await db.fetchall(
        f"""SELECT DISTINCT revision FROM changes
            WHERE wiki = ? AND file IN ({marks}) AND status = 'pending'
            ORDER BY revision DESC{" LIMIT ?" if limit is not None else ""}""",
        [wiki, *titles, *([limit] if limit is not None else [])],
    )
    return [int(row[0]) for row in rows]
