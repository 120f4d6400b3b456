"""History mode next to the live path on one database: a change is queued once, whichever comes first.

The live path here is the daemon's own: the stream event (``rc_to_event`` of the wiki's recent change)
goes into the inbox and :class:`watcher.pipeline.worker.Worker` fetches, diffs and queues it, on a connection
and an API client of its own, while the history run works.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.config import USER_AGENT
from tests.support.history import CATEGORY, MUSEUM, Collection, Story, expected_changes, page_text
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer, RecordedRequest
from watcher.demo.standins.bridge import rc_to_event
from watcher.diff import diff_revisions
from watcher.diff.model import DiffSettings, RevisionContent
from watcher.history.run import HistoryOptions, HistoryRun
from watcher.mediawiki.client import ActionApi
from watcher.pipeline.worker import Worker
from watcher.store import Database, iso_utc
from watcher.store import state as store_state
from watcher.stream.events import event_key

LIVE_AGENT = "LiveDaemon/1.0 (test@example.org)"


async def _enqueue(db_path: Path, peer: ActionApiPeer, config: Config, revid: int) -> None:
    """What ingest does with the stream event of an edit: an inbox item, committed."""
    change = next(c for c in peer.changes if c.type == "edit" and c.revid == revid)
    event = rc_to_event(change, wiki=config.wiki.name)
    async with Database.open(db_path) as live_db, live_db.transaction() as conn:
        await store_state.enqueue(conn, event_key(event), "edit", change.title, event)


async def _live(db_path: Path, peer: ActionApiPeer, config: Config, revid: int | None = None) -> int:
    """The daemon's live path for one edit (or for what its inbox holds): returns the items it settled."""
    if revid is not None:
        await _enqueue(db_path, peer, config, revid)
    async with Database.open(db_path) as live_db, ActionApi(peer.url, LIVE_AGENT) as live_api:
        return await Worker(live_db, live_api, config).process_due()


async def _rows(db: Database, title: str) -> list[dict[str, object]]:
    return [dict(r) for r in await db.fetchall("SELECT * FROM changes WHERE file = ? ORDER BY id", (title,))]


def _story(collection: Collection, kind: str, index: int = 0) -> Story:
    return [s for s in collection.stories.values() if s.kind == kind][index]


async def test_a_live_record_made_while_history_fetches_the_same_edit_wins(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    story = _story(collection, "community_once")
    live_done: list[int] = []

    async def live(revid: int) -> None:
        await _live(db.path, peer, config, revid)

    def live_meanwhile(request: RecordedRequest) -> Awaitable[None] | None:
        revids = request.params.get("revids", "").split("|")
        fetches_content = request.user_agent == USER_AGENT and "content" in request.params.get("rvprop", "")
        if fetches_content and not live_done and str(story.current) in revids:  # history planned this file
            live_done.append(story.current)
            return live(story.current)
        return None

    peer.on_request = live_meanwhile
    report = await HistoryRun(db, api, config, HistoryOptions()).run()
    peer.on_request = None
    assert live_done == [story.current]
    rows = await _rows(db, story.title)
    expected = expected_changes(peer, story, config)
    assert len(rows) == len(expected) > 0
    assert {r["source"] for r in rows} == {"live"} and {r["revision"] for r in rows} == {story.current}
    assert report.outcomes["skipped:covered"] == 1
    assert report.outcomes["done"] == len(collection.changed()) - 1


async def test_the_live_path_after_history_adds_nothing_for_the_same_edit(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    story = _story(collection, "community_once", 1)
    await HistoryRun(db, api, config, HistoryOptions()).run()
    before = await _rows(db, story.title)
    total = await db.scalar("SELECT count(*) FROM changes")
    assert before and {r["source"] for r in before} == {"history"}
    assert await _live(db.path, peer, config, story.current) == 1  # the worker settled the item...
    assert await _rows(db, story.title) == before  # ...and its records were the same records
    assert await db.scalar("SELECT count(*) FROM changes") == total


async def test_edits_the_daemon_queued_are_left_to_it(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    """Museum r1, Bob r2, Carol r3: the daemon has r3 (a live record, or only an inbox item so far)."""
    recorded, pending = _story(collection, "community_many", 0), _story(collection, "community_many", 1)
    assert await _live(db.path, peer, config, recorded.current) == 1
    await _enqueue(db.path, peer, config, pending.current)  # not processed yet
    await HistoryRun(db, api, config, HistoryOptions()).run()
    await _live(db.path, peer, config)  # now the worker catches up with the pending item
    for story in (recorded, pending):
        r1, r2, r3 = story.baseline, peer.revisions[story.current].parentid, story.current
        rows = await _rows(db, story.title)
        history = [r for r in rows if r["source"] == "history"]
        live = [r for r in rows if r["source"] == "live"]
        old, mid = peer.revisions[r1], peer.revisions[r2]
        expected = diff_revisions(
            RevisionContent(old.wikitext, old.mediainfo),
            RevisionContent(mid.wikitext, mid.mediainfo),
            DiffSettings.from_section(config.diff),
        )
        assert len(history) == len(expected) > 0
        assert {(r["old_revision"], r["revision"], r["user"]) for r in history} == {
            (r1, r2, story.editors[0])
        }
        assert str(history[0]["comment"]).startswith(f"1 edit by {story.editors[0]} since ")
        assert live and {(r["old_revision"], r["revision"]) for r in live} == {(r2, r3)}


async def test_edits_after_the_daemons_stream_position_are_left_to_it(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    now = datetime.now(UTC)
    title = "File:Example Museum recent object.jpg"
    upload = peer.add_page(title, page_text(9001), user=MUSEUM, timestamp=iso_utc(now - timedelta(days=3)))
    bob = peer.edit(title, page_text(9001, categories=("Category:Maps",)), user="Bob",
                    timestamp=iso_utc(now - timedelta(days=2)))  # fmt: skip
    peer.edit(title, page_text(9001, categories=("Category:Maps", "Category:Atlases")), user="Carol",
              timestamp=iso_utc(now - timedelta(days=1)))  # fmt: skip
    assert CATEGORY in peer.page(title).categories()
    async with db.transaction() as conn:  # the daemon has read the stream up to 36 hours ago
        await store_state.set_state(conn, store_state.CURSOR_TIME, iso_utc(now - timedelta(hours=36)))
    await HistoryRun(db, api, config, HistoryOptions(files=(title,))).run()
    rows = await _rows(db, title)
    assert rows and {(r["old_revision"], r["revision"], r["new"]) for r in rows} == {
        (upload.revid, bob, "Maps")
    }


async def test_a_stream_position_older_than_the_catch_up_reaches_leaves_everything_to_history(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    async with db.transaction() as conn:
        await store_state.set_state(conn, store_state.CURSOR_TIME, "2020-06-01T00:00:00Z")
    report = await HistoryRun(db, api, config, HistoryOptions()).run()
    assert report.outcomes["done"] == len(collection.changed())  # 2021–2024 edits: far beyond 30 days ago
