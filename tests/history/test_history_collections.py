"""`watcher history --collection NAME` (issue 19): only that collection's files are walked and only its
records queued; a later run of every collection queues the others' records of a shared file and
repeats none; an unfinished run of one collection is never resumed as the run of another or of all.

Two collections on the loopback wiki: ``a`` by category with an ``Artwork`` accession number as object
id, ``b`` by another category with the number in the file name; one file is in both categories.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.support.config import USER_AGENT
from watcher.cli.history import history
from watcher.cli.main import changes
from watcher.config import Config, parse_config
from watcher.demo.standins.action_api import ActionApiPeer, RecordedRequest
from watcher.history.progress import HistoryConflict
from watcher.history.run import HistoryOptions, HistoryRun, run_identity
from watcher.mediawiki.client import ActionApi
from watcher.store import Database
from watcher.tracking.collections import CollectionsResolver
from watcher.tracking.resolver import TrackedSet, TrackingResolver

CAT_A = "Category:Media of Museum A"
CAT_B = "Category:Media of Museum B"
SHARED = "File:Helmet - B7.jpg"  # in both categories: A-1 for a (its Artwork), 7 for b (its name)
A_ONLY = "File:Vase - A2.jpg"
B_ONLY = "File:Sword - B9.jpg"

CONFIG = f"""[watcher]
user_agent = "{USER_AGENT}"
database = "w.sqlite3"

[wiki]
api_url = "{{api_url}}"

[[collection]]
name = "a"
title = "Museum A"
categories = ["{CAT_A}"]
own_accounts = ["Museum A"]
[[collection.object_id]]
template = "Artwork"
param = "accession number"

