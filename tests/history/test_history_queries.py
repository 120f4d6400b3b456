"""The bulk queries of history mode against the stand-in's generators, usercontribs, users, categoryinfo
and single-page histories, shapes and continuation included."""

from __future__ import annotations

from pathlib import Path

from tests.support.config import USER_AGENT
from tests.support.history import BOT, CATEGORY, MUSEUM, build_collection, record_keys, write_config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.history.run import HistoryOptions, HistoryRun
from watcher.mediawiki.bulk import (
    category_file_counts,
    contributions,
    latest_by_pageids,
    latest_by_titles,
    latest_embedding,
    latest_in_category,
    page_history,
    revision_metas,
    user_groups,
)
from watcher.mediawiki.client import ActionApi
from watcher.store import Database
from watcher.tracking.resolver import TrackedSet, TrackingResolver


async def test_latest_revisions_through_a_generator_continue_across_pages() -> None:
    async with ActionApiPeer(max_limit=7) as peer, ActionApi(peer.url, USER_AGENT) as api:
        collection = build_collection(peer, 30, extras=False)
        peer.add_page("File:Elsewhere.jpg", "no category")
        batches = [metas async for metas in latest_in_category(api, CATEGORY)]
        assert [len(b) for b in batches] == [7, 7, 7, 7, 2]
        latest = {m.title: m for b in batches for m in b}
        assert set(latest) == set(collection.stories)
        for title, meta in latest.items():
            page = peer.page(title)
            assert (meta.revid, meta.parentid, meta.pageid, meta.user, meta.timestamp) == (
                page.latest.revid, page.latest.parentid, page.pageid, page.latest.user, page.latest.timestamp,
            )  # fmt: skip
        continued = [r.params for r in peer.requests if "gcmcontinue" in r.params]
        assert len(continued) == 4 and all(p["continue"] == "gcmcontinue||" for p in continued)
        assert not any("warnings" in r.params for r in peer.requests)


async def test_embeddedin_generator_and_categoryinfo(peer: ActionApiPeer, api: ActionApi) -> None:
    for n in range(3):
        peer.add_page(f"File:T{n}.jpg", "{{Example-link|1}}\n[[Category:Small]]")
    peer.add_page("Category:Small", "")
    peer.add_page("Talk:Other", "{{Example-link|2}}")
    found = [m.title async for metas in latest_embedding(api, "Template:Example-link") for m in metas]
    assert sorted(found) == ["File:T0.jpg", "File:T1.jpg", "File:T2.jpg"]  # namespace 6 only
    counts = await category_file_counts(api, ["Category:Small", "Category:Nothing here"])
    assert counts == {"Category:Small": 3}


async def test_contributions_of_several_users_newest_first_with_top_flags() -> None:
    async with ActionApiPeer(max_limit=4) as peer, ActionApi(peer.url, USER_AGENT) as api:
        build_collection(peer, 20, extras=False)
        rows = [c async for batch in contributions(api, [MUSEUM, BOT]) for c in batch]
        expected = [
            (r.revid, r.user, r is peer.page_by_id(r.pageid).latest)  # type: ignore[union-attr]
            for r in peer.revisions.values()
            if r.user in (MUSEUM, BOT)
        ]
        assert sorted((c.revid, c.user, c.top) for c in rows) == sorted(expected)
        assert [c.timestamp for c in rows] == sorted((c.timestamp for c in rows), reverse=True)
        assert all(c.title.startswith("File:") and c.pageid for c in rows)
        request = peer.requests_with(list="usercontribs")[0].params
        assert request["ucuser"] == f"{MUSEUM}|{BOT}" and request["uclimit"] == "max"


async def test_user_groups_revision_metas_and_page_history(peer: ActionApiPeer, api: ActionApi) -> None:
    collection = build_collection(peer, 20)
    groups = await user_groups(api, [BOT, "Alice", "Nobody at all", "192.0.2.7"])
    assert groups == {
        BOT: frozenset({"bot", "*", "user"}),
        "Alice": frozenset({"*", "user"}),
        "Nobody at all": frozenset(),  # missing
        "192.0.2.7": frozenset(),  # an IP: invalid as a user name
    }
    long = next(s for s in collection.stories.values() if s.kind == "long_history")
    page = peer.page(long.title)
    start = page.revisions[-3]
    history = [m async for m in page_history(api, page.pageid, start.revid)]
    assert [m.revid for m in history] == [r.revid for r in reversed(page.revisions[:-2])]
    found, missing = await revision_metas(api, [start.revid, page.revisions[0].revid, 987654])
    assert missing == {987654} and found[start.revid].parentid == page.revisions[-4].revid
    assert found[page.revisions[0].revid].parentid == 0
    peer.hide(start.revid, user=True)
    again, _ = await revision_metas(api, [start.revid])
    assert again[start.revid].user is None


async def test_latest_by_pageids_and_by_titles_follow_moves(peer: ActionApiPeer, api: ActionApi) -> None:
    build_collection(peer, 3, extras=False)
    old = "File:Example Museum object 00001.jpg"
    pageid = peer.page(old).pageid
    peer.move(old, "File:Renamed object.jpg")
    [(found, missing)] = [x async for x in latest_by_pageids(api, [pageid, 424242])]
    assert [m.title for m in found] == ["File:Renamed object.jpg"] and missing == [424242]
    [titles] = [x async for x in latest_by_titles(api, [old.replace(" ", "_"), "File:Never there.jpg"])]
    renamed = titles[old.replace(" ", "_")]
    assert renamed is not None and renamed.pageid == pageid
    assert titles["File:Never there.jpg"] is None


async def test_a_whole_run_with_tiny_list_limits_gives_the_same_records(tmp_path: Path) -> None:
    """Every listing continues many times (7 per page): the records do not depend on it."""
    results = []
    for limit in (500, 7):
        async with ActionApiPeer(max_limit=limit) as peer, ActionApi(peer.url, USER_AGENT) as api:
            build_collection(peer, 120)
            (tmp_path / str(limit)).mkdir()
            config, _ = write_config(tmp_path / str(limit), peer.url)
            async with Database.open(tmp_path / str(limit) / "w.sqlite3") as db:
                await TrackingResolver(config.tracking, api, db, TrackedSet()).resolve_all()
                report = await HistoryRun(db, api, config, HistoryOptions()).run()
                assert report.finished
                results.append(record_keys(await db.fetchall("SELECT * FROM changes")))
    assert results[0] == results[1] and len(results[0]) > 30
