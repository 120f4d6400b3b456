"""Which files are the museum's: resolved through the Action API, kept current from the stream.

The in-memory :class:`TrackedSet` answers the per-event question ("could this event concern us?") in
O(1) from compact hash sets; the database holds the truth (titles and why each is tracked), and every
hit is verified there, so a hash collision costs one query and never a wrong record.

A resolution never trusts a listing's silence on its own: it may drop up to :data:`DROP_SHARE` of the
stored set (at least :data:`DROP_MIN_FILES` files) unchecked, and beyond that each removal has to be
confirmed by a second look-up (:mod:`watcher.mediawiki.checks`): the page is deleted, or no longer in
the category / using the template. Otherwise the drop is refused (:class:`ResolutionRefused`, an
:class:`ApiError` the daemon already retries with backoff) and the stored set is kept, so an API that
answers ``{}`` or an empty list after a restart cannot empty the tracked set.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from watcher.config import CollectionSection
from watcher.mediawiki.checks import Membership, memberships
from watcher.mediawiki.client import ActionApi, ApiError, PageRef
from watcher.mediawiki.wire import BATCH_SIZE, chunks, query_part
from watcher.store import tracked as store
from watcher.store.engine import Connection, Store
from watcher.stream.titleset import TitleSet

log = logging.getLogger("watcher.tracking")

BATCH = 500
# Listed titles per prop=info request where the account has apihighlimits (BATCH_SIZE, 50, otherwise).
HIGH_BATCH = 500
# How often a resolution says how far it is in the journal (on a terminal: a bar, several times a second).
PROGRESS_LOG_SECONDS = 10.0
# A resolution may drop more than DROP_MIN_FILES files and more than DROP_SHARE of the stored set only
# where the API confirms each removal; below both, a listing is trusted as it is (files come and go).
DROP_SHARE = 0.10
DROP_MIN_FILES = 5
# What confirms that a file left a source: the page's own categories / templates (other sources: only
# its deletion).
_CONFIRMED_BY: dict[str, Membership] = {"category": "categories", "template": "templates"}

WriteFn = Callable[[Connection], Awaitable[tuple[list[str], list[str]]]]
CheckFn = Callable[[list[str]], Awaitable[tuple[str, str] | None]]


class ResolutionRefused(ApiError):
    """A resolution that would drop more of the tracked set than the API confirmed gone: nothing of it
    was written, the stored set stays, and the caller retries later as after any API error."""

    def __init__(self, info: str) -> None:
        super().__init__("refused", info)


class _Unconfirmed(Exception):
    """Raised inside a write transaction to undo it: more files would leave than may go unchecked."""

    def __init__(self, removed: list[str], left: list[str]) -> None:
        super().__init__(f"{len(left)} files would leave")
        self.removed = removed
        self.left = left


def canonical_title(title: str, namespace: str | None = None) -> str:
    """MediaWiki's title normalisation: underscores to spaces, collapsed, first letter upper case."""
    text = " ".join(title.replace("_", " ").split())
    if namespace and ":" in text:
        prefix, rest = text.split(":", 1)
        if prefix.strip().lower() == namespace.lower():
            text = f"{namespace}:{rest.strip()}"
    elif namespace:
        text = f"{namespace}:{text}"
    if ":" in text:
        prefix, rest = text.split(":", 1)
        return f"{prefix}:{rest[:1].upper()}{rest[1:]}"
    return text[:1].upper() + text[1:]


class TrackedSet:
    """Compact in-memory mirror of the tracked files, categories and uploaders (the stream's matcher)."""

    def __init__(self) -> None:
        self.files = TitleSet()
        self.categories = TitleSet()
        self.uploaders = TitleSet()

    # The stream prefilter's Matcher protocol.
    def title_matches(self, title_utf8: bytes) -> bool:
        return self.files.contains_utf8(title_utf8) or self.categories.contains_utf8(title_utf8)

    def user_matches(self, user_utf8: bytes) -> bool:
        return self.uploaders.contains_utf8(user_utf8)

    # The prefilter's SetMatcher protocol: the same answers, for its compiled helper to read directly.
    def title_sets(self) -> tuple[TitleSet, ...]:
        return (self.files, self.categories)

    def user_sets(self) -> tuple[TitleSet, ...]:
        return (self.uploaders,)

    def has_file(self, title: str) -> bool:
        return title in self.files

    def has_category(self, title: str) -> bool:
        return title in self.categories

    def has_uploader(self, user: str) -> bool:
        return user in self.uploaders

    @classmethod
    async def load(cls, db: Store, uploaders: Iterable[str]) -> TrackedSet:
        """The stored files and categories, and ``uploaders`` (names, or a mapping keyed by them)."""
        tracked = cls()
        for title in await store.all_titles(db):
            tracked.files.add(title)
        for title in await store.categories(db):
            tracked.categories.add(title)
        for user in uploaders:
            tracked.uploaders.add(canonical_title(user))
        return tracked


