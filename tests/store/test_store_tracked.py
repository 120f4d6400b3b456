"""The tracked set in the database: files, reasons, moves, deletions, expanded categories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.support.config import USER_AGENT
from tests.support.core import QuietProgress
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi
from watcher.store import Database
from watcher.store import tracked as store
from watcher.tracking.resolver import TrackedSet, TrackingResolver


async def add(db: Database, title: str, source: str = "category", detail: str = "Category:X") -> bool:
    async with db.transaction() as conn:
        return await store.add_file(conn, title, source, detail)


async def tracked(db: Database) -> dict[str, str]:
    """Files that are tracked (active or deleted); rows of files that left stay, as state 'left'."""
    rows = await db.fetchall("SELECT title, state FROM tracked_files WHERE state != 'left'")
    return {row[0]: row[1] for row in rows}


async def left(db: Database) -> set[str]:
    return {row[0] for row in await db.fetchall("SELECT title FROM tracked_files WHERE state = 'left'")}


async def test_add_file_and_its_reasons(db: Database) -> None:
    assert await add(db, "File:A.jpg") is True
    assert await add(db, "File:A.jpg") is False  # same reason again
    assert await add(db, "File:A.jpg", "uploader", "LSH upload") is False  # another reason
    assert await store.reasons(db, "File:A.jpg") == [("category", "Category:X"), ("uploader", "LSH upload")]
    assert await store.tracked_state(db, "File:A.jpg") == "active"
    assert await store.tracked_state(db, "File:B.jpg") is None
    assert await store.count_files(db) == {"active": 1, "deleted": 0, "left": 0}
    async with db.transaction() as conn:
        assert await store.is_tracked(conn, "File:A.jpg") and not await store.is_tracked(conn, "File:B.jpg")


async def test_add_file_keeps_a_known_pageid(db: Database) -> None:
    async with db.transaction() as conn:
        await store.add_file(conn, "File:A.jpg", "file", "config", pageid=42)
        await store.add_file(conn, "File:A.jpg", "category", "Category:X")  # no pageid: keep 42
    assert await db.scalar("SELECT pageid FROM tracked_files WHERE title = 'File:A.jpg'") == 42


async def test_adding_a_deleted_file_brings_it_back(db: Database) -> None:
    await add(db, "File:A.jpg")
    async with db.transaction() as conn:
        assert await store.set_deleted(conn, "File:A.jpg", True) is True
    assert await tracked(db) == {"File:A.jpg": "deleted"}
    assert await store.count_files(db) == {"active": 0, "deleted": 1, "left": 0}
    assert await add(db, "File:A.jpg") is True
    assert await tracked(db) == {"File:A.jpg": "active"}


async def test_set_deleted_and_restored(db: Database) -> None:
    await add(db, "File:A.jpg")
    async with db.transaction() as conn:
        assert await store.set_deleted(conn, "File:A.jpg", True)
        assert await store.set_deleted(conn, "File:Unknown.jpg", True) is False
    assert await store.reasons(db, "File:A.jpg") == [("category", "Category:X")]  # reasons survive
    async with db.transaction() as conn:
        assert await store.set_deleted(conn, "File:A.jpg", False)
    assert await tracked(db) == {"File:A.jpg": "active"}


async def test_add_files_in_bulk(db: Database) -> None:
    await add(db, "File:Old.jpg", "uploader", "U")
    async with db.transaction() as conn:
        await store.add_files(conn, [(f"File:{n}.jpg", n) for n in range(1000)], "category", "Category:X")
        await store.add_files(conn, [("File:Old.jpg", 7), ("File:0.jpg", None)], "category", "Category:X")
    assert (await store.count_files(db))["active"] == 1001
    assert await store.reasons(db, "File:Old.jpg") == [("category", "Category:X"), ("uploader", "U")]
    assert await db.scalar("SELECT pageid FROM tracked_files WHERE title = 'File:0.jpg'") == 0
    assert await db.scalar("SELECT pageid FROM tracked_files WHERE title = 'File:Old.jpg'") == 7
    assert len(await store.all_titles(db)) == 1001


async def test_remove_reason_untracks_only_with_no_reason_left(db: Database) -> None:
    await add(db, "File:A.jpg")
    await add(db, "File:A.jpg", "uploader", "U")
    async with db.transaction() as conn:
        assert await store.remove_reason(conn, "File:A.jpg", "category", "Category:X") is False
        assert await store.is_tracked(conn, "File:A.jpg")
        assert await store.remove_reason(conn, "File:A.jpg", "uploader", "U") is True
        assert not await store.is_tracked(conn, "File:A.jpg")
        assert await store.remove_reason(conn, "File:A.jpg", "uploader", "U") is False
        assert await store.remove_reason(conn, "File:Never.jpg", "uploader", "U") is False
    assert await db.scalar("SELECT count(*) FROM tracked_reasons") == 0


async def test_replace_reasons_after_a_full_resolution(db: Database) -> None:
    for title in ("File:A.jpg", "File:B.jpg", "File:C.jpg"):
        await add(db, title)
    await add(db, "File:C.jpg", "template", "Template:LSH artwork")
    async with db.transaction() as conn:
        gone = await store.replace_reasons(conn, "category", "Category:X", {"File:A.jpg", "File:New.jpg"})
    assert gone == ["File:B.jpg"]  # C keeps its template reason
    assert set(await tracked(db)) == {"File:A.jpg", "File:C.jpg"}
    assert await left(db) == {"File:B.jpg"}
    assert await store.reasons(db, "File:C.jpg") == [("template", "Template:LSH artwork")]


async def test_rename_file_carries_its_reasons(db: Database) -> None:
    async with db.transaction() as conn:
        await store.add_file(conn, "File:Old.jpg", "category", "Category:X", pageid=5)
        await store.add_file(conn, "File:Old.jpg", "uploader", "U")
        assert await store.rename_file(conn, "File:Old.jpg", "File:New.jpg") is True
        assert await store.rename_file(conn, "File:Missing.jpg", "File:Other.jpg") is False
    assert await tracked(db) == {"File:New.jpg": "active"}
    assert await store.reasons(db, "File:New.jpg") == [("category", "Category:X"), ("uploader", "U")]
    assert await store.reasons(db, "File:Old.jpg") == []
    assert await db.scalar("SELECT pageid FROM tracked_files WHERE title = 'File:New.jpg'") == 5


async def test_rename_onto_an_existing_tracked_title_merges(db: Database) -> None:
    await add(db, "File:Old.jpg", "uploader", "U")
    await add(db, "File:Old.jpg", "category", "Category:X")
    await add(db, "File:Target.jpg", "category", "Category:X")
    async with db.transaction() as conn:
        await store.set_deleted(conn, "File:Target.jpg", True)
        assert await store.rename_file(conn, "File:Old.jpg", "File:Target.jpg") is True
    assert await tracked(db) == {"File:Target.jpg": "active"}
    assert await store.reasons(db, "File:Target.jpg") == [("category", "Category:X"), ("uploader", "U")]
    assert await db.scalar("SELECT count(*) FROM tracked_reasons WHERE title = 'File:Old.jpg'") == 0


async def test_set_categories_per_root(db: Database) -> None:
    async with db.transaction() as conn:
        gone = await store.set_categories(
            conn, "Category:R", [("Category:R", "Category:R", 0), ("Category:A", "Category:R", 1)]
        )
        assert gone == []
        await store.set_categories(conn, "Category:S", [("Category:S", "Category:S", 0)])
        assert await store.category_roots(conn, "Category:A") == [("default", "Category:R")]
        assert await store.category_roots(conn, "Category:Z") == []
        gone = await store.set_categories(
            conn, "Category:R", [("Category:R", "Category:R", 0), ("Category:B", "Category:R", 1)]
        )
        assert gone == ["Category:A"]
        assert await store.category_roots(conn, "Category:B") == [("default", "Category:R")]
    assert sorted(await store.categories(db)) == ["Category:B", "Category:R", "Category:S"]


async def test_drop_unconfigured(db: Database) -> None:
    await add(db, "File:A.jpg", "category", "Category:Old")
    await add(db, "File:B.jpg", "category", "Category:Old")
    await add(db, "File:B.jpg", "category", "Category:Kept")
    await add(db, "File:C.jpg", "uploader", "Former uploader")
    await add(db, "File:D.jpg", "template", "Template:Kept")
    async with db.transaction() as conn:
        await store.set_categories(conn, "Category:Old", [("Category:Old", "Category:Old", 0)])
        await store.set_categories(conn, "Category:Kept", [("Category:Kept", "Category:Kept", 0)])
        left = await store.drop_unconfigured(
            conn, {"category": {"Category:Kept"}, "template": {"Template:Kept"}, "file": {"config"}}
        )
    assert sorted(left) == ["File:A.jpg", "File:C.jpg"]
    assert set(await tracked(db)) == {"File:B.jpg", "File:D.jpg"}
    assert await store.reasons(db, "File:B.jpg") == [("category", "Category:Kept")]
    assert await store.categories(db) == ["Category:Kept"]


# -- the resolver's use of the store, against the loopback Action API ------------------------------


@pytest.fixture
async def peer() -> AsyncIterator[ActionApiPeer]:
    async with ActionApiPeer() as started:
        started.add_page("Category:R")
        started.add_page("Category:A", "[[Category:R]]")
        started.add_page("File:In A.jpg", "[[Category:A]]")
        started.add_page("File:Listed.jpg", "no categories")
        yield started


async def resolve(config: Config, peer: ActionApiPeer, db: Database) -> TrackedSet:
    tracked_set = TrackedSet()
    async with ActionApi(peer.url, USER_AGENT, maxlag=None) as api:
        resolver = TrackingResolver(config.tracking, api, db, tracked_set, progress=QuietProgress)
        await resolver.resolve_all()
    return tracked_set


async def test_resolution_tracks_subcategory_members_and_listed_files(
    db: Database, peer: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    config = make_config('files = ["File:Listed.jpg", "File:Missing.jpg"]\n', base=config_base("Category:R"))
    tracked_set = await resolve(config, peer, db)
    assert set(await tracked(db)) == {"File:In A.jpg", "File:Listed.jpg"}
    assert tracked_set.has_file("File:In A.jpg") and tracked_set.has_category("Category:A")
    async with db.transaction() as conn:
        assert await store.category_roots(conn, "Category:A") == [("default", "Category:R")]


async def test_files_removed_from_the_config_stop_being_tracked(
    db: Database, peer: ActionApiPeer, make_config: Callable[..., Config]
) -> None:
    listed = make_config('files = ["File:Listed.jpg"]\n', base=config_base("Category:R", depth=1))
    await resolve(listed, peer, db)
    assert "File:Listed.jpg" in await tracked(db)
    unlisted = make_config(base=config_base("Category:R", depth=1))
    await resolve(unlisted, peer, db)
    assert set(await tracked(db)) == {"File:In A.jpg"}
    assert await left(db) == {"File:Listed.jpg"}


def config_base(category: str, depth: int = 1) -> str:
    return (
        f'[watcher]\nuser_agent = "{USER_AGENT}"\n\n'
        f'[tracking]\ncategories = ["{category}"]\ncategory_depth = {depth}\n'
    )