[[collection]]
name = "b"
title = "Museum B"
categories = ["{CAT_B}"]
own_accounts = ["Museum B"]
[[collection.object_id]]
pattern = ' - B(\\d+)\\.\\w+$'
"""


def artwork(accession: str, description: str, *categories: str) -> str:
    cats = "".join(f"\n[[{c}]]" for c in categories)
    return (
        f"{{{{Artwork\n |description = {{{{en|1={description}}}}}\n |accession number = {accession}\n}}}}"
        + cats
        + "\n"
    )


@pytest.fixture
def wiki(peer: ActionApiPeer) -> ActionApiPeer:
    """Each file uploaded by a museum and then edited once by the community."""
    peer.add_page(CAT_A, "Files of Museum A.")
    peer.add_page(CAT_B, "Files of Museum B.")
    stories = [
        (SHARED, "A-1", "Museum A", "Alice", (CAT_A, CAT_B)),
        (A_ONLY, "A-2", "Museum A", "Bob", (CAT_A,)),
        (B_ONLY, "B-9", "Museum B", "Carol", (CAT_B,)),
    ]
    for title, accession, museum, editor, categories in stories:
        peer.add_page(title, artwork(accession, "An object", *categories), user=museum)
        peer.edit(title, artwork(accession, "An object, restored in 1990", *categories), user=editor)
    return peer


@pytest.fixture
def config_path(tmp_path: Path, wiki: ActionApiPeer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.replace("{api_url}", wiki.url), encoding="utf-8")
    return path


@pytest.fixture
def two(config_path: Path) -> Config:
    return parse_config(config_path.read_text(encoding="utf-8"), config_path)


@pytest.fixture
async def resolved(tmp_path: Path, two: Config, api: ActionApi) -> AsyncIterator[Database]:
    """The database with both collections resolved (as `watcher run` leaves it)."""
    async with Database.open(tmp_path / "w.sqlite3", create=True) as db:
        await CollectionsResolver(two.collections, api, db, TrackedSet()).resolve_all()
        yield db


async def _records(db: Database) -> set[tuple[Any, ...]]:
    rows = await db.fetchall(
        "SELECT file, collection, object_id, old_revision, revision, source FROM changes"
    )
    return {tuple(row) for row in rows}


def _named(requests: list[RecordedRequest], wiki: ActionApiPeer, title: str) -> list[RecordedRequest]:
    """The requests that name the file (its title, page id or a revision of it)."""
    page = wiki.page(title)
    tokens = {page.title, f"File:{page.title}", str(page.pageid)} | {str(r.revid) for r in page.revisions}
    return [
        request
        for request in requests
        if any(
            set(request.params.get(key, "").split("|")) & tokens for key in ("titles", "pageids", "revids")
        )
    ]


async def _invoke(command: Any, *args: str) -> Result:
    """Commands run their own event loop, so they run in a thread while the stand-in serves here."""
    return await asyncio.to_thread(CliRunner().invoke, command, list(args))


async def test_one_collection_then_every_one_queues_each_record_once(
    wiki: ActionApiPeer, two: Config, resolved: Database, api: ActionApi
) -> None:
    db = resolved
    shared, a_only, b_only = (wiki.page(t) for t in (SHARED, A_ONLY, B_ONLY))
    before = len(wiki.requests)
    first = await HistoryRun(db, api, two, HistoryOptions(collections=("a",))).run()
    assert first.finished and first.outcomes == {"done": 2}
    assert await _records(db) == {
        (SHARED, "a", "A-1", shared.revisions[0].revid, shared.latest.revid, "history"),
        (A_ONLY, "a", "A-2", a_only.revisions[0].revid, a_only.latest.revid, "history"),
    }
    assert first.records == 2  # the shared file once, with a's object id
    rows = await db.fetchall("SELECT title FROM history_progress WHERE run_id = ?", (first.run_id,))
    assert {row[0] for row in rows} == {SHARED, A_ONLY}
    assert _named(wiki.requests[before:], wiki, B_ONLY) == []  # b's own file: not even its latest revision

    second = await HistoryRun(db, api, two, HistoryOptions()).run()
    assert second.finished and not second.resumed and second.run_id != first.run_id
    # a's files are covered by a's records; the shared file is still b's to report, and b's own file.
    assert second.outcomes == {"done": 2, "skipped:covered": 1}
    records = await _records(db)
    assert records - {r for r in records if r[1] == "a"} == {
        (SHARED, "b", "7", shared.revisions[0].revid, shared.latest.revid, "history"),
        (B_ONLY, "b", "9", b_only.revisions[0].revid, b_only.latest.revid, "history"),
    }
    assert second.records == 2
    assert await db.scalar("SELECT count(*) FROM changes WHERE collection = 'a'") == 2  # none repeated

    third = await HistoryRun(db, api, two, HistoryOptions(collections=("b",))).run()  # nothing left
    assert third.outcomes == {"skipped:covered": 2} and await db.scalar("SELECT count(*) FROM changes") == 4


async def test_a_run_of_one_collection_is_never_resumed_as_another_run(
    wiki: ActionApiPeer, two: Config, resolved: Database, api: ActionApi
) -> None:
    identities = {
        run_identity(HistoryOptions(collections=names), frozenset(), "commonswiki")
        for names in [(), ("a",), ("b",), ("a", "b")]
    }
    assert len(identities) == 4
    assert run_identity(HistoryOptions(collections=("b", "a", "b")), frozenset(), "w") == run_identity(
        HistoryOptions(collections=("a", "b")), frozenset(), "w"
    )
    # A run of every collection has the identity it had before --collection existed (it still resumes).
    assert "collections" not in json.loads(run_identity(HistoryOptions(), frozenset(), "w"))

    task = asyncio.create_task(HistoryRun(resolved, api, two, HistoryOptions(collections=("a",))).run())

    def interrupt(request: RecordedRequest) -> None:
        if request.params.get("prop") == "revisions" and "rvslots" in request.params:
            task.cancel()  # at the content request: the walk is done, nothing queued yet

    wiki.on_request = interrupt
    with pytest.raises(asyncio.CancelledError):
        await task
    wiki.on_request = None
    assert await resolved.scalar("SELECT count(*) FROM changes") == 0
    for other in [(), ("b",)]:
        with pytest.raises(HistoryConflict, match="--collection a"):
            await HistoryRun(resolved, api, two, HistoryOptions(collections=other)).run()
    resumed = await HistoryRun(resolved, api, two, HistoryOptions(collections=("a",))).run()
    assert resumed.resumed and resumed.finished and resumed.outcomes == {"done": 2}
    assert {row[0] for row in await resolved.fetchall("SELECT DISTINCT collection FROM changes")} == {"a"}


async def test_an_empty_database_is_resolved_whole_and_one_collection_walked(
    wiki: ActionApiPeer, config_path: Path, tmp_path: Path
) -> None:
    result = await _invoke(history, "-c", str(config_path), "--collection", "b")
    assert result.exit_code == 0, result.output
    assert "history run #1: 2 files: 2 with community changes (2 records queued)" in result.output
    assert "requests resolving the tracked set" in result.output
    async with Database.open(tmp_path / "w.sqlite3") as db:
        reasons = await db.fetchall("SELECT DISTINCT title, collection FROM tracked_reasons")
        assert {tuple(row) for row in reasons} == {
            (SHARED, "a"), (SHARED, "b"), (A_ONLY, "a"), (B_ONLY, "b")
        }  # fmt: skip
        assert {tuple(r) for r in await db.fetchall("SELECT file, collection, object_id FROM changes")} == {
            (SHARED, "b", "7"),
            (B_ONLY, "b", "9"),
        }


async def test_a_chosen_collection_without_files_is_resolved_alone(
    wiki: ActionApiPeer, two: Config, tmp_path: Path, api: ActionApi
) -> None:
    """A collection added to the config since `watcher run` last resolved: its files, not the others'."""
    async with Database.open(tmp_path / "w.sqlite3", create=True) as db:
        first, added = two.collections
        await TrackingResolver(first, api, db, TrackedSet()).resolve_all()
        before = len(wiki.requests)
        report = await HistoryRun(db, api, two, HistoryOptions(collections=(added.name,))).run()
        assert report.resolve_requests > 0 and report.outcomes == {"done": 2}
        resolving = wiki.requests[before : before + report.resolve_requests]
        assert not [r for r in resolving if CAT_A in r.params.values()]  # a's sources: not asked again
        assert await db.scalar("SELECT count(*) FROM tracked_reasons WHERE collection = 'a'") == 2
        assert {row[0] for row in await db.fetchall("SELECT DISTINCT collection FROM changes")} == {"b"}