@dataclass
class ResolveReport:
    files: int = 0
    joined: int = 0
    left: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stored: int = 0  # active files when the resolution began
    unchecked: int = 0  # files dropped so far without a second look-up

    @property
    def allowance(self) -> float:
        """How many files this resolution may drop in all without confirming each removal."""
        return max(DROP_MIN_FILES, DROP_SHARE * self.stored)


class Progress:
    """How far a resolution is: a one-line bar on a terminal, a line every few seconds in the journal.

    ``total``, where known (a list of titles), makes it "n of total"; ``enabled`` forces the bar on or
    off (None: on where stderr is a terminal).
    """

    def __init__(self, label: str, enabled: bool | None = None) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.count = 0
        self.total: int | None = None
        self._last = 0.0
        self._logged = time.monotonic()

    def _text(self) -> str:
        if self.total:
            return f"{self.label}: {self.count:,} of {self.total:,} ({self.count / self.total:.0%})"
        return f"{self.label}: {self.count:,} files"

    def __call__(self, count: int) -> None:
        self.count = count
        now = time.monotonic()
        if self.enabled:
            if now - self._last > 0.2:
                self._last = now
                sys.stderr.write(f"\r{self._text()}")
                sys.stderr.flush()
        elif now - self._logged >= PROGRESS_LOG_SECONDS:
            self._logged = now
            log.info("%s so far", self._text())

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write(f"\r{self._text()}\n")
            sys.stderr.flush()


@dataclass
class SharedListings:
    """What one resolution of every collection has listed so far, so that a source two collections
    track (the same category, uploader or template) costs the API's request budget once: the first
    collection lists it, the next copy its files from the first one's stored reasons."""

    listed_by: dict[tuple[str, str], str] = field(default_factory=dict)  # (source, detail) → collection
    subcategories: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # (root, depth) → them

    def source(self, source: str, detail: str, collection: str) -> str | None:
        """The collection that listed the source already this resolution (not ``collection``), if any."""
        first = self.listed_by.get((source, detail))
        return first if first is not None and first != collection else None


