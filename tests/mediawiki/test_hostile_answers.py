"""Answers that are valid but not MediaWiki's: ``{}``, a bare ``batchcomplete``, a redirect to another
server, an endless body. None of them may read as "deleted" or "no members"; each fails clearly."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest

from tests.support.mediawiki import USER_AGENT, RecordedSleeps, drop_revision, rewrite_answers
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.action_api_hostile import EmptyAnswerPeer
from watcher.mediawiki.bulk import (
    latest_by_pageids,
    latest_by_titles,
    page_history,
    revision_metas,
    user_groups,
)
from watcher.mediawiki.client import MAX_BODY_BYTES, ActionApi, ApiError, Unanswered
from watcher.mediawiki.wire import gone_revids

MiB = 1024 * 1024
T = TypeVar("T")
Call = Callable[[], Awaitable[Any]]


async def drain(items: AsyncIterator[T]) -> list[T]:
    return [item async for item in items]


@pytest.fixture
async def elsewhere() -> AsyncIterator[EmptyAnswerPeer]:
    async with EmptyAnswerPeer("127.0.0.2") as second:
        yield second


async def edited_page(peer: ActionApiPeer, title: str = "File:Object - EXM 1.jpg") -> tuple[int, int]:
    old = peer.add_page(title, "{{Information|description={{en|1=Thing}}}}").revid
    return old, peer.edit(title, "{{Information|description={{en|1=Thing!}}}}")


@pytest.mark.parametrize("mode", ["empty", "bare"])
async def test_an_empty_answer_names_no_revision_gone(peer: ActionApiPeer, api: ActionApi, mode: str) -> None:
    old, new = await edited_page(peer)
    getattr(peer, f"fail_{mode}")()

    revisions = await api.revisions([old, new])

    assert dict(revisions) == {} and revisions.gone == frozenset()
    assert revisions.unanswered([new, old]) == [new, old]
    again = await api.revisions([old, new])  # the stand-in answers properly again
    assert set(again) == {old, new} and again.unanswered([new, old]) == []


async def test_a_partial_page_list_leaves_the_missing_revision_unanswered(
    peer: ActionApiPeer, api: ActionApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = await edited_page(peer)
    rewrite_answers(peer, monkeypatch, drop_revision(old))

    revisions = await api.revisions([old, new])

    assert set(revisions) == {new} and revisions.gone == frozenset()
    assert revisions.unanswered([new, old]) == [old]


async def test_badrevids_still_mark_exactly_the_named_revision_gone(
    peer: ActionApiPeer, api: ActionApi
) -> None:
    kept_old, kept_new = await edited_page(peer, "File:Kept.jpg")
    deleted_old, deleted_new = await edited_page(peer, "File:Deleted.jpg")
    peer.delete("File:Deleted.jpg")

    revisions = await api.revisions([kept_old, kept_new, deleted_old, deleted_new, 987654])

    assert set(revisions) == {kept_old, kept_new}
    assert revisions.gone == {deleted_old, deleted_new, 987654}
    assert revisions.unanswered([kept_old, kept_new, deleted_old, deleted_new, 987654]) == []
    assert api.stats.errors == 0


def test_a_badrevids_entry_counts_only_for_the_id_it_names() -> None:
    answer = {
        "query": {
            "badrevids": {"5": {"revid": 5, "missing": True}, "6": {"revid": 7, "missing": True}},
            "pages": [{"pageid": 1, "title": "File:A.jpg", "revisions": [{"revid": 8, "deleted": True}]}],
        }
    }
    assert gone_revids(answer) == {5, 8}  # "6" naming 7 names neither for sure
    assert gone_revids({}) == gone_revids({"batchcomplete": True}) == set()


@pytest.mark.parametrize("mode", ["empty", "bare"])
async def test_listings_and_lookups_refuse_an_empty_answer(
    peer: ActionApiPeer, api: ActionApi, mode: str
) -> None:
    peer.add_page("Category:Museum", "")
    peer.add_page("File:Listed.jpg", "[[Category:Museum]]")
    calls: dict[str, Call] = {
        "category_members": lambda: drain(api.category_members("Category:Museum")),
        "uploads_by": lambda: drain(api.uploads_by("Example Museum")),
        "embedded_in": lambda: drain(api.embedded_in("Template:Museum")),
        "recent_changes": lambda: drain(api.recent_changes(start="2020-01-01T00:00:00Z")),
        "page_info": lambda: api.page_info(["File:Listed.jpg"]),
        "file_sha1": lambda: api.file_sha1("File:Listed.jpg"),
        "entity_labels": lambda: api.entity_labels(["Q1"], ["en"]),
        "user_groups": lambda: user_groups(api, ["Example Museum"]),
    }
    for name, call in calls.items():
        getattr(peer, f"fail_{mode}")()
        with pytest.raises(Unanswered) as caught:
            await call()
        assert caught.value.code == "unanswered", name
    assert [r.title async for r in api.category_members("Category:Museum")] == ["File:Listed.jpg"]


@pytest.mark.parametrize("mode", ["empty", "bare"])
async def test_history_lookups_skip_nothing_as_missing_on_an_empty_answer(
    peer: ActionApiPeer, api: ActionApi, mode: str
) -> None:
    old, new = await edited_page(peer)
    pageid = peer.page("File:Object - EXM 1.jpg").pageid
    lookups: dict[str, Call] = {
        "revision_metas": lambda: revision_metas(api, [old, new]),
        "latest_by_pageids": lambda: anext(latest_by_pageids(api, [pageid])),
        "latest_by_titles": lambda: anext(latest_by_titles(api, ["File:Object - EXM 1.jpg"])),
        "page_history": lambda: anext(page_history(api, pageid, new)),
    }
    for name, lookup in lookups.items():
        getattr(peer, f"fail_{mode}")()
        with pytest.raises(Unanswered):
            await lookup()
        assert name
    found, gone = await revision_metas(api, [old, new, 987654])
    assert set(found) == {old, new} and gone == {987654}


async def test_a_redirect_to_another_host_is_not_followed(
    peer: ActionApiPeer, api: ActionApi, elsewhere: EmptyAnswerPeer
) -> None:
    old, new = await edited_page(peer)
    peer.fail_redirect(elsewhere.url)

    with pytest.raises(ApiError) as caught:
        await api.revisions([old, new])

    assert caught.value.code == "redirect" and caught.value.http_status == 302
    assert f"the API at {peer.url} redirected to {elsewhere.url}; not followed" in str(caught.value)
    assert elsewhere.requests == []
    assert set(await api.revisions([old, new])) == {old, new}


async def test_a_redirect_to_the_same_host_is_refused_as_well(peer: ActionApiPeer, api: ActionApi) -> None:
    peer.fail_redirect(peer.url + "?moved=1", status=301)

    with pytest.raises(ApiError, match=r"redirected to .*moved=1; not followed"):
        await api.request({"action": "query", "list": "users", "ususers": "Example Museum"})

    assert len(peer.requests) == 1  # the redirect target was never asked


async def test_an_oversize_body_fails_cleanly_with_bounded_memory(
    peer: ActionApiPeer, api: ActionApi
) -> None:
    old, new = await edited_page(peer)
    size = 300 * MiB
    peer.fail_oversize(size=size)

    tracemalloc.start()
    try:
        with pytest.raises(ApiError) as caught:
            await api.revisions([old, new])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert caught.value.code == "toolarge" and f"{MAX_BODY_BYTES:,}-byte limit" in caught.value.info
    assert peak < MAX_BODY_BYTES + 16 * MiB  # the cap and some buffers, never the 300 MB
    assert peer.streamed < size / 2  # reading stopped; the rest was never sent
    assert set(await api.revisions([old, new])) == {old, new}  # the next answer is read normally


async def test_an_answer_past_a_smaller_cap_fails_without_retries(
    peer: ActionApiPeer, sleeps: RecordedSleeps
) -> None:
    """The cap counts what the answer holds after gzip, so a small compressed body cannot hide a big one."""
    revid = peer.add_page("File:Long.jpg", "x" * 50_000).revid
    async with ActionApi(peer.url, USER_AGENT, sleep=sleeps, max_body=10_000) as small:
        with pytest.raises(ApiError, match="10,000-byte limit"):
            await small.revisions([revid])
        assert small.stats.retries == 0 and sleeps.delays == []
    async with ActionApi(peer.url, USER_AGENT, sleep=sleeps) as normal:
        assert set(await normal.revisions([revid])) == {revid}


async def test_an_announced_oversize_body_is_not_read(peer: ActionApiPeer, sleeps: RecordedSleeps) -> None:
    peer.fail_empty()  # "{}" with a Content-Length of 2
    async with ActionApi(peer.url, USER_AGENT, sleep=sleeps, max_body=1) as tiny:
        with pytest.raises(ApiError, match="announced 2 bytes, more than the 1-byte limit"):
            await tiny.request({"action": "query", "list": "users", "ususers": "Example Museum"})
