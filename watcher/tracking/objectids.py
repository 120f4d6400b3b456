"""Each tracked file's object id, looked up on demand for `watcher tracked` and stored for `status`.

Why on demand, from the latest revision, rather than only what the daemon happened to read: a
registrar who asks "which of our files have an accession number, and from where?" wants today's
answer for every file, also for the thousands nobody has edited since the upload, and the daemon only
reads a page when someone edits it. So `watcher tracked` reads the current page text of every file
whose id a template rule may hold: **one Action API request per 50 files** (``prop=revisions`` in
non-enumeration mode with content, ``pageids=`` 50 at a time, serial, with the client's ``maxlag``
and backoff), so about 26 requests for 1,280 files and 8,340 for 417,000. Files that a pattern rule
ahead of every template rule decides by their name alone cost nothing, nor do configs of pattern rules
only. Each answer is stored with the revision it came from (migration 7), which is what `watcher
status` summarises and what `watcher tracked --stored` lists without a request.

The rules are tried exactly as the change records try them (:func:`watcher.diff.find_object_id`, one
rule at a time, first match wins), so a file's object id here is the one its next record will carry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from watcher.config import ObjectIdRule
from watcher.diff import find_object_id
from watcher.mediawiki.client import ActionApi
from watcher.mediawiki.parse import parse_revision
from watcher.mediawiki.types import Unanswered
from watcher.mediawiki.wire import BATCH_SIZE, chunks, follow_renames, is_gone, named_pages, query_part
from watcher.store import tracked as store
from watcher.store.engine import Store
from watcher.store.tracked import ObjectIdLookup, TrackedFile

log = logging.getLogger("watcher.tracking")


def rule_label(rule: ObjectIdRule) -> str:
    """A rule as text, stored with each answer: ``template Artwork, param accession number`` or
    ``file name pattern ' - EXM (\\d+)\\.\\w+$'``."""
    if rule.pattern is not None:
        return f"file name pattern '{rule.pattern}'"
    return f"template {rule.template}, param {rule.param}"


def rule_number(rules: Sequence[ObjectIdRule], label: str | None) -> int | None:
    """The 1-based position of the rule stored as ``label`` in today's config; None where it is gone."""
    for number, rule in enumerate(rules, 1):
        if rule_label(rule) == label:
            return number
    return None


def first_match(
    title: str, wikitext: str | None, rules: Sequence[ObjectIdRule]
) -> tuple[str | None, str | None]:
    """(object id, the rule's label) of the first rule that matches; (None, None) where none does."""
    for rule in rules:
        value = find_object_id(title, wikitext, None, [rule])
        if value:
            return value, rule_label(rule)
    return None, None


def decided_by_name(title: str, rules: Sequence[ObjectIdRule]) -> tuple[str | None, str | None] | None:
    """The answer where the file name alone decides it: a pattern rule ahead of every template rule
    matches, or no template rule is left to try. None where the page text is needed."""
    for rule in rules:
        if rule.pattern is None:
            if rule.template and rule.param:
                return None
            continue
        value = find_object_id(title, None, None, [rule])
        if value:
            return value, rule_label(rule)
    return None, None


Rules = Mapping[str, Sequence[ObjectIdRule]]  # each collection's rules, by its name


def _needing_page(files: Sequence[TrackedFile], rules: Rules) -> list[TrackedFile]:
    """The files whose page text is needed, once each (a file in two collections is read once)."""
    needing: dict[str, TrackedFile] = {}
    for item in files:
        if decided_by_name(item.title, rules.get(item.collection, ())) is None:
            needing.setdefault(item.title, item)
    return list(needing.values())


