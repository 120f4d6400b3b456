"""`watcher history`: everything the community changed on the museum's files before the watcher watched.

For each tracked file (or each ``--files`` title) the **baseline** is the museum's own last revision
(an edit by one of ``tracking.museum_accounts``); where the museum never edited the page it is the
revision current at ``--since`` (the last one before DATE, or the first one where the page was
created at or after DATE), and without ``--since`` the page's first revision: the upload as it was
made. With ``--since`` a museum revision older than DATE does not count: nothing before DATE is
reported. The diff baseline → current revision is queued as ordinary change records with
``source = "history"``, the editors of the revisions in between as ``user`` and a summary such as
"3 edits by A, B since 2019-05-02" as ``comment``. :mod:`watcher.history.plan` says which revisions
one diff covers (bots, ignored users, and the seam with the live path).

Requests, in this order, all serial through the shared client (maxlag, User-Agent, backoff):

1. the latest revision of every file: ``generator=categorymembers`` per tracked category (500 files a
   request; subcategories only where ``prop=categoryinfo`` says they hold at least 50 files) and
   ``generator=embeddedin`` per tracked template, then ``pageids=`` (50) for the rest;
2. the museum accounts' contributions in the File namespace (500 a request), for baselines known
   before any walk; bounded to one request per 250 files, because the walk finds baselines anyway;
3. the walk (:mod:`watcher.history.walk`): parents through ``revids=`` (50 a request, no content),
   for at most four rounds, then single-page histories (``rvlimit=max``) for the few files with
   longer runs of edits;
4. ``list=users`` groups of the editors in between, for the bot filter;
5. content of baseline and new revision, 50 revisions (25 files) a request, then diff and insert.

Files whose current revision is the museum's are settled by step 1 alone. Progress is kept in the
database (:mod:`watcher.history.progress`), so a run interrupted anywhere resumes where it was.

With ``--collection`` (:attr:`HistoryOptions.collections`) a run walks only the files of those
collections (a file is a collection's while it has a reason of it) and queues records only for them: a
file one of them shares with another collection gets no record for the other. Each collection's
records cover their range for that collection alone (:class:`~watcher.history.plan.Coverage`), so a
later run for every collection queues the others' records of a shared file and repeats none. Museum
accounts, ignored users and bots stay deployment-wide.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from watcher.config import CollectionSection, Config
from watcher.diff.model import FieldChange
from watcher.history.plan import Coverage, FilePlans, Plan, plan_collections
from watcher.history.progress import (
    FileProgress,
    add_files,
    add_requests,
    ensure_tables,
    finish_run,
    load_files,
    open_run,
    run_summary,
    save_files,
    save_in_batches,
    set_phase,
)
from watcher.history.progress import HistoryOptions as HistoryOptions
from watcher.history.progress import run_identity as run_identity
from watcher.history.walk import Walker
from watcher.mediawiki.bulk import (
    category_file_counts,
    contributions,
    latest_by_pageids,
    latest_by_titles,
    latest_embedding,
    latest_in_category,
)
from watcher.mediawiki.client import ActionApi, Revision
from watcher.mediawiki.types import RevisionMeta, Revisions, Unanswered, unanswered_message
from watcher.pipeline.editors import EditorFacts, covered_tags
from watcher.pipeline.labels import LabelResolver
from watcher.pipeline.queueing import queue_changes
from watcher.pipeline.records import RecordMaker, incomparable
from watcher.pipeline.redirects import stored_redirects
from watcher.store import tracked as store_tracked
from watcher.store.engine import Connection, Store
from watcher.store.open import open_store, store_settings
from watcher.tracking.collections import CollectionsResolver
from watcher.tracking.resolver import TrackedSet, TrackingResolver, canonical_title

__all__ = ["HistoryOptions", "HistoryReport", "HistoryRun", "ProgressSink", "run_history"]

log = logging.getLogger("watcher.history")

CONTENT_FILES = 25  # two revisions each: one request of 50 revids
GENERATOR_MIN_FILES = 50  # below this a category costs more through its generator than through pageids=
CONTRIBS_PER_REQUEST_FILES = 250  # budget of the contributions listing: one request per this many files
MAX_PASSES = 10  # plan/content passes; a pass repeats only files whose range the live path cut shorter


class ProgressSink(Protocol):
    def phase(self, label: str, total: int) -> None: ...
    def advance(self, count: int = 1) -> None: ...
    def close(self) -> None: ...


class _Silent:
    def phase(self, label: str, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class HistoryReport:
    run_id: int
    resumed: bool
    files: int
    outcomes: dict[str, int]  # done, skipped:<why>, and any unfinished state
    records: int
    requests: int  # this run's Action API requests, over all its attempts (resumes included)
    resolve_requests: int  # spent resolving an empty tracked set first (not part of the run)
    seconds: float
    finished: bool

    @property
    def requests_per_file(self) -> float:
        return self.requests / self.files if self.files else 0.0


def _account(name: str) -> str:
    name = name.strip()
    if name.lower().startswith("user:"):
        name = name[5:]
    return canonical_title(name)


class HistoryRun:
    """One `watcher history` run over one database; resumable (see :mod:`watcher.history.progress`)."""

    def __init__(
        self,
        db: Store,
        api: ActionApi,
        config: Config,
        options: HistoryOptions,
        *,
        labels: LabelResolver | None = None,
        progress: ProgressSink | None = None,
    ) -> None:
        self.db = db
        self.api = api
        self.config = config
        self.options = options
        self.records = RecordMaker(config, labels)
        self.editors = EditorFacts(db, api)  # who made the edits: one list=users per 50 new editors
        self.progress: ProgressSink = progress or _Silent()
        # The museums' own accounts, of every collection: their edits are the baseline, not changes.
        self.accounts = frozenset(_account(a) for c in config.collections for a in c.museum_accounts)
        self.ignored = frozenset(_account(u) for u in config.filters.ignore_users)
        self.coverage = Coverage(config.stream.resume_margin)
        self.chosen = frozenset(options.collections) or None  # None: every collection
        # History records cover their range per collection where there are several (Coverage.covers).
        self.by_collection = len(config.collections) > 1
        self._targets: dict[str, tuple[str, ...]] = {}  # file → the collections this run records it for
        self.bots: set[str] = set()
        self._groups_known: set[str] = set()
        self.run_id = 0
        self._counted = 0

    # -- bookkeeping ------------------------------------------------------------------------------

    def _spent(self) -> int:
        """Requests since the last call (added to the run's total at each checkpoint)."""
        now = self.api.stats.requests
        spent, self._counted = now - self._counted, now
        return spent

    def _is_museum(self, user: str | None) -> bool:
        return user is not None and canonical_title(user) in self.accounts

    def _is_quiet(self, revision: RevisionMeta) -> bool:
        if revision.user is None:
            return False
        name = canonical_title(revision.user)
        return name in self.ignored or (self.config.filters.ignore_bots and name in self.bots)

    def _stops_walk(self, revision: RevisionMeta) -> bool:
        since = self.options.since
        return self._is_museum(revision.user) or (since is not None and revision.timestamp < since)

    # -- the run ----------------------------------------------------------------------------------

    async def run(self) -> HistoryReport:
        started = time.monotonic()
        await ensure_tables(self.db)
        self.records.use_redirects((await stored_redirects(self.db))[0])  # as the daemon last fetched them
        resolve_requests = await self._resolve_if_empty()
        options = run_identity(self.options, self.accounts, self.config.wiki.name)  # --collection too
        self.run_id, phase, resumed = await open_run(self.db, options, restart=self.options.restart)
        self._counted = self.api.stats.requests
        log.info("history run #%d %s (phase %s)", self.run_id, "resumed" if resumed else "started", phase)
        try:
            if phase == "start":
                await self._add_files()
                phase = "files"
                await set_phase(self.db, self.run_id, phase)
            if phase == "files":
                await self._latest_revisions()
                await self._museum_contributions()
                await self._classify()
                phase = "walk"
                await set_phase(self.db, self.run_id, phase, self._spent())
            if phase == "walk":
                await self._walk()
                phase = "diff"
                await set_phase(self.db, self.run_id, phase, self._spent())
            finished = await self._plan_and_diff()
            if finished:
                await finish_run(self.db, self.run_id, self._spent())
            else:
                await set_phase(self.db, self.run_id, phase, self._spent())
        finally:
            self.progress.close()
        summary = await run_summary(self.db, self.run_id)
        records = summary.pop("records", 0)
        requests = summary.pop("requests", 0)
        return HistoryReport(
            run_id=self.run_id,
            resumed=resumed,
            files=sum(summary.values()),
            outcomes=summary,
            records=records,
            requests=requests,
            resolve_requests=resolve_requests,
            seconds=time.monotonic() - started,
            finished=finished,
        )

    async def _resolve_if_empty(self) -> int:
        """Resolve an empty tracked set (`watcher run` never ran) whole, whatever ``--collection`` says:
        it is the daemon's first resolution, and :class:`CollectionsResolver` over some collections
        would forget the others' reasons as no longer configured. A chosen collection with no file
        beside others that have files (added to the config since) is resolved alone, by its own
        :class:`TrackingResolver`: the others are as the daemon keeps them, not worth requests here."""
        if self.options.files:
            return 0
        before = self.api.stats.requests
        count = await self.db.scalar("SELECT count(*) FROM tracked_files WHERE state = 'active'")
        if not count:
            log.info("the tracked set is empty: resolving it first")
            await CollectionsResolver(self.config.collections, self.api, self.db, TrackedSet()).resolve_all()
        else:
            for section in self.config.collections:
                if section.name not in (self.chosen or ()):
                    continue
                if not await store_tracked.collection_file_count(self.db, section.name):
                    log.info("collection %s has no tracked file: resolving it first", section.name)
                    await TrackingResolver(section, self.api, self.db, TrackedSet()).resolve_all()
        return self.api.stats.requests - before

    async def _add_files(self) -> None:
        titles = list(dict.fromkeys(canonical_title(t, "File") for t in self.options.files))
        if self.chosen is not None:  # the chosen collections' files (of those named with --files)
            found: dict[str, int | None] = {}
            for name in sorted(self.chosen):
                for tracked in await store_tracked.tracked_files(self.db, titles or None, name):
                    found[tracked.title] = tracked.pageid
            files = sorted(found.items())
        elif titles:
            marks = ",".join("?" * len(titles))
            rows = await self.db.fetchall(
                f"SELECT title, pageid FROM tracked_files WHERE title IN ({marks})", titles
            )
            known = {row[0]: row[1] for row in rows}
            files = [(title, known.get(title)) for title in titles]
        else:
            rows = await self.db.fetchall(
                "SELECT title, pageid FROM tracked_files WHERE state = 'active' ORDER BY title"
            )
            files = [(row[0], row[1]) for row in rows]
        for start in range(0, len(files), 5000):
            await add_files(self.db, self.run_id, files[start : start + 5000])

    # -- step 1: the latest revision of every file ------------------------------------------------

    async def _latest_revisions(self) -> None:
        pending = await load_files(self.db, self.run_id, ["new"])
        if not pending:  # resumed after this step
            return
        self.progress.phase("reading latest revisions", len(pending))
        by_pageid = {f.pageid: f for f in pending if f.pageid}
        by_title = {f.title: f for f in pending}

        async def store(metas: list[RevisionMeta]) -> None:
            changed: list[FileProgress] = []
            for meta in metas:
                row = by_pageid.get(meta.pageid) or by_title.get(meta.title)
                if row is None or row.state != "new":
                    continue
                row.state, row.chain, row.pageid = "current", [meta], meta.pageid
                changed.append(row)
            await save_in_batches(self.db, self.run_id, changed, self._spent())
            self.progress.advance(len(changed))

        def left() -> int:
            return sum(1 for f in pending if f.state == "new")

        if not self.options.files:
            for category in await self._worthwhile_categories():
                if not left():
                    break
                async for metas in latest_in_category(self.api, category):
                    await store(metas)
            for template in dict.fromkeys(t for c in self._chosen_sections() for t in c.templates):
                if not left():
                    break
                async for metas in latest_embedding(self.api, canonical_title(template, "Template")):
                    await store(metas)
        rest = [f for f in pending if f.state == "new"]
        async for found, missing in latest_by_pageids(self.api, [f.pageid for f in rest if f.pageid]):
            await store(found)
            await self._skip([by_pageid[p] for p in missing if by_pageid[p].state == "new"], "missing")
        titled = [f.title for f in rest if not f.pageid]
        async for latest in latest_by_titles(self.api, titled):
            for asked, meta in latest.items():
                if meta is not None:
                    by_title[asked].pageid = meta.pageid
                    by_pageid[meta.pageid] = by_title[asked]
            await store([m for m in latest.values() if m is not None])
            await self._skip([by_title[t] for t, m in latest.items() if m is None], "missing")
        await self._skip([f for f in pending if f.state == "new"], "missing")

    def _chosen_sections(self) -> list[CollectionSection]:
        return [c for c in self.config.collections if self.chosen is None or c.name in self.chosen]

    async def _worthwhile_categories(self) -> list[str]:
        names = sorted(self.chosen or ())  # --collection: only its categories list files this run walks
        where = f"WHERE collection IN ({','.join('?' * len(names))}) " if names else ""
        rows = await self.db.fetchall(  # a category two collections track, once
            f"SELECT title, min(depth) AS depth FROM tracked_categories {where}GROUP BY title "
            "ORDER BY depth, title",
            names,
        )
        roots = [row[0] for row in rows if row[1] == 0]
        subcategories = [row[0] for row in rows if row[1] != 0]
        if subcategories:
            counts = await category_file_counts(self.api, subcategories)
            subcategories = [c for c in subcategories if counts.get(c, 0) >= GENERATOR_MIN_FILES]
        return roots + subcategories

    async def _skip(self, files: Sequence[FileProgress], why: str) -> None:
        for row in files:
            row.state, row.note = "skipped", why
        if files:
            await save_in_batches(self.db, self.run_id, files, self._spent())
            self.progress.advance(len(files))

    # -- step 2: the museum's own revisions, in bulk ----------------------------------------------

    async def _museum_contributions(self) -> None:
        files = await load_files(self.db, self.run_id, ["current"])
        if not self.accounts or not files:
            return
        by_pageid = {f.pageid: f for f in files if f.pageid}
        total = int(
            await self.db.scalar("SELECT count(*) FROM history_progress WHERE run_id = ?", (self.run_id,))
        )
        budget = max(1, math.ceil(total / CONTRIBS_PER_REQUEST_FILES))
        newest: dict[int, RevisionMeta] = {}
        spent = 0
        self.progress.phase("reading the museum's contributions", budget)
        async with contextlib.aclosing(contributions(self.api, sorted(self.accounts))) as pages:
            async for batch in pages:
                for contribution in batch:
                    best = newest.get(contribution.pageid)
                    if contribution.pageid in by_pageid and (best is None or contribution.revid > best.revid):
                        newest[contribution.pageid] = contribution.meta
                spent += 1
                self.progress.advance()
                if spent >= budget:
                    log.info(
                        "contributions listing stopped after %d requests; the walk finds the rest", spent
                    )
                    break
        changed = []
        for pageid, meta in newest.items():
            row = by_pageid[pageid]
            row.museum = meta
            changed.append(row)
        await save_in_batches(self.db, self.run_id, changed, self._spent())

    async def _classify(self) -> None:
        """Settle what the latest revision alone decides; the rest goes on to the walk."""
        files = await load_files(self.db, self.run_id, ["current"])
        for row in files:
            current = row.chain[0]
            if self._is_museum(current.user):
                row.state, row.note = "skipped", "own"
            elif self.options.since is not None and current.timestamp < self.options.since:
                row.state, row.note = "skipped", "unchanged"
            elif current.parentid == 0:
                row.state, row.note = "skipped", "unchanged"  # never edited after its creation
            else:
                row.state = "walking"
        await save_in_batches(self.db, self.run_id, files, self._spent())

    # -- step 3: the walk back to each baseline (watcher.history.walk) ---------------------------

    async def _walk(self) -> None:
        rows = await load_files(self.db, self.run_id, ["walking"])
        self.progress.phase("walking back to the baselines", len(rows))

        async def save(files: Sequence[FileProgress]) -> None:
            await save_in_batches(self.db, self.run_id, files, self._spent())
            self.progress.advance(sum(1 for f in files if f.state == "walked"))

        await Walker(self.api, self._stops_walk, save).walk(rows)

    # -- steps 4 and 5: plan, fetch, diff, insert -------------------------------------------------

    async def _plan_and_diff(self) -> bool:
        """Plan walked files and diff planned ones until none is left; False if passes ran out."""
        for _ in range(MAX_PASSES):
            waiting = await load_files(self.db, self.run_id, ["walked", "planned"])
            if not waiting:
                return True
            await self._learn_bots(waiting)
            async with self.db.reading() as conn:
                await self.coverage.refresh(conn)
                self._targets = {row.title: await self._targets_of(conn, row.title) for row in waiting}
            planned: list[FileProgress] = []
            decided: list[FileProgress] = []
            for row in waiting:
                plan = self._plan(row)
                if isinstance(plan, str):
                    row.state, row.note, row.plan = "skipped", plan, None
                else:
                    row.state, row.plan = "planned", plan.key
                    planned.append(row)
                decided.append(row)
            await save_in_batches(self.db, self.run_id, decided, self._spent())
            self.progress.phase("diffing", len(waiting))
            self.progress.advance(len(decided) - len(planned))
            for start in range(0, len(planned), CONTENT_FILES):
                await self._diff_batch(planned[start : start + CONTENT_FILES])
        log.warning("history run #%d: files still moving under the live path; run again", self.run_id)
        return False

    async def _targets_of(self, conn: Connection, title: str) -> tuple[str, ...]:
        """The collections this run queues the file's records for: those that hold it, of the chosen."""
        held = await self.records.collections(conn, title)
        return tuple(name for name in held if self.chosen is None or name in self.chosen)

    def _plans(self, row: FileProgress) -> FilePlans:
        """The file's plan and each target collection's (history records cover per collection)."""
        titles = list(dict.fromkeys([row.title, row.chain[0].title]))
        targets = self._targets.get(row.title, ())
        return plan_collections(
            titles, row.chain, self.coverage, self._is_quiet, targets, separate=self.by_collection
        )

    def _plan(self, row: FileProgress) -> Plan | str:
        return self._plans(row).plan

    async def _learn_bots(self, rows: Sequence[FileProgress]) -> None:
        if not self.config.filters.ignore_bots:
            return
        users = {r.user for row in rows for r in row.chain[:-1] if r.user} - self._groups_known
        if not users:
            return
        # The same list=users answers (cached) give the records' editor facts later: no second request.
        await self.editors.learn(sorted(users))
        self._groups_known |= users
        self.bots |= {
            canonical_title(n) for n in users if "bot" in ((self.editors.editor(n) or {}).get("groups") or ())
        }

    async def _diff_batch(self, rows: Sequence[FileProgress]) -> None:
        wanted: list[_Planned] = []
        for row in rows:
            plans = self._plans(row)
            if isinstance(plans.plan, Plan) and plans.plan.key == row.plan:
                wanted.append(_Planned(row, plans, plans.diffs()))
        revisions = await self.api.revisions(
            list(dict.fromkeys(r for item in wanted for each in item.diffs for r in each.key))
        )
        await self.editors.learn(
            (name for item in wanted for each in item.diffs for name in each.editors()),
            (tag for item in wanted for each in item.diffs for tag in covered_tags(each.revisions)),
        )
        outcomes: list[_Planned | tuple[FileProgress, str]] = []
        by_title = {item.row.title: item for item in wanted}
        for row in rows:
            item = by_title.get(row.title)
            if item is None:
                outcomes.append((row, "replan"))
                continue
            why = await self._diff(item, revisions)
            outcomes.append(item if why is None else (row, why))
        async with self.db.transaction() as conn:
            await self.coverage.refresh(conn)
            for outcome in outcomes:
                if isinstance(outcome, _Planned):
                    await self._settle(conn, outcome, revisions)
                elif outcome[1] == "replan":
                    outcome[0].state, outcome[0].plan = "walked", None
                else:  # gone (deleted since the walk) or hidden
                    outcome[0].state, outcome[0].note, outcome[0].plan = "skipped", outcome[1], None
            await save_files(conn, self.run_id, rows)
            await add_requests(conn, self.run_id, self._spent())
        self.progress.advance(sum(1 for row in rows if row.state in ("done", "skipped")))

    async def _diff(self, item: _Planned, revisions: Revisions[Revision]) -> str | None:
        """Diff each of the file's plans into ``item.changes``; why the file's own plan cannot be made
        (``gone``: deleted since the walk, ``hidden``), or None."""
        for each in item.diffs:
            why = incomparable(revisions, each.baseline.revid, each.new.revid)
            if why == "unanswered":  # never a skip: the run stops here and a rerun resumes
                raise Unanswered(
                    unanswered_message(revisions.unanswered([each.new.revid, each.baseline.revid]))
                )
            if why is not None:
                if each is item.plans.plan:
                    return why
                log.warning(
                    "%s: revisions %s %s; a collection's range is left out", item.row.title, each.key, why
                )
                continue
            old, new = revisions.get(each.baseline.revid), revisions.get(each.new.revid)
            assert old is not None and new is not None
            item.changes[each.key] = await self.records.changes(old, new)
        return None

    async def _settle(self, conn: Connection, item: _Planned, revisions: Revisions[Revision]) -> None:
        """Inside the insert transaction: check the plans against fresh coverage (and the collections
        that hold the file now), then queue each target collection's records or re-plan."""
        row = item.row
        self._targets[row.title] = await self._targets_of(conn, row.title)
        if self._plans(row) != item.plans:
            row.state, row.plan = "walked", None  # the live path took part of the range meanwhile
            return
        if not any(item.changes.values()):  # edited back and forth, or only in ways that make no record
            row.state, row.note = "skipped", "nochange"
            return
        row.records = 0
        for collection, plan in item.plans.by_collection.items():  # once per collection, its own range
            if isinstance(plan, str) or not item.changes.get(plan.key):
                continue  # its own records report the range already (or it changed nothing for it)
            old, new = revisions[plan.baseline.revid], revisions[plan.new.revid]
            provenance = self.records.provenance(
                new.title or row.title,
                old,
                new,
                wiki=self.config.wiki.name,
                timestamp=new.timestamp,
                user=", ".join(plan.editors()) or None,
                comment=plan.comment(),
                source="history",
                collection=collection,
            )
            # Every covered revision's tags; the facts of the least established of their editors.
            provenance = self.editors.stamp(provenance, covered_tags(plan.revisions), plan.editors())
            # Reverts and later edits as on the live path: a change that undoes a live one is no record.
            row.records += (await queue_changes(conn, provenance, item.changes[plan.key])).added
        row.state, row.note = "done", None


@dataclass
class _Planned:
    """One file of a content batch: its plans, the diffs they need and (once diffed) the changes of
    each diff by its key."""

    row: FileProgress
    plans: FilePlans
    diffs: list[Plan]
    changes: dict[tuple[int, int], list[FieldChange]] = field(default_factory=dict)


async def run_history(
    config: Config,
    options: HistoryOptions,
    *,
    api: ActionApi | None = None,
    progress: ProgressSink | None = None,
) -> HistoryReport:
    """Open the database and the API client of ``config`` and run (or resume) history mode."""
    own_api = api is None
    client = api or ActionApi(config.wiki.api_url, config.user_agent)
    try:
        async with open_store(config.store_location, settings=store_settings(config)) as db:
            # The labels the cache has; the daemon's labels task fetches the others (issue 15).
            labels = LabelResolver(db, config.labels.languages) if config.labels.languages else None
            return await HistoryRun(db, client, config, options, labels=labels, progress=progress).run()
    finally:
        if own_api:
            await client.close()
