"""API requests and wall time of `watcher history` for 10,000 tracked files, a fifth edited by others,
beside the naive approach (one page-history request per file, as commons-diff does) in the same run.

Both run against the same loopback Action API stand-in, with the same baseline rules
(:func:`watcher.history.plan.plan_file`), the same bot look-ups, the same 50-revision content batches,
the same diff and the same inserts; they differ only in how each file's revision chain is found. The
benchmark checks that both queue the same records. Target: at most one request per 25 tracked files.
Run: ``python -m bench.bench_history`` (or ``python -m bench history``).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from watcher.config import Config, parse_config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.action_api_wiki import Wiki
from watcher.diff import diff_revisions, find_object_id
from watcher.diff.model import DiffSettings, RevisionContent
from watcher.history.plan import Coverage, Plan, plan_file
from watcher.history.run import HistoryOptions, HistoryRun
from watcher.mediawiki.bulk import user_groups
from watcher.mediawiki.client import ActionApi
from watcher.mediawiki.types import RevisionMeta
from watcher.store import Database
from watcher.store import queue as store_queue
from watcher.tracking.resolver import Progress, TrackedSet, TrackingResolver

FILES = 10_000
TARGET_FILES_PER_REQUEST = 25
ASSUMED_LATENCY = 0.15  # seconds per Commons API request from a museum's server, for the estimate
USER_AGENT = "CommonsWatcherBench/1.0 (bench@example.org)"
MUSEUM = "Example Museum"
BOT = "CleanupBot"
CATEGORY = "Category:Media contributed by Example Museum"
PEOPLE = ("Alice", "Bob", "Carol", "Dmitri", "Eve", "Frank", "Grete")


class TimedPeer(ActionApiPeer):
    """The stand-in, timing its own answers: its listings cost O(files) per request on loopback, which
    the real API's indexes do not, so the client's share of the wall time is reported apart."""

    def __init__(self) -> None:
        super().__init__()
        self.server_seconds = 0.0

    def answer(self, params: dict[str, str]) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            return super().answer(params)
        finally:
            self.server_seconds += time.perf_counter() - started


def _text(number: int, categories: tuple[str, ...] = (), description: str = "") -> str:
    cats = "".join(f"\n[[{c}]]" for c in (CATEGORY, *categories))
    desc = description or f"{{{{en|1=Object {number} of the collection.}}}}"
    return (
        f"{{{{Artwork\n |title = Object {number}\n |description = {desc}\n |date = 19{number % 100:02d}\n"
        f" |accession number = EXM-{number:05d}\n}}}}\n{{{{PD-old-70}}}}{cats}\n"
    )


def build(wiki: Wiki, files: int) -> int:
    """The collection: every fifth file edited by others (one to four edits, some by a bot), a tenth
    edited again by the museum afterwards, the rest untouched since upload. Returns how many others edited."""
    edited = 0
    for n in range(files):
        title = f"File:Example Museum object {n:05d}.jpg"
        wiki.add_page(title, _text(n), user=MUSEUM, timestamp="2019-01-01T00:00:00Z")
        if n % 5 == 0:
            edited += 1
            edits = 1 + (n // 5) % 4
            cats: tuple[str, ...] = ()
            for step in range(edits):
                cats = (*cats, f"Category:Topic {n % 37 + step}")
                user = BOT if step == 2 else PEOPLE[(n + step) % len(PEOPLE)]
                wiki.edit(
                    title, _text(n, cats), user=user, bot=user == BOT, timestamp=f"202{step}-06-01T00:00:00Z"
                )
        elif n % 10 == 1:
            wiki.edit(title, _text(n, description=f"{{{{en|1=Object {n}, revised.}}}}"), user=MUSEUM,
                      timestamp="2020-01-01T00:00:00Z")  # fmt: skip
    return edited


async def _resolved_db(path: Path, config: Config, api: ActionApi) -> Database:
    db = await Database.connect(path)
    await TrackingResolver(config.tracking, api, db, TrackedSet(), progress=_no_progress).resolve_all()
    return db


def _no_progress(label: str) -> Progress:
    return Progress(label, enabled=False)


def _kind(params: dict[str, str]) -> str:
    if "generator" in params:
        return "latest revisions (generator, 500 files)"
    if "list" in params:
        return {"usercontribs": "museum contributions (500)", "users": "user groups (50)"}.get(
            params["list"], params["list"]
        )
    if "content" in params.get("rvprop", ""):
        return "content (50 revisions)"
    if "rvlimit" in params:
        return "single-page histories"
    if "revids" in params:
        return "walk steps (50 revisions)"
    return "other"


async def run_history_mode(peer: TimedPeer, config: Config, folder: Path) -> tuple[int, float, float, int]:
    async with ActionApi(peer.url, USER_AGENT) as api:
        db = await _resolved_db(folder / "history.sqlite3", config, api)
        try:
            started, first, server = time.perf_counter(), len(peer.requests), peer.server_seconds
            report = await HistoryRun(db, api, config, HistoryOptions()).run()
            seconds, requests = time.perf_counter() - started, len(peer.requests) - first
            assert report.finished and requests == report.requests
            kinds: dict[str, int] = {}
            for request in peer.requests[first:]:
                kinds[_kind(request.params)] = kinds.get(_kind(request.params), 0) + 1
            print("history mode requests: " + ", ".join(f"{n} {kind}" for kind, n in kinds.items()))
            return requests, seconds, peer.server_seconds - server, report.records
        finally:
            await db.close()


async def _page_history(api: ActionApi, pageid: int) -> AsyncGenerator[RevisionMeta, None]:
    """The naive way: a page's whole history, newest first, single-page mode (500 a request)."""
    params: dict[str, str | int] = {
        "action": "query",
        "pageids": pageid,
        "prop": "revisions",
        "rvprop": "ids|timestamp|user",
        "rvlimit": "max",
    }
    async for data in api.query_continue(params):
        for page in data.get("query", {}).get("pages", []):
            for raw in page.get("revisions", []):
                user = raw.get("user")
                yield RevisionMeta(
                    raw["revid"],
                    raw.get("parentid", 0),
                    page["pageid"],
                    page["title"],
                    raw["timestamp"],
                    user,
                )


