"""Wikidata labels for the entities that statements name, fetched in the background, never in the way.

The queue never waits for Wikidata (issue 15): records are made with whatever labels the cache has
(:class:`LabelResolver`, read-only, so ``old_label``/``new_label`` in a record's detail cost nothing),
and the daemon's ``labels`` task (:class:`LabelFetcher`) looks through the queued statement records
for the items and properties they name (the property, item values, quantity units, qualifiers and
references) that have no label younger than 30 days in every ``[labels] languages``, and asks
Wikidata for them: ``wbgetentities&props=labels`` with all the languages, 50 ids a request, one request
after the other (so 120 new ids cost 3 requests). The review page, exports and notifications read the
cache through :func:`watcher.store.labels.cached_labels`.

The task remembers how far it has looked through the records, and looks through all of them again at
its start and once a day (a record whose id was reused, labels of a language added to the config). A
failed request leaves that mark where it was (what was stored stays), and the round is tried again
later with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from watcher.base.retry import EQUAL_JITTER, Backoff
from watcher.diff.model import FieldChange
from watcher.mediawiki.client import ActionApi, ApiError
from watcher.mediawiki.wire import BATCH_SIZE, chunks
from watcher.store.engine import Store
from watcher.store.labels import cached_labels, expired_entities, fresh_entities, statement_rows, store_labels

__all__ = ["LabelFetcher", "LabelResolver", "entity_ids", "unlabelled_entities", "with_labels"]

log = logging.getLogger("watcher.labels")

SCAN_PAGE = 2000  # statement records read at a time
FULL_SCAN_EVERY = timedelta(days=1)  # all records looked through again
IDLE_SECONDS = 600.0  # looked for at least this often (expired labels, records of `watcher history`)
GATHER_SECONDS = 2.0  # after a wake: let a burst of queued records gather into one round
RETRY = Backoff(60.0, 3600.0, jitter=EQUAL_JITTER)

_ENTITY = re.compile(r"^[QP][1-9]\d*$")
_ITEM = re.compile(r"^Q[1-9]\d*$")
# A quantity as the diff spells it: "<amount> <unit id>" (watcher.diff.mediainfo.render_snak).
_QUANTITY = re.compile(r"^[+-]?\d[\d.]*(?:[eE][+-]?\d+)? (Q[1-9]\d*)$")


def _value_ids(value: Any) -> set[str]:
    """The entity a statement value names: an item or property, or a quantity's unit."""
    if not isinstance(value, str):
        return set()
    if _ENTITY.match(value):
        return {value}
    match = _QUANTITY.match(value)
    return {match.group(1)} if match else set()


def _snak_map_ids(snaks: Any) -> set[str]:
    """Properties and values of ``{property: [values]}`` (qualifiers, one reference)."""
    found: set[str] = set()
    if isinstance(snaks, dict):
        for prop, values in snaks.items():
            found |= _value_ids(prop)
            for value in values if isinstance(values, list) else [values]:
                found |= _value_ids(value)
    return found


def entity_ids(prop: str | None, old: str | None, new: str | None, detail: str | None) -> set[str]:
    """The Wikidata items and properties one statement record names: its property, item values and
    quantity units, and those of its qualifiers, references and value detail (calendar, globe)."""
    found = _value_ids(prop) | _value_ids(old) | _value_ids(new)
    try:
        extra = json.loads(detail) if detail else None
    except ValueError:
        extra = None
    if not isinstance(extra, dict):
        return found
    for side in ("", "old_"):
        found |= _snak_map_ids(extra.get(f"{side}qualifiers"))
        references = extra.get(f"{side}references")
        for reference in references if isinstance(references, list) else []:
            found |= _snak_map_ids(reference)
        value_detail = extra.get(f"{side}value_detail")
        if isinstance(value_detail, dict):
            found |= {v for v in value_detail.values() if isinstance(v, str) and _ITEM.match(v)}
    return found


def _id_order(entity: str) -> tuple[str, int]:
    return entity[0], int(entity[1:])


class LabelResolver:
    """Labels of item values for records being made, from the cache only: free, never waiting."""

    def __init__(self, db: Store, languages: Sequence[str]) -> None:
        self.db = db
        self.languages = tuple(languages)

    async def labels(self, ids: Sequence[str]) -> dict[str, str]:
        return await cached_labels(self.db, ids, self.languages)


