"""A pair of revisions → change records: the one path of the live worker and of history mode.

Both slots are diffed (:func:`watcher.diff.diff_revisions`), changes in languages the museum does not
follow are dropped, item values get their Wikidata labels, and the provenance (who changed which
revision of which file, when, and the file's object id) is made to go into the queue with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from watcher.base.values import Source
from watcher.config import Config
from watcher.diff import diff_revisions, find_object_id
from watcher.diff.model import DiffSettings, FieldChange, RevisionContent
from watcher.mediawiki.types import Revision, Revisions
from watcher.pipeline.labels import LabelResolver, with_labels
from watcher.store import tracked as store_tracked
from watcher.store.engine import Connection
from watcher.store.queue import Provenance

__all__ = ["RecordMaker", "incomparable"]


def incomparable(
    revisions: Revisions[Revision], old_id: int | None, new_id: int | None
) -> Literal["unanswered", "gone", "hidden"] | None:
    """Why the pair ``old_id`` → ``new_id`` of an answer cannot be compared; None when it can.

    "unanswered": the answer named neither a revision nor its removal (``{}``, a partial page list):
    retry, never settle. "gone": the API named one of them deleted or unknown (``badrevids``), or the
    edit has no parent to compare with. "hidden": revision-deleted content.
    """
    if not old_id or not new_id:
        return "gone"
    if revisions.unanswered([new_id, old_id]):
        return "unanswered"
    old, new = revisions.get(old_id), revisions.get(new_id)
    if old is None or new is None:
        return "gone"
    if old.texthidden or new.texthidden:
        return "hidden"
    return None


class RecordMaker:
    """Turns revision pairs into the change records and provenance that :func:`insert_changes` queues."""

    def __init__(self, config: Config, labels: LabelResolver | None = None) -> None:
        self.settings = DiffSettings.from_section(config.diff)
        self.languages = frozenset(config.filters.languages)
        # Each collection's object id rules: a file in two collections has an object id in each.
        self.object_id_rules = {c.name: c.object_id for c in config.collections}
        self.only_collection = config.collections[0].name if len(config.collections) == 1 else None
        self.labels = labels

    def use_redirects(self, redirects: Mapping[str, str]) -> None:
        """Diff (and find object ids) with the wiki's own template redirects from now on."""
        if dict(redirects) != dict(self.settings.template_redirects):
            self.settings = self.settings.with_redirects(redirects)

    async def changes(self, old: Revision, new: Revision) -> list[FieldChange]:
        """What changed from ``old`` to ``new``, in the followed languages, with labels of item values."""
        changes = diff_revisions(
            RevisionContent(old.wikitext, old.mediainfo),
            RevisionContent(new.wikitext, new.mediainfo),
            self.settings,
        )
        if self.languages:
            changes = [c for c in changes if c.language is None or c.language in self.languages]
        return await with_labels(changes, self.labels)

    def provenance(
        self,
        file: str,
        old: Revision,
        new: Revision,
        *,
        wiki: str,
        timestamp: str,
        user: str | None,
        comment: str | None,
        source: Source = "live",
        collection: str,
    ) -> Provenance:
        """The provenance of the records of ``old`` → ``new`` of ``file`` in ``collection``; the object
        id is looked up by that collection's rules in the new text first, then the old."""
        return Provenance(
            wiki=wiki,
            file=file,
            revision=new.revid,
            old_revision=old.revid,
            timestamp=timestamp,
            user=user,
            comment=comment,
            object_id=self.object_id(file, new.wikitext, old.wikitext, collection),
            source=source,
            collection=collection,
        )

    def object_id(self, file: str, new: str | None, old: str | None, collection: str) -> str | None:
        """The file's object id by the collection's rules (none for a collection the config lost)."""
        rules = self.object_id_rules.get(collection, ())
        return find_object_id(file, new, old, rules, self.settings.redirects) if rules else None

    async def collections(self, conn: Connection, file: str) -> list[str]:
        """The collections an edit of ``file`` makes records for: with one collection, always it (as
        before there were several); otherwise those whose reasons hold the file, in config order."""
        if self.only_collection is not None:
            return [self.only_collection]
        held = set(await store_tracked.collections_of(conn, file))
        return [name for name in self.object_id_rules if name in held]