async def run_naive(peer: TimedPeer, config: Config, folder: Path) -> tuple[int, float, float, int]:
    """One ``prop=revisions&pageids=X&rvlimit=max`` request per tracked file, the rest as history mode."""
    museum = {MUSEUM}
    async with ActionApi(peer.url, USER_AGENT) as api:
        db = await _resolved_db(folder / "naive.sqlite3", config, api)
        try:
            started, first, server = time.perf_counter(), len(peer.requests), peer.server_seconds
            rows = await db.fetchall("SELECT title, pageid FROM tracked_files WHERE state = 'active'")
            chains: dict[str, list[RevisionMeta]] = {}
            for row in rows:
                chain: list[RevisionMeta] = []
                async for meta in _page_history(api, row["pageid"]):
                    chain.append(meta)
                    if len(chain) > 1 and meta.user in museum:
                        break
                if chain and chain[0].user not in museum and len(chain) > 1:
                    chains[row["title"]] = chain
            users = {r.user for chain in chains.values() for r in chain[:-1] if r.user}
            bots = {
                name for name, groups in (await user_groups(api, sorted(users))).items() if "bot" in groups
            }
            coverage = Coverage()
            plans: dict[str, Plan] = {}
            for title, chain in chains.items():
                plan = plan_file([title], chain, coverage, lambda r: r.user in bots)
                if isinstance(plan, Plan):
                    plans[title] = plan
            records = 0
            titles = sorted(plans)
            for start in range(0, len(titles), 25):
                batch = titles[start : start + 25]
                revisions = await api.revisions([r for t in batch for r in plans[t].key])
                async with db.transaction() as conn:
                    for title in batch:
                        plan = plans[title]
                        old, new = revisions[plan.baseline.revid], revisions[plan.new.revid]
                        changes = diff_revisions(
                            RevisionContent(old.wikitext, old.mediainfo),
                            RevisionContent(new.wikitext, new.mediainfo),
                            DiffSettings.from_section(config.diff),
                        )
                        provenance = store_queue.Provenance(
                            config.wiki.name, new.title, new.revid, old.revid, new.timestamp,
                            ", ".join(plan.editors()), plan.comment(),
                            find_object_id(new.title, new.wikitext, old.wikitext, config.tracking.object_id),
                            "history",
                        )  # fmt: skip
                        records += await store_queue.insert_changes(conn, provenance, changes)
            seconds = time.perf_counter() - started
            return len(peer.requests) - first, seconds, peer.server_seconds - server, records
        finally:
            await db.close()


