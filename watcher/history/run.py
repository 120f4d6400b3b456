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
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import aiosqlite

from watcher.config import Config
from watcher.diff.model import FieldChange
from watcher.history.plan import Coverage, Plan, plan_file
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
from watcher.mediawiki.types import RevisionMeta, Unanswered, unanswered_message
from watcher.pipeline.editors import EditorFacts, covered_tags
from watcher.pipeline.labels import LabelResolver
from watcher.pipeline.queueing import queue_changes
from watcher.pipeline.records import RecordMaker, incomparable
from watcher.pipeline.redirects import stored_redirects
from watcher.store import Database
from watcher.tracking.collections import CollectionsResolver
from watcher.tracking.resolver import TrackedSet, canonical_title

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


@dataclass(frozen=True)
class HistoryOptions:
    since: str | None = None  # ISO 8601 UTC with Z (store.queue.parse_since)
    files: tuple[str, ...] = ()
    restart: bool = False


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
        db: Database,
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
        options = run_identity(self.options, self.accounts, self.config.wiki.name)
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
        if self.options.files:
            return 0
        count = await self.db.scalar("SELECT count(*) FROM tracked_files WHERE state = 'active'")
        if count:
            return 0
        before = self.api.stats.requests
        log.info("the tracked set is empty: resolving it first")
        await CollectionsResolver(self.config.collections, self.api, self.db, TrackedSet()).resolve_all()
        return self.api.stats.requests - before

    async def _add_files(self) -> None:
        if self.options.files:
            titles = list(dict.fromkeys(canonical_title(t, "File") for t in self.options.files))
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
            for template in dict.fromkeys(t for c in self.config.collections for t in c.templates):
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

    async def _worthwhile_categories(self) -> list[str]:
        rows = await self.db.fetchall(  # a category two collections track, once
            "SELECT title, min(depth) AS depth FROM tracked_categories GROUP BY title ORDER BY depth, title"
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
            await self.coverage.refresh(self.db.conn)
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

    def _plan(self, row: FileProgress) -> Plan | str:
        titles = list(dict.fromkeys([row.title, row.chain[0].title]))
        return plan_file(titles, row.chain, self.coverage, self._is_quiet)

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
        revisions = await self.api.revisions([r for row in rows if row.plan for r in row.plan])
        planned = [plan for plan in (self._plan(row) for row in rows) if isinstance(plan, Plan)]
        await self.editors.learn(
            (name for plan in planned for name in plan.editors()),
            (tag for plan in planned for tag in covered_tags(plan.revisions)),
        )
        outcomes: list[tuple[FileProgress, Plan | str, list[FieldChange]]] = []
        for row in rows:
            plan = self._plan(row)
            if isinstance(plan, str) or plan.key != row.plan:
                outcomes.append((row, "replan", []))
                continue
            old, new = revisions.get(plan.baseline.revid), revisions.get(plan.new.revid)
            why = incomparable(
                revisions, plan.baseline.revid, plan.new.revid
            )  # "gone": deleted since the walk
            if why == "unanswered":  # never a skip: the run stops here and a rerun resumes
                raise Unanswered(
                    unanswered_message(revisions.unanswered([plan.new.revid, plan.baseline.revid]))
                )
            if why is not None:
                outcomes.append((row, why, []))
            else:
                assert old is not None and new is not None
                outcomes.append((row, plan, await self.records.changes(old, new)))
        async with self.db.transaction() as conn:
            await self.coverage.refresh(conn)
            for row, plan, changes in outcomes:
                await self._settle(conn, row, plan, changes, revisions)
            await save_files(conn, self.run_id, rows)
            await add_requests(conn, self.run_id, self._spent())
        self.progress.advance(sum(1 for row in rows if row.state in ("done", "skipped")))

    async def _settle(
        self,
        conn: aiosqlite.Connection,
        row: FileProgress,
        planned: Plan | str,
        changes: list[FieldChange],
        revisions: dict[int, Revision],
    ) -> None:
        """Inside the insert transaction: check the plan against fresh coverage, then queue or re-plan."""
        if planned == "replan" or (isinstance(planned, Plan) and self._plan(row) != planned):
            row.state, row.plan = "walked", None  # the live path took part of the range meanwhile
            return
        if isinstance(planned, str):
            row.state, row.note, row.plan = "skipped", planned, None
            return
        if not changes:  # edited back and forth, or only in ways that make no record (white space...)
            row.state, row.note = "skipped", "nochange"
            return
        old, new = revisions[planned.baseline.revid], revisions[planned.new.revid]
        title = new.title or row.title
        row.records = 0
        for collection in await self.records.collections(conn, row.title):  # once per collection
            provenance = self.records.provenance(
                title,
                old,
                new,
                wiki=self.config.wiki.name,
                timestamp=new.timestamp,
                user=", ".join(planned.editors()) or None,
                comment=planned.comment(),
                source="history",
                collection=collection,
            )
            # Every covered revision's tags; the facts of the least established of their editors.
            provenance = self.editors.stamp(provenance, covered_tags(planned.revisions), planned.editors())
            # Reverts and later edits as on the live path: a change that undoes a live one is no record.
            row.records += (await queue_changes(conn, provenance, changes)).added
        row.state, row.note = "done", None


def run_identity(options: HistoryOptions, accounts: frozenset[str], wiki: str) -> str:
    """The identity of a run: a run with the same identity is resumed rather than started again."""
    files = sorted({canonical_title(t, "File") for t in options.files}) or None
    return json.dumps(
        {"since": options.since, "files": files, "accounts": sorted(accounts), "wiki": wiki}, sort_keys=True
    )


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
        async with Database.open(config.database) as db:
            # The labels the cache has; the daemon's labels task fetches the others (issue 15).
            labels = LabelResolver(db, config.labels.languages) if config.labels.languages else None
            return await HistoryRun(db, client, config, options, labels=labels, progress=progress).run()
    finally:
        if own_api:
            await client.close()
