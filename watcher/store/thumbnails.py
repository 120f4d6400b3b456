"""Each tracked file's thumbnail (``file_thumbnails``), as the revision answer of its last edit gave it.

The fetch worker asks for ``prop=imageinfo&iiprop=url&iiurlwidth=240`` in the same request as an
edit's revisions (:meth:`watcher.mediawiki.client.ActionApi.revisions`) and stores what came back with
:func:`store_thumbnails`; the review page reads :func:`thumbnails` and never asks the wiki itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from watcher.mediawiki.types import Thumbnail
from watcher.store.db import iso_utc, utcnow
from watcher.store.engine import Store

__all__ = ["THUMB_WIDTH", "store_thumbnails", "thumbnails"]

# The width asked for: twice the review page's 120-pixel thumbnails, sharp on high-density screens.
THUMB_WIDTH = 240
_CHUNK = 500


async def store_thumbnails(db: Store, found: Iterable[Thumbnail], *, now: datetime | None = None) -> int:
    """Store (or replace) the thumbnails an answer gave, one transaction; how many."""
    stamp = iso_utc(now) if now is not None else utcnow()
    rows = [(t.title, t.url, t.width, t.height, stamp) for t in found]
    if rows:
        await db.write_many(
            "INSERT INTO file_thumbnails (title, url, width, height, fetched_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(title) DO UPDATE SET url = excluded.url, width = excluded.width, "
            "height = excluded.height, fetched_at = excluded.fetched_at",
            rows,
        )
    return len(rows)


async def thumbnails(db: Store, titles: Iterable[str]) -> dict[str, str]:
    """title → stored thumbnail URL, for the titles that have one (``File:`` titles, as queued)."""
    wanted = list(dict.fromkeys(titles))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = await db.fetchall(
            f"SELECT title, url FROM file_thumbnails WHERE title IN ({','.join('?' * len(chunk))})", chunk
        )
        found.update((row[0], row[1]) for row in rows)
    return found
