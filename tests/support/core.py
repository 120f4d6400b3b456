"""Shared helpers of the core tests: the recorded event fixtures, hand-made events in the real shapes,
configs, and a small world (database, tracked set, Ingest) for the ingest tests."""

from __future__ import annotations

import itertools
import json
import uuid
from pathlib import Path
from typing import Any

from tests.support.clock import ManualClock
from watcher.config import Config
from watcher.store import Database
from watcher.store import state as store_state
from watcher.store import tracked as store_tracked
from watcher.stream.client import EventBatch, StreamEvent
from watcher.stream.events import event_key
from watcher.tracking.ingest import Ingest
from watcher.tracking.resolver import Progress, TrackedSet

REPO = Path(__file__).resolve().parents[2]


_rcids = itertools.count(3_000_000_000)


def rc(
    type_: str,
    title: str,
    *,
    wiki: str = "commonswiki",
    user: str = "Curious Editor",
    bot: bool = False,
    comment: str = "",
    timestamp: int = 1772359200,  # 2026-03-01T10:00:00Z
    namespace: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A recentchange event as EventStreams sends it (see notes/eventstreams.md), with a fresh meta.id."""
    domain = "commons.wikimedia.org" if wiki == "commonswiki" else f"{wiki}.example.org"
    if namespace is None:
        namespace = 14 if title.startswith("Category:") else 6 if title.startswith("File:") else 0
    event: dict[str, Any] = {
        "$schema": "/mediawiki/recentchange/1.0.0",
        "meta": {
            "uri": f"https://{domain}/wiki/{title.replace(' ', '_')}",
            "request_id": str(uuid.uuid4()),
            "id": str(uuid.uuid4()),
            "dt": "2026-03-01T10:00:00.123Z",
            "domain": domain,
            "stream": "mediawiki.recentchange",
            "topic": "eqiad.mediawiki.recentchange",
            "partition": 0,
            "offset": next(_rcids),
        },
        "id": next(_rcids),
        "type": type_,
        "namespace": namespace,
        "title": title,
        "comment": comment,
        "timestamp": timestamp,
        "user": user,
        "bot": bot,
        "server_url": f"https://{domain}",
        "server_name": domain,
        "server_script_path": "/w",
        "wiki": wiki,
    }
    event.update(extra)
    return event


def edit(title: str, old: int | None, new: int, **kw: Any) -> dict[str, Any]:
    kw.setdefault("comment", "fix description")
    return rc("edit", title, revision={"old": old, "new": new}, length={"old": 100, "new": 120}, **kw)


def new_page(title: str, new: int, **kw: Any) -> dict[str, Any]:
    """EventStreams omits revision.old for a new page."""
    return rc("new", title, revision={"new": new}, length={"new": 120}, **kw)


def categorize(category: str, comment: str, **kw: Any) -> dict[str, Any]:
    return rc("categorize", category, comment=comment, **kw)


def log_event(title: str, log_type: str, action: str, params: Any, **kw: Any) -> dict[str, Any]:
    return rc(
        "log",
        title,
        log_id=next(_rcids),
        log_type=log_type,
        log_action=action,
        log_params=params,
        log_action_comment=f"{action} {title}",
        **kw,
    )


def move(old: str, new: str, *, action: str = "move", **kw: Any) -> dict[str, Any]:
    return log_event(old, "move", action, {"target": new, "noredir": "0"}, **kw)


def delete(title: str, **kw: Any) -> dict[str, Any]:
    return log_event(title, "delete", "delete", [], **kw)


def restore(title: str, **kw: Any) -> dict[str, Any]:
    return log_event(title, "delete", "restore", {"count": {"revisions": 2, "files": 1}}, **kw)


def upload(title: str, *, action: str = "upload", **kw: Any) -> dict[str, Any]:
    params = {"img_sha1": "fyo42ajlgmvagqc8lbiz5q414o6s3rv", "img_timestamp": "20260301100000"}
    return log_event(title, "upload", action, params, **kw)


# The config example of /work/shared/CONTRACT.md, verbatim: what users copy must stay valid.
CONTRACT_EXAMPLE = """\
[watcher]
database = "watcher.sqlite3"       # SQLite file; folders are created
user_agent = "MuseumWatcher/1.0 (https://museum.example; collections@museum.example)"  # sent on every request

[stream]
url = "https://stream.wikimedia.org/v2/stream/recentchange"

[wiki]
name = "commonswiki"               # events of other wikis are ignored
api_url = "https://commons.wikimedia.org/w/api.php"   # all revision and membership look-ups go here

[tracking]
categories = ["Category:Media contributed by Example Museum"]
category_depth = 0                 # how many levels of subcategories also count
uploaders = []                     # files first uploaded by these users
templates = []                     # files that use these templates (e.g. an institution or ID template)
files = []                         # explicit titles
files_from = ""                    # optional path to a text file of titles, one per line
own_accounts = []                  # the museum's own accounts (history baselines); default: uploaders

[[tracking.object_id]]             # where the museum's own object id is read, first match wins
template = "Artwork"
param = "accession number"

[[tracking.object_id]]
template = "Example-link"
param = "1"                        # positional parameters by number

[[tracking.object_id]]
pattern = ' - EXM (\\d+)\\.\\w+$'     # or: a regular expression on the file name, group 1

[filters]
ignore_bots = true                 # edits flagged bot make no change records
ignore_users = []                  # e.g. the museum's own upload account
languages = []                     # empty: every language

[labels]
languages = ["sv", "en"]           # Wikidata labels for Q-ids in statements, in this order of preference

[web]
listen = "127.0.0.1:8750"          # review page; omit the table to serve none

[[notify]]
name = "collections"
urls = ["mailtos://user:pass@smtp.example.org?to=curators@example.org"]   # apprise URLs
urls_from = ""                     # or an apprise config file, to keep secrets out of this one
mode = "digest"                    # "immediate", "digest" or "both"
coalesce_seconds = 60              # immediate mode: changes gathered this long go out as one message
digest_at = "07:30"
timezone = "Europe/Stockholm"
"""


# -- ingest --------------------------------------------------------------------------------------


class World:
    """A database, the in-memory tracked set and an Ingest over them, with wake-ups counted."""

    def __init__(self, db: Database, config: Config) -> None:
        self.db = db
        self.config = config
        self.tracked = TrackedSet()
        self.clock = ManualClock(1000.0)
        self.worker_wakes = 0
        self.tracking_wakes = 0
        self.roots: list[str] = []
        self.ingest = self.make_ingest()
        self._ids = 0

    def make_ingest(self) -> Ingest:
        def wake_worker() -> None:
            self.worker_wakes += 1

        def wake_tracking() -> None:
            self.tracking_wakes += 1

        return Ingest(
            self.db,
            self.tracked,
            self.config,
            wake_worker=wake_worker,
            wake_tracking=wake_tracking,
            clock=self.clock,
        )

    async def track(self, title: str, source: str = "category", detail: str | None = None) -> None:
        """Track a file in the database and in memory; by default for the first tracked root category."""
        detail = detail if detail is not None else self.roots[0]
        async with self.db.transaction() as conn:
            await store_tracked.add_file(conn, title, source, detail)
        self.tracked.files.add(title)

    async def track_categories(self, root: str, *subcategories: str) -> None:
        self.roots.append(root)
        rows = [(root, root, 0), *((c, root, 1) for c in subcategories)]
        async with self.db.transaction() as conn:
            await store_tracked.set_categories(conn, root, rows)
        for category, _, _ in rows:
            self.tracked.categories.add(category)

    def batch(self, *events: dict[str, Any], seen: int | None = None, malformed: int = 0) -> EventBatch:
        stream_events = []
        for data in events:
            self._ids += 1
            stream_events.append(StreamEvent(self.sse_id(), data))
        self._ids += 1
        return EventBatch(
            stream_events,
            self.sse_id(),
            "2026-03-01T10:00:00Z",
            len(events) if seen is None else seen,
            malformed,
        )

    def sse_id(self) -> str:
        return json.dumps([{"topic": "eqiad.mediawiki.recentchange", "partition": 0, "offset": self._ids}])

    async def handle(self, *events: dict[str, Any]) -> EventBatch:
        batch = self.batch(*events)
        await self.ingest.handle(batch)
        return batch

    async def inbox(self, state: str | None = "pending") -> list[tuple[str, str, str]]:
        where = "" if state is None else f" WHERE state = '{state}'"
        rows = await self.db.fetchall(f"SELECT kind, title, event_key FROM inbox{where} ORDER BY id")
        return [(row[0], row[1], row[2]) for row in rows]

    async def seen(self, event: dict[str, Any]) -> bool:
        async with self.db.transaction() as conn:
            return await store_state.seen_event(conn, event_key(event))

    async def titles(self) -> dict[str, str]:
        return {row[0]: row[1] for row in await self.db.fetchall("SELECT title, state FROM tracked_files")}

    async def cursor(self) -> str | None:
        return await store_state.get_state(self.db, store_state.CURSOR_ID)

    async def counters(self) -> dict[str, int]:
        return await store_state.get_counters(self.db)


class QuietProgress(Progress):
    """The resolver's progress meter, silent even on a terminal."""

    def __init__(self, label: str) -> None:
        super().__init__(label, enabled=False)