async def with_labels(changes: list[FieldChange], labels: LabelResolver | None) -> list[FieldChange]:
    """Attach the cached Wikidata labels of item values (``old_label``/``new_label`` in detail: display
    only, never part of a record's key). Values the cache has no label of yet are left as they are."""
    if labels is None:
        return changes
    wanted = {v for c in changes for v in (c.old, c.new) if c.property and v and _ITEM.match(v)}
    if not wanted:
        return changes
    found = await labels.labels(sorted(wanted))
    out: list[FieldChange] = []
    for c in changes:
        pairs = (("old", c.old), ("new", c.new)) if c.property else ()
        extra = {f"{side}_label": found[v] for side, v in pairs if v in found}
        out.append(dataclasses.replace(c, detail={**(c.detail or {}), **extra}) if extra else c)
    return out


async def unlabelled_entities(
    db: Store, languages: Sequence[str], *, after: int = 0, now: datetime | None = None
) -> tuple[set[str], int]:
    """The entities named by statement records after ``after`` that have no fresh label row in every
    one of ``languages``, and the id of the last record looked at."""
    moment = now or datetime.now(UTC)
    top = int(await db.scalar("SELECT max(id) FROM changes") or 0)
    named: set[str] = set()
    position = after
    while position < top:
        rows = await statement_rows(db, position, top, SCAN_PAGE)
        if not rows:
            break
        for row in rows:
            named |= entity_ids(row["property"], row["old"], row["new"], row["detail"])
        position = int(rows[-1]["id"])
    return named - await fresh_entities(db, named, languages, moment), top


class LabelFetcher:
    """The daemon's ``labels`` task: labels of the entities queued records name, fetched in batches."""

    def __init__(
        self,
        db: Store,
        api: ActionApi,
        languages: Sequence[str],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.api = api
        self.languages = tuple(dict.fromkeys(languages))
        self.clock = clock
        self._wake = asyncio.Event()
        self._after = 0  # the last record looked through
        self._full_scan_at: datetime | None = None

    def wake(self) -> None:
        """New records were queued: look for their entities soon (after a short gathering pause)."""
        self._wake.set()

    async def refresh(self) -> int:
        """One round: fetch the labels of every new entity and of expired ones; how many were asked for.

        Raises what the Wikidata API raises (:class:`ApiError`, network errors); what was stored stays.
        """
        if not self.languages:
            return 0
        now = self.clock()
        if self._full_scan_at is None or now - self._full_scan_at >= FULL_SCAN_EVERY:
            self._after, self._full_scan_at = 0, now
        wanted, top = await unlabelled_entities(self.db, self.languages, after=self._after, now=now)
        wanted |= await expired_entities(self.db, now)
        ordered = sorted(wanted, key=_id_order)
        for batch in chunks(ordered, BATCH_SIZE):
            answered = await self.api.entity_labels_by_language(batch, self.languages)
            unnamed = [entity for entity in batch if entity not in answered]
            if unnamed:
                log.warning("Wikidata's answer named neither %s nor their absence", ", ".join(unnamed[:5]))
            await store_labels(self.db, {e: answered.get(e, {}) for e in batch}, self.languages, now)
        self._after = top
        if ordered:
            requests = -(-len(ordered) // BATCH_SIZE)
            log.info("Wikidata labels: %d entities asked for in %d request(s)", len(ordered), requests)
        return len(ordered)

    async def run(self) -> None:
        """Rounds until cancelled: after each wake (records queued), and every IDLE_SECONDS; after a
        failure, again with backoff (1 min doubling to 1 h), so an unreachable Wikidata costs little."""
        attempt = 0
        while True:
            self._wake.clear()
            try:
                await self.refresh()
                attempt = 0
            except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
                delay = RETRY.delay(attempt)
                attempt += 1
                log.warning(
                    "cannot fetch Wikidata labels from %s: %s — trying again in %.0f s",
                    self.api.api_url, exc or type(exc).__name__, delay,
                )  # fmt: skip
                await asyncio.sleep(delay)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=IDLE_SECONDS)
            if self._wake.is_set():
                await asyncio.sleep(GATHER_SECONDS)
