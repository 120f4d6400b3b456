"""Wikidata labels of what statements name: fetched in the background in batches of 50 ids, cached per
language with an expiry, read by the queue and the page from the cache only (issue 15)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from watcher.base.values import Action
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.diff.model import FieldChange
from watcher.mediawiki.client import ActionApi, ApiError
from watcher.pipeline.labels import LabelFetcher, LabelResolver, entity_ids, unlabelled_entities, with_labels
from watcher.store import Database
from watcher.store.labels import cached_labels, store_labels
from watcher.store.queue import Provenance, insert_changes

UA = "WatcherTests/1.0 (tests@museum.example)"
LANGUAGES = ("sv", "en")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def wikidata() -> AsyncIterator[ActionApiPeer]:
    peer = ActionApiPeer()
    await peer.start()
    peer.add_entity("Q42", {"en": "Douglas Adams", "sv": "Douglas Adams (sv)"})
    peer.add_entity("Q1", {"en": "universe"})
    peer.add_entity("P180", {"en": "depicts"})
    try:
        yield peer
    finally:
        await peer.close()


async def no_wait(_: float) -> None:
    return None


def depicts(old: str | None, new: str | None, **detail: object) -> FieldChange:
    action: Action = "changed" if old and new else "added" if new else "removed"
    return FieldChange("statement", action, old, new, property="P180", detail=dict(detail) or None)


async def queue(db: Database, revision: int, changes: list[FieldChange]) -> None:
    provenance = Provenance("commonswiki", "File:X.jpg", revision, revision - 1, "2026-03-01T12:00:00Z",
                            "Volunteer", "", None)  # fmt: skip
    async with db.transaction() as conn:
        await insert_changes(conn, provenance, changes)


def wbgetentities(peer: ActionApiPeer) -> list[list[str]]:
    return [r.params["ids"].split("|") for r in peer.requests_with(action="wbgetentities")]


def test_the_entities_a_statement_record_names() -> None:
    detail = (
        '{"qualifiers": {"P2048": ["12.5 Q11573"], "P1810": ["a name"]}, '
        '"old_references": [{"P248": ["Q36578"], "P854": ["https://x.example/Q5"]}], '
        '"value_detail": {"calendar": "Q1985727", "precision": "9"}}'
    )
    assert entity_ids("P180", "Q1", "Q42", detail) == {
        "P180", "Q1", "Q42", "P2048", "Q11573", "P1810", "P248", "Q36578", "P854", "Q1985727",
    }  # fmt: skip
    assert entity_ids("P2048", "+12.5 Q11573", None, None) == {"P2048", "Q11573"}  # a quantity's unit
    assert entity_ids("P1476", "Q5 is not an item", "Q0", "not json") == {"P1476"}


async def test_120_new_ids_cost_three_requests_and_every_language_is_cached(
    wikidata: ActionApiPeer, db: Database
) -> None:
    # 117 item values + P180 + the quantity's property P2048 and its unit Q11573: 120 new ids.
    items = [f"Q{1000 + n}" for n in range(117)]
    for n, item in enumerate(items):
        wikidata.add_entity(item, {"en": f"item {n}", "sv": f"sak {n}"} if n % 2 else {"en": f"item {n}"})
    quantity = FieldChange("statement", "added", None, "12.5 Q11573", property="P2048")
    await queue(db, 10, [depicts(None, item) for item in items[:60]])
    await queue(db, 20, [depicts(None, item) for item in items[60:]] + [quantity])
    async with ActionApi(wikidata.url, UA) as api:
        fetcher = LabelFetcher(db, api, LANGUAGES, clock=lambda: NOW)
        assert await fetcher.refresh() == 120
        batches = wbgetentities(wikidata)
        assert [len(b) for b in batches] == [50, 50, 20]  # ceil(120 / 50) requests, one after the other
        assert wikidata.max_in_flight == 1
        assert {r.params["languages"] for r in wikidata.requests_with(action="wbgetentities")} == {"sv|en"}
        assert {r.params["props"] for r in wikidata.requests_with(action="wbgetentities")} == {"labels"}
        # Nothing new: no request. One more record naming one new id: one more request, of one id.
        assert await fetcher.refresh() == 0 and len(wbgetentities(wikidata)) == 3
        await queue(db, 30, [depicts("Q1001", "Q42")])
        assert await fetcher.refresh() == 1 and wbgetentities(wikidata)[-1] == ["Q42"]
    # Each language is its own row: the reader picks the first language that has one.
    labels = await cached_labels(db, ["Q1000", "Q1001", "Q42", "P180", "Q11573"], ["sv", "en"])
    assert labels == {"Q1000": "item 0", "Q1001": "sak 1", "Q42": "Douglas Adams (sv)", "P180": "depicts"}
    assert await cached_labels(db, ["Q1001", "Q42"], ["en"]) == {"Q1001": "item 1", "Q42": "Douglas Adams"}
    assert await cached_labels(db, ["Q1001"], ["de"]) == {}  # not a configured language: never fetched
    # Q11573 is not on this Wikidata (missing): remembered as such, not asked for again.
    assert (
        await db.scalar("SELECT count(*) FROM entity_labels WHERE entity = 'Q11573' AND label IS NULL") == 2
    )


async def test_expired_labels_are_read_until_they_are_fetched_again(
    wikidata: ActionApiPeer, db: Database
) -> None:
    await queue(db, 10, [depicts("Q1", "Q42")])
    moment = [NOW]
    async with ActionApi(wikidata.url, UA) as api:
        fetcher = LabelFetcher(db, api, LANGUAGES, clock=lambda: moment[0])
        assert await fetcher.refresh() == 3
        wikidata.add_entity("Q42", {"en": "Douglas Noël Adams"})  # renamed on Wikidata
        moment[0] = NOW + timedelta(days=29)
        assert await fetcher.refresh() == 0  # still fresh
        moment[0] = NOW + timedelta(days=31)
        # Expired, but an old label is better than a bare id until the new one is in.
        assert await cached_labels(db, ["Q42"], ["en"]) == {"Q42": "Douglas Adams"}
        assert await fetcher.refresh() == 3
    assert await cached_labels(db, ["Q42"], ["sv", "en"]) == {"Q42": "Douglas Noël Adams"}
    assert len(wbgetentities(wikidata)) == 2


async def test_a_failing_wikidata_never_touches_the_queue(wikidata: ActionApiPeer, db: Database) -> None:
    await queue(db, 10, [depicts(None, "Q42")])
    before = [tuple(r) for r in await db.fetchall("SELECT * FROM changes")]
    wikidata.fail_http(503, times=3)
    async with ActionApi(wikidata.url, UA, sleep=no_wait, max_retries=2) as api:
        fetcher = LabelFetcher(db, api, LANGUAGES, clock=lambda: NOW)
        with pytest.raises(ApiError):
            await fetcher.refresh()
        assert await cached_labels(db, ["Q42", "P180"], LANGUAGES) == {}
        assert [tuple(r) for r in await db.fetchall("SELECT * FROM changes")] == before
        # The next round (the fault is over) fetches what the failed one could not.
        assert await fetcher.refresh() == 2
    assert await cached_labels(db, ["Q42", "P180"], LANGUAGES) == {
        "Q42": "Douglas Adams (sv)",
        "P180": "depicts",
    }


async def test_records_are_made_with_the_cached_labels_only(db: Database) -> None:
    """No API at all: the queue never waits for Wikidata; what the cache has is written, the rest not."""
    await store_labels(db, {"Q42": {"en": "Douglas Adams"}, "Q7": {}}, ["sv", "en"], NOW)
    resolver = LabelResolver(db, ["sv", "en"])
    changes = [
        depicts("Q7", "Q42"),
        depicts(None, "Q99"),
        FieldChange("description", "added", None, "Q42", language="en"),
    ]
    labelled = await with_labels(changes, resolver)
    assert labelled[0].detail == {"new_label": "Douglas Adams"}
    assert labelled[1:] == changes[1:]  # Q99 is not cached yet; a description's text is no item


async def until_cached(db: Database, entity: str, task: asyncio.Task[None]) -> None:
    deadline = time.monotonic() + 30
    while not await cached_labels(db, [entity], LANGUAGES):
        assert not task.done(), task
        assert time.monotonic() < deadline, f"no label of {entity} after 30 s"
        await asyncio.sleep(0.05)


async def test_the_daemon_task_fetches_at_start_and_soon_after_a_wake(
    wikidata: ActionApiPeer, db: Database
) -> None:
    wikidata.add_entity("Q7", {"sv": "sju"})
    await queue(db, 10, [depicts("Q1", "Q42")])
    async with ActionApi(wikidata.url, UA) as api:
        fetcher = LabelFetcher(db, api, LANGUAGES)
        task = asyncio.create_task(fetcher.run())
        try:
            await until_cached(db, "Q42", task)  # the first round looks through what is queued
            await queue(db, 20, [depicts("Q42", "Q7")])
            fetcher.wake()  # the worker's on_queued; without it the next round is 10 minutes away
            await until_cached(db, "Q7", task)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    assert await cached_labels(db, ["Q1", "Q42", "P180", "Q7"], LANGUAGES) == {
        "Q1": "universe", "Q42": "Douglas Adams (sv)", "P180": "depicts", "Q7": "sju",
    }  # fmt: skip
    assert wbgetentities(wikidata) == [["P180", "Q1", "Q42"], ["Q7"]]


async def test_unlabelled_entities_are_those_without_a_fresh_row_in_every_language(db: Database) -> None:
    await queue(db, 10, [depicts("Q1", "Q42")])
    await store_labels(db, {"Q1": {"en": "universe"}, "P180": {}}, ["sv", "en"], NOW)
    await store_labels(db, {"Q42": {"en": "Douglas Adams"}}, ["en"], NOW)  # no sv row: not fresh for sv|en
    missing, last = await unlabelled_entities(db, ["sv", "en"], now=NOW)
    assert missing == {"Q42"} and last == await db.scalar("SELECT max(id) FROM changes")
    assert (await unlabelled_entities(db, ["en"], now=NOW))[0] == set()
    assert (await unlabelled_entities(db, ["en"], now=NOW + timedelta(days=31)))[0] == {"Q1", "Q42", "P180"}
