"""Wikidata labels for the Q-ids in statements, in the museum's languages, cached in the database."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import aiohttp

from watcher.diff.model import FieldChange
from watcher.mediawiki.client import ActionApi, ApiError
from watcher.store import Database, iso_utc, utcnow

log = logging.getLogger("watcher.labels")

MAX_AGE = timedelta(days=30)


class LabelResolver:
    def __init__(self, db: Database, api: ActionApi, languages: Sequence[str]) -> None:
        self.db = db
        self.api = api
        self.languages = tuple(languages)
        self.key = "|".join(self.languages)

    async def labels(self, ids: Sequence[str]) -> dict[str, str]:
        """Labels for the ids that have one; a lookup that fails leaves them out (and is tried again later)."""
        if not ids or not self.languages:
            return {}
        fresh_after = iso_utc(datetime.now(UTC) - MAX_AGE)
        marks = ",".join("?" * len(ids))
        rows = await self.db.fetchall(
            f"SELECT entity, label FROM labels WHERE languages = ? AND fetched_at >= ? AND entity IN ({marks})",
            [self.key, fresh_after, *ids],
        )
        found = {row[0]: row[1] for row in rows if row[1]}
        cached = {row[0] for row in rows}
        missing = [i for i in ids if i not in cached]
        if missing:
            try:
                fetched = await self.api.entity_labels(missing, self.languages)
            except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
                log.warning("cannot fetch Wikidata labels for %d items: %s", len(missing), exc)
                return found
            now = utcnow()
            await self.db.write_many(
                "INSERT INTO labels (entity, languages, label, fetched_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(entity, languages) DO UPDATE SET label = excluded.label, fetched_at = excluded.fetched_at",
                [(i, self.key, fetched.get(i), now) for i in missing],
            )
            found.update({k: v for k, v in fetched.items() if v})
        return found


_QID = re.compile(r"^Q\d+$")


async def with_labels(changes: list[FieldChange], labels: LabelResolver | None) -> list[FieldChange]:
    """Attach Wikidata labels of item values (``old_label``/``new_label`` in detail: display only, never
    part of a record's key). A lookup that fails leaves them out; it never blocks the queue."""
    if labels is None:
        return changes
    wanted = {v for c in changes for v in (c.old, c.new) if c.property and v and _QID.match(v)}
    if not wanted:
        return changes
    found = await labels.labels(sorted(wanted))
    out: list[FieldChange] = []
    for c in changes:
        pairs = (("old", c.old), ("new", c.new)) if c.property else ()
        extra = {f"{side}_label": found[v] for side, v in pairs if v in found}
        out.append(dataclasses.replace(c, detail={**(c.detail or {}), **extra}) if extra else c)
    return out
