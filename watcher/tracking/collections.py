"""Every collection's tracked files through one API client into one tracked set.

An agency's forty museums are one deployment: one stream connection matches against one set of titles,
and one Action API client (serial, one request budget, its ``maxlag`` and backoff) resolves each
collection's sources in turn. Why a file is tracked, and so whose it is, stays per collection in the
store (:mod:`watcher.store.collection_tables`); the worker asks it which collections an edit is for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from watcher.config import CollectionSection
from watcher.mediawiki.client import ActionApi
from watcher.store import tracked as store
from watcher.store.engine import Store
from watcher.tracking.resolver import (
    Progress,
    ResolveReport,
    SharedListings,
    TrackedSet,
    TrackingResolver,
    canonical_title,
)

log = logging.getLogger("watcher.tracking")


def uploader_collections(collections: Sequence[CollectionSection]) -> dict[str, tuple[str, ...]]:
    """Canonical uploader name → the collections that track that uploader's files, in config order."""
    found: dict[str, list[str]] = {}
    for collection in collections:
        for user in collection.uploaders:
            names = found.setdefault(canonical_title(user), [])
            if collection.name not in names:
                names.append(collection.name)
    return {user: tuple(names) for user, names in found.items()}


def refresh_seconds(collections: Sequence[CollectionSection]) -> float:
    """How often the whole set is resolved again: the shortest ``refresh_hours`` of any collection
    (one pass resolves them all, so that the passes keep to one request budget)."""
    return min(c.refresh_hours for c in collections) * 3600


async def load_tracked_set(db: Store, collections: Sequence[CollectionSection]) -> TrackedSet:
    """The stored set with every collection's uploaders: what a restart matches events against at once."""
    return await TrackedSet.load(db, uploader_collections(collections))


class CollectionsResolver:
    """Resolves each collection in turn; what the daemon and history mode resolve through."""

    def __init__(
        self,
        collections: Sequence[CollectionSection],
        api: ActionApi,
        db: Store,
        tracked: TrackedSet,
        *,
        progress: Callable[[str], Progress] = Progress,
    ) -> None:
        self.db = db
        self.names = tuple(c.name for c in collections)
        self.resolvers: Mapping[str, TrackingResolver] = {
            c.name: TrackingResolver(c, api, db, tracked, progress=progress) for c in collections
        }
        if len(collections) > 1:
            for name, resolver in self.resolvers.items():
                resolver.label = f"collection {name}: "

    async def resolve_all(self) -> ResolveReport:
        """Forget the collections the config no longer has, then resolve each one; the report adds up
        what each resolution did (a file in two collections is counted once in ``files``)."""
        async with self.db.transaction() as conn:
            gone = await store.drop_other_collections(conn, self.names)
        if gone:
            log.info("%d files left the tracked set with collections no longer configured", len(gone))
        total = ResolveReport(left=list(gone))
        shared = SharedListings()  # a source two collections track is listed once
        for resolver in self.resolvers.values():
            resolver.shared = shared
            try:
                report = await resolver.resolve_all()
            finally:
                resolver.shared = None
            total.joined += report.joined
            total.left += report.left
            total.missing += report.missing
            total.seconds += report.seconds
        total.files = (await store.count_files(self.db))["active"]
        if len(self.resolvers) > 1:
            log.info(
                "tracked set resolved: %d files in %d collections (%d joined, %d left) in %.1f s",
                total.files, len(self.resolvers), total.joined, len(total.left), total.seconds,
            )  # fmt: skip
        return total

    async def resolve_category(self, root: str) -> None:
        """Resolve one configured category again in every collection that configures it (listed once)."""
        shared = SharedListings()
        for resolver in self.resolvers.values():
            if root in {canonical_title(c, "Category") for c in resolver.config.categories}:
                resolver.shared = shared
                try:
                    await resolver.resolve_category(root)
                finally:
                    resolver.shared = None
