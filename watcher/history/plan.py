"""Which revisions one history diff covers: the baseline rules and the seam with the live path.

A file's walked chain runs from its current revision back to its baseline (the museum's last
revision, the revision current at ``--since``, or the page's first revision). The diff then covers
one contiguous range (baseline, new] of that chain:

- Leading revisions by bots (``ignore_bots``, by ``list=users`` group) or ``ignore_users`` move the
  baseline forward, as the live path would have made no records of them. Such edits *after* a
  community edit stay in the range: a cumulative diff cannot take them apart.
- Revisions whose changes other records already report are not reported again (:class:`Coverage`):
  a revision with a live record or a live inbox item (the daemon queued it), a revision inside the
  range of an earlier history record, and every revision the running daemon will still see (newer
  than its stream position, less the resume margin, as far back as its catch-up reaches). Leading
  covered revisions move the baseline forward; the first covered revision after an uncovered one ends
  the range. So history and live records partition a file's edits: no change is reported twice, and
  the live path reports everything from its first edit onwards.

With several collections an earlier history record covers its range only for *its* collection
(``covers(..., collection=)``): a `watcher history --collection a` run reports a shared file for ``a``
alone, so a later run for every collection still owes ``b`` that range. Live records and inbox items
cover every collection (the live path queues an edit for each collection that holds the file).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from watcher.mediawiki.types import RevisionMeta
from watcher.store import iso_utc
from watcher.store import state as store_state
from watcher.store.engine import Connection
from watcher.tracking.catchup import RECENT_CHANGES_KEEP

CATCH_UP_REACH = RECENT_CHANGES_KEEP - timedelta(hours=1)


@dataclass(frozen=True)
class Plan:
    """One file's history diff: baseline → ``revisions[-1]``, covering ``revisions`` (oldest first)."""

    baseline: RevisionMeta
    revisions: tuple[RevisionMeta, ...]

    @property
    def new(self) -> RevisionMeta:
        return self.revisions[-1]

    @property
    def key(self) -> tuple[int, int]:
        return (self.baseline.revid, self.new.revid)

    def editors(self) -> list[str]:
        """The editors of the covered revisions, in order, each once (hidden names left out)."""
        return list(dict.fromkeys(r.user for r in self.revisions if r.user))

    def comment(self) -> str:
        count = len(self.revisions)
        editors = ", ".join(self.editors()) or "hidden users"
        return f"{count} edit{'' if count == 1 else 's'} by {editors} since {self.baseline.timestamp[:10]}"


