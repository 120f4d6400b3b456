"""Revisions whose content Commons hid (revision deletion, suppression): their pending changes are withdrawn.

The watcher learns of a hidden revision where an answer it fetched anyway says so (``texthidden``:
the content is gone from view, for everyone without the right to see it). MediaWiki never hides a
page's current revision, so a hidden one always has a later edit, whose diff then meets it as the
parent. Administrators hide whole runs of revisions (a vandal's, and the ones between that carried
the text along), so where a file has a hidden revision, its other pending changes' revisions are
asked about too: one request of at most 50 revisions, only then.
"""

from __future__ import annotations

import logging

import aiohttp

from watcher.mediawiki.client import ActionApi, ApiError, Revision
from watcher.mediawiki.types import Revisions
from watcher.pipeline.queueing import withdraw_hidden
from watcher.store import Database

__all__ = ["withdraw_hidden_revisions"]

log = logging.getLogger("watcher.revdel")

RECHECK_REVISIONS = 50  # one request


async def withdraw_hidden_revisions(
    db: Database, api: ActionApi, wiki: str, revisions: Revisions[Revision]
) -> list[int]:
    """Withdraw the pending changes of the hidden revisions among ``revisions`` (and of other hidden
    revisions of the same files); returns the ids withdrawn. An API failure only narrows the look."""
    hidden = {revid for revid, revision in revisions.items() if revision.texthidden}
    if not hidden:
        return []
    titles = sorted({revisions[revid].title for revid in hidden if revisions[revid].title})
    if titles:
        marks = ",".join("?" * len(titles))
        rows = await db.fetchall(
            f"""SELECT DISTINCT revision FROM changes
                WHERE wiki = ? AND file IN ({marks}) AND status = 'pending'
                ORDER BY revision DESC LIMIT ?""",
            [wiki, *titles, RECHECK_REVISIONS],
        )
        others = [int(row[0]) for row in rows if int(row[0]) not in revisions]
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