async def _same_records(folder: Path) -> bool:
    keys = (
        "file, revision, old_revision, user, comment, field, template, property, language, action, old, new"
    )
    found = []
    for name in ("history", "naive"):
        async with Database.open(folder / f"{name}.sqlite3") as db:
            found.append([tuple(r) for r in await db.fetchall(f"SELECT {keys} FROM changes ORDER BY {keys}")])
    return found[0] == found[1]


async def _main(files: int = FILES) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with TimedPeer() as peer:
            started = time.perf_counter()
            edited = build(peer, files)
            print(f"stand-in wiki: {files:,} tracked files, {edited:,} edited by others "
                  f"(built in {time.perf_counter() - started:.1f} s)")  # fmt: skip
            text = (
                f'[watcher]\nuser_agent = "{USER_AGENT}"\n[wiki]\napi_url = "{peer.url}"\n'
                f'[tracking]\ncategories = ["{CATEGORY}"]\nown_accounts = ["{MUSEUM}"]\n'
                '[[tracking.object_id]]\ntemplate = "Artwork"\nparam = "accession number"\n'
            )
            config = parse_config(text, folder / "config.toml")
            history = await run_history_mode(peer, config, folder)
            naive = await run_naive(peer, config, folder)
            same = await _same_records(folder)
    estimate = f"est. s @{ASSUMED_LATENCY * 1000:.0f} ms"
    print(
        f"{'':34}{'requests':>9}{'per file':>9}{'wall s':>8}{'stand-in s':>11}{'client s':>9}{estimate:>15}{'records':>8}"
    )
    for name, (requests, seconds, server, records) in (
        ("history mode (bulk + walk)", history),
        ("naive (1 history request / file)", naive),
    ):
        client = seconds - server
        print(f"{name:34}{requests:>9,}{requests / files:>9.4f}{seconds:>8.1f}{server:>11.1f}{client:>9.1f}"
              f"{client + requests * ASSUMED_LATENCY:>15.0f}{records:>8,}")  # fmt: skip
    (h_requests, h_seconds, h_server, _), (n_requests, n_seconds, n_server, _) = history, naive
    h_est = h_seconds - h_server + h_requests * ASSUMED_LATENCY
    n_est = n_seconds - n_server + n_requests * ASSUMED_LATENCY
    print(f"ratio naive / history: {n_requests / h_requests:.1f}x requests; wall time on loopback "
          f"{n_seconds / h_seconds:.1f}x, client side {(n_seconds - n_server) / (h_seconds - h_server):.1f}x, "
          f"estimated at {ASSUMED_LATENCY * 1000:.0f} ms per request {n_est / h_est:.1f}x")  # fmt: skip
    per = files / h_requests
    verdict = "met" if per >= TARGET_FILES_PER_REQUEST else "NOT met"
    print(
        f"history mode: one request per {per:.0f} files (target: one per {TARGET_FILES_PER_REQUEST}): {verdict}"
    )
    print(f"same records from both approaches: {'yes' if same else 'NO'}")


def main() -> None:
    asyncio.run(_main())


if __name__ == "__main__":
    main()