class Coverage:
    """Revisions whose changes other records report, read incrementally from the database.

    Call :meth:`refresh` with the connection of the transaction that will insert records: inside
    ``BEGIN IMMEDIATE`` the daemon cannot commit in between, so the check and the insert see one state.
    """

    def __init__(self, resume_margin: float = 10.0, now: Callable[[], datetime] | None = None) -> None:
        self.live: dict[str, set[int]] = {}
        self.ranges: dict[str, list[tuple[int, int, str]]] = {}  # (old, new, collection) of history records
        self.live_from: str | None = None
        self._margin = timedelta(seconds=resume_margin)
        self._now = now or (lambda: datetime.now(UTC))
        self._inbox_id = 0
        self._change_id = 0

    async def refresh(self, conn: Connection) -> None:
        cursor = await conn.execute(
            "SELECT id, title, event FROM inbox WHERE kind = 'edit' AND id > ? ORDER BY id", (self._inbox_id,)
        )
        for row in await cursor.fetchall():
            self._inbox_id = max(self._inbox_id, int(row[0]))
            revid = _new_revision(row[2])
            if revid is not None:
                self.live.setdefault(row[1], set()).add(revid)
        cursor = await conn.execute(
            "SELECT id, file, source, revision, old_revision, collection FROM changes WHERE id > ? ORDER BY id",
            (self._change_id,),
        )
        for row in await cursor.fetchall():
            self._change_id = max(self._change_id, int(row[0]))
            if row[2] == "live":
                self.live.setdefault(row[1], set()).add(int(row[3]))
            elif row[4] is not None:
                self.ranges.setdefault(row[1], []).append((int(row[4]), int(row[3]), str(row[5])))
        cursor = await conn.execute(
            "SELECT key, value FROM state WHERE key IN (?, ?)",
            (store_state.CURSOR_TIME, store_state.FIRST_START),
        )
        positions = {row[0]: row[1] for row in await cursor.fetchall()}
        self.live_from = self._live_from(
            positions.get(store_state.CURSOR_TIME) or positions.get(store_state.FIRST_START)
        )

    def _live_from(self, position: str | None) -> str | None:
        """From when the daemon has seen or will still see every edit, or None where it never ran."""
        if not position:
            return None
        try:
            moment = datetime.fromisoformat(position.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return iso_utc(max(moment - self._margin, self._now() - CATCH_UP_REACH))

    def covers(self, titles: Iterable[str], revision: RevisionMeta, collection: str | None = None) -> bool:
        """Whether other records report ``revision``: live ones of any collection, history ones of
        ``collection`` (None: of any, as in a deployment of one collection, whose records of before a
        rename carry the old name)."""
        if self.live_from is not None and revision.timestamp > self.live_from:
            return True
        for title in titles:
            if revision.revid in self.live.get(title, ()):
                return True
            if any(
                old < revision.revid <= new and collection in (None, whose)
                for old, new, whose in self.ranges.get(title, ())
            ):
                return True
        return False


def _new_revision(event_json: str) -> int | None:
    try:
        event = json.loads(event_json)
        revid = event["revision"]["new"]
    except (ValueError, KeyError, TypeError):
        return None
    return revid if isinstance(revid, int) and not isinstance(revid, bool) else None


def plan_file(
    titles: Sequence[str],
    chain: Sequence[RevisionMeta],
    coverage: Coverage,
    is_quiet: Callable[[RevisionMeta], bool],
    collection: str | None = None,
) -> Plan | str:
    """The diff to make for a walked chain (newest first, baseline last) for records of ``collection``
    (None: whichever), or why there is none (``quiet``: only bots or ignored users since the baseline;
    ``covered``: other records report it)."""

    def covered(revision: RevisionMeta) -> bool:
        return coverage.covers(titles, revision, collection)

    baseline = chain[-1]
    revisions = list(reversed(chain[:-1]))
    start = 0
    while start < len(revisions) and (is_quiet(revisions[start]) or covered(revisions[start])):
        baseline = revisions[start]
        start += 1
    end = start
    while end < len(revisions) and not covered(revisions[end]):
        end += 1
    if end == start:
        return "covered" if any(covered(r) for r in revisions) else "quiet"
    return Plan(baseline, tuple(revisions[start:end]))


@dataclass(frozen=True)
class FilePlans:
    """One file's plan (its state and ``history_progress.plan``) and each target collection's own."""

    plan: Plan | str
    by_collection: dict[str, Plan | str]

    def diffs(self) -> list[Plan]:
        """The diffs to make: the file's plan first, then any other one a collection needs."""
        found = {self.plan.key: self.plan} if isinstance(self.plan, Plan) else {}
        for plan in self.by_collection.values():
            if isinstance(plan, Plan):
                found.setdefault(plan.key, plan)
        return list(found.values())


def plan_collections(
    titles: Sequence[str],
    chain: Sequence[RevisionMeta],
    coverage: Coverage,
    is_quiet: Callable[[RevisionMeta], bool],
    collections: Sequence[str],
    *,
    separate: bool,
) -> FilePlans:
    """The plan of each collection the records go to (``separate``: with its own history records'
    coverage; else one plan for all, as in a deployment of one collection). The file's plan is the
    first collection's that has one; with no collection (a ``--files`` title no collection holds) the
    plan as if one did."""
    if not separate or not collections:
        plan = plan_file(titles, chain, coverage, is_quiet)
        return FilePlans(plan, dict.fromkeys(collections, plan))
    plans = {name: plan_file(titles, chain, coverage, is_quiet, name) for name in collections}
    first = next((plan for plan in plans.values() if isinstance(plan, Plan)), None)
    if first is not None:
        return FilePlans(first, plans)
    return FilePlans("covered" if "covered" in plans.values() else "quiet", plans)