def requests_needed(files: Sequence[TrackedFile], rules: Rules) -> int:
    """How many Action API requests a look-up of ``files`` makes (one per 50 that need their page)."""
    needing = _needing_page(files, rules)
    with_id = sum(1 for f in needing if f.pageid)
    return -(-with_id // BATCH_SIZE) + -(-(len(needing) - with_id) // BATCH_SIZE)


@dataclass
class LookupReport:
    """What a look-up did: files decided by name, by page text, and the ones the wiki had no page for."""

    files: int = 0
    by_name: int = 0
    by_page: int = 0
    requests: int = 0
    missing: list[str] = field(default_factory=list)


Progress = Callable[[int, int], None]  # (files done, files in all)
# A file's latest revision and its text (None where hidden), by title.
Latest = dict[str, tuple[int, str | None]]


async def look_up_object_ids(
    db: Store,
    api: ActionApi,
    rules: Rules,
    files: Sequence[TrackedFile],
    *,
    progress: Progress | None = None,
) -> LookupReport:
    """Look up and store the object id of each of ``files`` (a file in a collection) by its
    collection's rules; each batch of 50 pages is stored as it comes, and a page two collections share
    is read once.

    An API failure (:class:`~watcher.mediawiki.client.ApiError`, network errors) propagates after the
    batches before it were stored; a file the wiki names missing keeps what was stored before.
    """
    report = LookupReport(files=len(files))
    named: list[ObjectIdLookup] = []
    by_title: dict[str, list[TrackedFile]] = {}
    for item in files:
        decided = decided_by_name(item.title, rules.get(item.collection, ()))
        if decided is None:
            by_title.setdefault(item.title, []).append(item)
        else:
            named.append(ObjectIdLookup(item.title, decided[0], decided[1], None, item.collection))
    async with db.transaction() as conn:
        await store.set_object_ids(conn, named)
    report.by_name = len(named)
    done = len(named)
    if progress is not None:
        progress(done, len(files))
    pages = [items[0] for items in by_title.values()]  # each page needed once, whoever needs it
    batches = [(True, batch) for batch in chunks([f for f in pages if f.pageid])]
    batches += [(False, batch) for batch in chunks([f for f in pages if not f.pageid])]
    for with_ids, batch in batches:
        latest = await (_by_pageids if with_ids else _by_titles)(api, batch, report)
        found: list[ObjectIdLookup] = []
        for title, (revid, wikitext) in latest.items():
            for item in by_title[title]:
                value, rule = first_match(title, wikitext, rules.get(item.collection, ()))
                found.append(ObjectIdLookup(title, value, rule, revid, item.collection))
                report.by_page += 1
        async with db.transaction() as conn:
            await store.set_object_ids(conn, found)
        done += sum(len(by_title[f.title]) for f in batch)
        if progress is not None:
            progress(done, len(files))
    if report.missing:
        log.warning(
            "%d tracked file(s) have no page on the wiki any more (deleted or moved since the last "
            "resolution?), e.g. %s",
            len(report.missing),
            report.missing[0],
        )
    return report


def _params(key: str, values: Sequence[str]) -> dict[str, str | int]:
    params: dict[str, str | int] = {
        "action": "query",
        key: "|".join(values),
        "prop": "revisions",
        "rvprop": "ids|timestamp|content",
        "rvslots": "main",
    }
    if key == "titles":
        params["redirects"] = 1
    return params


async def _by_pageids(api: ActionApi, batch: Sequence[TrackedFile], report: LookupReport) -> Latest:
    latest: dict[int, tuple[int, str | None]] = {}
    gone: set[int] = set()
    async for data in api.query_continue(_params("pageids", [str(f.pageid) for f in batch])):
        report.requests += 1
        for page in named_pages(data):
            pageid = int(page.get("pageid") or 0)
            if is_gone(page):
                gone.add(pageid)
            for raw in page.get("revisions") or ():
                if isinstance(raw, dict) and "revid" in raw:
                    revision = parse_revision(page, raw)
                    latest[pageid] = (revision.revid, None if revision.texthidden else revision.wikitext)
    found: Latest = {}
    for item in batch:
        assert item.pageid is not None
        if item.pageid in gone:
            report.missing.append(item.title)
            continue
        if item.pageid not in latest:
            raise Unanswered(
                f"the API answer named neither page id {item.pageid} ({item.title}) nor its absence"
            )
        found[item.title] = latest[item.pageid]
    return found


async def _by_titles(api: ActionApi, batch: Sequence[TrackedFile], report: LookupReport) -> Latest:
    latest: Latest = {}
    renamed: dict[str, str] = {}
    gone: set[str] = set()
    async for data in api.query_continue(_params("titles", [f.title for f in batch])):
        report.requests += 1
        query = query_part(data)
        for key in ("normalized", "redirects"):
            renamed.update({r["from"]: r["to"] for r in query.get(key, []) if isinstance(r, dict)})
        for page in named_pages(data):
            title = str(page.get("title", ""))
            if is_gone(page) or page.get("invalid"):
                gone.add(title)
            for raw in page.get("revisions") or ():
                if isinstance(raw, dict) and "revid" in raw:
                    revision = parse_revision(page, raw)
                    latest[title] = (revision.revid, None if revision.texthidden else revision.wikitext)
    found: Latest = {}
    for item in batch:
        target = follow_renames(renamed, item.title)
        if target in gone:
            report.missing.append(item.title)
            continue
        if target not in latest:
            raise Unanswered(f"the API answer named neither {item.title} nor its absence")
        found[item.title] = latest[target]
    return found
