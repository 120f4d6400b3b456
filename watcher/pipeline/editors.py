"""Who made an edit, for the records it makes: the editor's facts and the revision's tags in words.

The worker and history mode each ask once per batch (25 edits, 25 files): :meth:`EditorFacts.learn`
with the batch's editors, then :meth:`EditorFacts.stamp` on each record's provenance. Facts come from
the database's cache where it holds them from the last day; the rest from one ``list=users`` request
per 50 names (:mod:`watcher.mediawiki.accounts`). IP addresses and temporary accounts cost nothing:
their facts are null. So editor look-ups cost at most one request per 50 new editors, and none per
revision. Tags come with the revisions themselves (``rvprop=tags``); only an ``OAuth CID`` tag outside
the built-in table (:mod:`watcher.base.tags`) makes the wiki's tag list be read, once a day at most.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from watcher.base.tags import needs_description, tool_words
from watcher.mediawiki.accounts import accounts, change_tags
from watcher.mediawiki.client import ActionApi
from watcher.mediawiki.names import is_unregistered, user_name
from watcher.mediawiki.wire import BATCH_SIZE
from watcher.store import state as store_state
from watcher.store.editors import (
    EDITOR_MAX_AGE,
    TAGS_MAX_AGE,
    cached_editors,
    edit_count,
    remember_editors,
    remember_tag_descriptions,
    tag_descriptions,
    tags_fetched_at,
)
from watcher.store.engine import Store
from watcher.store.queue import Provenance

__all__ = ["EditorFacts", "covered_tags", "least_established"]

log = logging.getLogger("watcher.editors")

Facts = dict[str, Any]
AHEAD_ITEMS = 500  # inbox items looked at for editors to fill a list=users request with


def _now() -> datetime:
    return datetime.now(UTC)


def _names(users: Iterable[str | None]) -> list[str]:
    """The account names among ``users`` as MediaWiki spells them, each once (no IPs, no temporary)."""
    return list(dict.fromkeys(user_name(u) for u in users if u and not is_unregistered(u)))


def least_established(facts: Sequence[Facts | None]) -> Facts | None:
    """Of several editors' facts, the one a curator should weigh: an unregistered editor (None) before
    any account, else the account with the fewest edits."""
    if not facts or any(f is None for f in facts):
        return None
    return min((f for f in facts if f is not None), key=lambda f: edit_count(f) or 0)


class EditorFacts:
    """The editor facts and tag descriptions known so far, filled batch by batch from cache and API."""

    def __init__(
        self,
        db: Store,
        api: ActionApi,
        *,
        clock: Callable[[], datetime] = _now,
        max_age: timedelta = EDITOR_MAX_AGE,
    ) -> None:
        self.db = db
        self.api = api
        self.clock = clock
        self.max_age = max_age
        self.facts: dict[str, Facts | None] = {}
        self.descriptions: dict[str, str] = {}
        self._descriptions_read = False

    async def learn(
        self, users: Iterable[str | None], tags: Iterable[str] = (), *, inbox_ahead: bool = False
    ) -> None:
        """Know every named editor's facts (and, where an OAuth tag needs one, the tag descriptions).

        ``inbox_ahead``: where a request is needed anyway, fill it up to 50 names with the new editors
        of the work waiting in the inbox, so that a backlog costs one request per 50 new editors and
        not one per round of 25 edits. Raises the API's errors (:class:`~watcher.mediawiki.types.ApiError`):
        the caller retries the batch as it would after a failed revision fetch.
        """
        now = self.clock()
        names = _names(users)
        self.facts = {n: f for n, f in self.facts.items() if n in names}  # one batch's worth, no more
        wanted = [n for n in names if n not in self.facts]
        if wanted:
            cached = await cached_editors(self.db, wanted, now, self.max_age)
            self.facts.update(cached)
            missing = [n for n in wanted if n not in cached]
            if missing:
                if inbox_ahead and len(missing) % BATCH_SIZE:
                    missing += await self._waiting_editors(
                        missing, now, BATCH_SIZE - len(missing) % BATCH_SIZE
                    )
                fetched = {n: (a.as_json() if a is not None else None) for n, a in
                           (await accounts(self.api, missing)).items()}  # fmt: skip
                async with self.db.transaction() as conn:
                    await remember_editors(conn, fetched, now)
                self.facts.update({n: f for n, f in fetched.items() if n in names})
        await self.learn_tags(tags)

    async def _waiting_editors(self, asked: list[str], now: datetime, room: int) -> list[str]:
        """Up to ``room`` editors of the inbox's waiting work whose facts are not cached nor asked for."""
        items = await store_state.due_items(self.db, AHEAD_ITEMS, ("edit", "file"))
        ahead = [n for n in _names(i.event.get("user") for i in items) if n not in asked]
        cached = await cached_editors(self.db, ahead, now, self.max_age)
        return [n for n in ahead if n not in cached][:room]

    async def learn_tags(self, tags: Iterable[str]) -> None:
        """Know the descriptions of the OAuth tags among ``tags`` that the built-in table cannot name."""
        now = self.clock()
        unknown = {t for t in tags if needs_description(t)} - set(self.descriptions)
        if not unknown:
            return
        if not self._descriptions_read:
            self.descriptions.update(await tag_descriptions(self.db))
            self._descriptions_read = True
            unknown -= set(self.descriptions)
        if not unknown:
            return
        fetched_at = await tags_fetched_at(self.db)
        if fetched_at is not None and now - fetched_at < TAGS_MAX_AGE:
            return  # read within the day: a tag it did not list is named tomorrow at the earliest
        descriptions = await change_tags(self.api)
        async with self.db.transaction() as conn:
            await remember_tag_descriptions(conn, descriptions, now)
        self.descriptions = dict(descriptions)
        log.info("read the wiki's %d change tag descriptions (for %s)", len(descriptions), sorted(unknown)[0])

    def editor(self, user: str | None) -> Facts | None:
        """The facts of one editor learned for this batch; None for IPs, temporary and unknown accounts."""
        if not user or is_unregistered(user):
            return None
        return self.facts.get(user_name(user))

    def stamp(
        self, provenance: Provenance, tags: Iterable[str], editors: Sequence[str | None] | None = None
    ) -> Provenance:
        """``provenance`` with the revision's tags, their words and the editor's facts.

        ``editors`` (history mode: the editors of every revision a record covers) default to the
        provenance's user; several give the facts of the least established one.
        """
        tag_list = tuple(dict.fromkeys(str(t) for t in tags))
        names = list(editors) if editors is not None else [provenance.user]
        facts = least_established([self.editor(name) for name in names]) if names else None
        words = tuple(tool_words(tag_list, self.descriptions))
        return replace(provenance, tags=tag_list, editor=facts, tools=words)


def covered_tags(revisions: Iterable[Any]) -> list[str]:
    """The tags of several revisions (objects with ``tags``), each once, oldest revision first."""
    out: dict[str, None] = {}
    for revision in revisions:
        for tag in getattr(revision, "tags", ()) or ():
            out.setdefault(str(tag), None)
    return list(out)