class TrackingResolver:
    """Resolves every tracking source of one collection through the Action API into the database
    (:class:`watcher.tracking.collections.CollectionsResolver` takes the collections in turn)."""

    def __init__(
        self,
        config: CollectionSection,
        api: ActionApi,
        db: Store,
        tracked: TrackedSet,
        *,
        progress: Callable[[str], Progress] = Progress,
    ) -> None:
        self.config = config
        self.api = api
        self.db = db
        self.tracked = tracked
        self.progress = progress
        self.collection = config.name
        # Before each log line and progress bar: "" for one collection, "collection NAME: " for several.
        self.label = ""
        # Set by CollectionsResolver for one resolution of every collection; None: ask the API for all.
        self.shared: SharedListings | None = None

    async def resolve_all(self) -> ResolveReport:
        started = time.monotonic()
        report = ResolveReport()
        await self._drop_unconfigured(report)  # the operator's decision: never refused
        report.stored = (await store.count_files(self.db))["active"]
        await self._resolve_categories(report)
        for user in self.config.uploaders:
            name = canonical_title(user)
            await self._store_source("uploader", name, self.api.uploads_by(name), report)
        for template in self.config.templates:
            name = canonical_title(template, "Template")
            await self._store_source("template", name, self.api.embedded_in(name), report)
        await self._resolve_explicit(report)
        report.files = await store.collection_file_count(self.db, self.collection)
        report.seconds = time.monotonic() - started
        log.info(
            "%stracked set resolved: %d files (%d joined, %d left, %d listed but missing) in %.1f s",
            self.label,
            report.files,
            report.joined,
            len(report.left),
            len(report.missing),
            report.seconds,
        )
        return report

    async def _drop_unconfigured(self, report: ResolveReport) -> None:
        configured = {
            "category": {canonical_title(c, "Category") for c in self.config.categories},
            "uploader": {canonical_title(u) for u in self.config.uploaders},
            "template": {canonical_title(t, "Template") for t in self.config.templates},
            "file": {"config"},
            # Files that joined from the stream keep their reason's own source (category/uploader).
        }
        async with self.db.transaction() as conn:
            left = await store.drop_unconfigured(conn, configured, self.collection)
        report.left.extend(left)
        self.tracked.categories = TitleSet()
        for category in await store.categories(self.db):
            self.tracked.categories.add(category)

    async def _resolve_categories(self, report: ResolveReport) -> None:
        for root in self.config.categories:
            await self.resolve_category(canonical_title(root, "Category"), report)

    async def resolve_category(self, root: str, report: ResolveReport | None = None) -> None:
        """Resolve one configured category (and its subcategories down to category_depth) again.

        Each file's reason names the (sub)category it is in, so leaving one of two tracked
        subcategories keeps it tracked.
        """
        if report is None:
            report = ResolveReport(stored=(await store.count_files(self.db))["active"])
        subcategories = await self._subcategories(root, self.config.category_depth)
        rows = [(category, root, 0 if category == root else 1) for category in subcategories]
        gone: list[str] = []

        async def write(conn: Connection) -> tuple[list[str], list[str]]:
            gone[:] = await store.set_categories(conn, root, rows, self.collection)
            left = [
                title
                for category in gone
                for title in await store.replace_reasons(conn, "category", category, set(), self.collection)
            ]
            return list(gone), left

        async def check(removed: list[str]) -> tuple[str, str] | None:
            return await self._unconfirmed_subcategories(removed, subcategories)

        left = await self._write_checked(write, check, f"the subcategories of {root}", report)
        async with self.db.transaction() as conn:
            still = {category for category in gone if await store.category_roots(conn, category)}
        for category in gone:
            if category not in still:  # another collection may track it too
                self.tracked.categories.discard(category)
        report.left.extend(left)
        for category in subcategories:
            self.tracked.categories.add(category)
        for category in subcategories:
            await self._store_source("category", category, self.api.category_members(category), report)

    async def _subcategories(self, root: str, depth: int) -> list[str]:
        if self.shared is None:
            return await self.api.subcategories(root, depth)
        known = self.shared.subcategories.get((root, depth))
        if known is None:
            known = self.shared.subcategories[(root, depth)] = await self.api.subcategories(root, depth)
        return list(known)

    def _listing(self, source: str, detail: str, pages: AsyncIterator[PageRef]) -> AsyncIterator[PageRef]:
        """``pages`` from the API, or, where another collection listed the source this resolution, its
        stored files (the API's generator is then never started: not one request)."""
        first = self.shared.source(source, detail, self.collection) if self.shared is not None else None
        if first is None:
            return pages

        async def copied() -> AsyncIterator[PageRef]:
            log.debug("%s%s %s: the files collection %s listed", self.label, source, detail, first)
            async for title, pageid in store.source_files(self.db, source, detail, first):
                yield PageRef(title, pageid)

        return copied()

    async def _resolve_explicit(self, report: ResolveReport) -> None:
        titles = [canonical_title(t, "File") for t in self.config.files]
        if self.config.files_from is not None:
            try:
                text = self.config.files_from.read_text(encoding="utf-8")
            except OSError as exc:
                log.error("cannot read tracking.files_from %s: %s", self.config.files_from, exc)
                text = ""
            titles += [
                canonical_title(line.strip(), "File")
                for line in text.splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            ]
        found: list[PageRef] = []
        started, requests = time.monotonic(), self.api.stats.requests
        size = await self._titles_per_request(len(titles))
        meter = self.progress(f"{self.label}resolving the listed files")
        meter.total = len(titles)
        for start in range(0, len(titles), size):
            chunk = titles[start : start + size]
            info = await self.api.page_info(chunk, batch_size=max(len(chunk), BATCH_SIZE))
            meter(start + len(chunk))
            for asked in chunk:
                page = info.get(asked)
                if page is None or page.missing:
                    report.missing.append(asked)
                    continue
                found.append(PageRef(page.redirect_target or page.title, page.pageid))
        meter.done()
        if titles:
            log.info(
                "resolved %d listed titles in %d requests of up to %d titles (%.1f s)",
                len(titles), self.api.stats.requests - requests, size, time.monotonic() - started,
            )  # fmt: skip
        if report.missing:
            log.warning(
                "%d explicitly listed files do not exist on the wiki, e.g. %s",
                len(report.missing),
                ", ".join(report.missing[:3]),
            )

        async def listed() -> AsyncIterator[PageRef]:
            for page in found:
                yield page

        await self._store_source("file", "config", listed(), report)

    async def _titles_per_request(self, count: int) -> int:
        """Titles a prop=info request takes: 50, or 500 where the account has ``apihighlimits``
        (asked through ``meta=userinfo`` only where it matters; an answer without it means 50)."""
        if count <= BATCH_SIZE:
            return BATCH_SIZE
        try:
            data = await self.api.request({"action": "query", "meta": "userinfo", "uiprop": "rights"})
        except ApiError as exc:
            log.info(
                "the API did not say what this account may ask (%s): %d titles a request", exc, BATCH_SIZE
            )
            return BATCH_SIZE
        info = query_part(data).get("userinfo")
        rights = info.get("rights") if isinstance(info, dict) else None
        return HIGH_BATCH if isinstance(rights, list) and "apihighlimits" in rights else BATCH_SIZE

    async def _store_source(
        self, source: str, detail: str, pages: AsyncIterator[PageRef], report: ResolveReport
    ) -> None:
        """Store one source's files in batches (short write transactions), then drop the ones gone."""
        meter = self.progress(f"{self.label}resolving {source} {detail}")
        seen: set[str] = set()
        batch: list[tuple[str, int | None]] = []
        async for page in self._listing(source, detail, pages):
            if page.title in seen:
                continue
            seen.add(page.title)
            batch.append((page.title, page.pageid))
            meter(len(seen))
            if len(batch) >= BATCH:
                await self._flush(batch, source, detail, report)
                batch = []
        await self._flush(batch, source, detail, report)
        meter.done()

        async def write(conn: Connection) -> tuple[list[str], list[str]]:
            left = await store.replace_reasons(conn, source, detail, seen, self.collection)
            return left, left

        async def check(removed: list[str]) -> tuple[str, str] | None:
            return await self._unconfirmed_removal(source, detail, removed)

        if source == "file":  # the config lists them, and page_info named each missing one
            async with self.db.transaction() as conn:
                _, left = await write(conn)
        else:
            left = await self._write_checked(write, check, f"{source} {detail}", report)
        report.left.extend(left)
        if self.shared is not None and source != "file":  # a collection's own list is its own
            self.shared.listed_by.setdefault((source, detail), self.collection)

    async def _write_checked(
        self, write: WriteFn, check: CheckFn, what: str, report: ResolveReport
    ) -> list[str]:
        """Run ``write`` (→ what it removed, the files that leave) in one transaction; where more files
        would leave than the resolution may drop unchecked, undo it, ``check`` each removal with the API
        and write again only if it confirms them all. Returns the files that left."""
        try:
            async with self.db.transaction() as conn:
                removed, left = await write(conn)
                if report.unchecked + len(left) > report.allowance:
                    raise _Unconfirmed(removed, left)
        except _Unconfirmed as over:
            problem = await check(over.removed)
            if problem is not None:
                example, why = problem
                text = (
                    f"refused to drop {len(over.left):,} of the {report.stored:,} tracked files ({what}): "
                    f"more than {DROP_SHARE:.0%} and more than {DROP_MIN_FILES} files, and the API did not "
                    f"confirm the removal ({example}: {why}); the stored set is kept until a later "
                    "resolution confirms it"
                )
                log.warning("%s", text)
                raise ResolutionRefused(text) from None
            async with self.db.transaction() as conn:
                _, left = await write(conn)
            log.info("%s: %d files left, each removal confirmed by the API", what, len(left))
            return left
        report.unchecked += len(left)
        return left

    async def _unconfirmed_removal(
        self, source: str, detail: str, titles: Sequence[str]
    ) -> tuple[str, str] | None:
        """The first file whose removal from the source the API does not confirm, and why; None when it
        confirms all. Stops at the first batch with one, so an empty answer costs one request."""
        prop = _CONFIRMED_BY.get(source)
        for batch in chunks(list(titles)):
            answer = await memberships(self.api, batch, prop or "categories", [detail] if prop else [])
            for title in batch:
                if title not in answer:
                    return title, "the answer to the check named neither the page nor its absence"
                found = answer[title]
                if found is None:
                    continue  # deleted
                if prop is None:
                    return title, f"the page exists, and only a deletion confirms it left the {source}"
                if detail in found:
                    return title, f"prop={prop} still lists it in {detail}"
        return None

    async def _unconfirmed_subcategories(
        self, gone: Sequence[str], tracked: Sequence[str]
    ) -> tuple[str, str] | None:
        """The first subcategory no longer listed whose removal the API does not confirm: it is named,
        and deleted or in none of the still tracked categories."""
        answer = await memberships(self.api, gone, "categories")
        still = set(tracked)
        for category in gone:
            if category not in answer:
                return category, "the answer to the check named neither the category nor its absence"
            parents = sorted((answer[category] or frozenset()) & still)
            if parents:
                return category, f"prop=categories still lists it in {parents[0]}"
        return None

    async def _flush(
        self, batch: list[tuple[str, int | None]], source: str, detail: str, report: ResolveReport
    ) -> None:
        if not batch:
            return
        report.joined += sum(1 for title, _ in batch if not self.tracked.has_file(title))
        async with self.db.transaction() as conn:
            await store.add_files(conn, batch, source, detail, self.collection)
        for title, _ in batch:
            self.tracked.files.add(title)