async def test_an_unknown_collection_fails_as_it_does_for_changes(
    wiki: ActionApiPeer, config_path: Path
) -> None:
    ours = await _invoke(history, "-c", str(config_path), "--collection", "a", "--collection", "nope")
    theirs = await _invoke(changes, "-c", str(config_path), "--collection", "a", "--collection", "nope")
    assert ours.exit_code == theirs.exit_code == 2
    assert "no collection 'nope' in the config; it has a, b" in ours.output
    assert ours.output.splitlines()[-1] == theirs.output.splitlines()[-1]
    assert wiki.requests == []


async def test_a_later_edit_gives_each_collection_its_own_range(
    wiki: ActionApiPeer, two: Config, resolved: Database, api: ActionApi
) -> None:
    """After `--collection a`, Dmitri edits the shared file: a's record starts where its last one ended,
    b's covers every community edit since the upload; one content request fetches both pairs."""
    await HistoryRun(resolved, api, two, HistoryOptions(collections=("a",))).run()
    shared = wiki.page(SHARED)
    reported = shared.latest.revid
    wiki.edit(SHARED, artwork("A-1", "An object, restored in 1990 and 2024", CAT_A, CAT_B), user="Dmitri")
    before = len(wiki.requests)
    report = await HistoryRun(resolved, api, two, HistoryOptions()).run()
    assert report.outcomes == {"done": 2, "skipped:covered": 1}
    rows = await resolved.fetchall(
        "SELECT collection, object_id, old_revision, revision, user FROM changes WHERE file = ? "
        "ORDER BY collection, revision",
        (SHARED,),
    )
    assert [tuple(row) for row in rows] == [
        ("a", "A-1", shared.revisions[0].revid, reported, "Alice"),
        ("a", "A-1", reported, shared.latest.revid, "Dmitri"),
        ("b", "7", shared.revisions[0].revid, shared.latest.revid, "Alice, Dmitri"),
    ]
    content = [r for r in wiki.requests[before:] if "rvslots" in r.params and "revids" in r.params]
    assert len(content) == 1
