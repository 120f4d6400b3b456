"""Wikidata labels of item values: fetched in the museum's languages, cached, and never blocking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from watcher.demo.standins.action_api import ActionApiPeer
from watcher.diff.model import FieldChange
from watcher.mediawiki.client import ActionApi
from watcher.pipeline.labels import LabelResolver, with_labels
from watcher.store import Database

UA = "WatcherTests/1.0 (tests@museum.example)"


@pytest.fixture
async def wikidata() -> AsyncIterator[ActionApiPeer]:
    peer = ActionApiPeer()
    await peer.start()
    peer.add_entity("Q42", {"en": "Douglas Adams", "sv": "Douglas Adams (sv)"})
    peer.add_entity("Q1", {"en": "universe"})
    try:
        yield peer
    finally:
        await peer.close()


def depicts(old: str | None, new: str | None) -> FieldChange:
    return FieldChange("statement", "changed" if old and new else "added", old, new, property="P180")


async def test_labels_in_order_of_preference_cached(wikidata: ActionApiPeer, tmp_path: Path) -> None:
    async with Database.open(tmp_path / "w.sqlite3") as db, ActionApi(wikidata.url, UA) as api:
        resolver = LabelResolver(db, api, ["sv", "en"])
        changes = [depicts("Q1", "Q42"), FieldChange("description", "added", None, "Q42", language="en")]
        labelled = await with_labels(changes, resolver)
        assert labelled[0].detail == {"old_label": "universe", "new_label": "Douglas Adams (sv)"}
        assert labelled[1].detail is None  # only statement values are items
        requests = len(wikidata.requests)
        again = await with_labels([depicts(None, "Q42")], resolver)
        assert again[0].detail == {"new_label": "Douglas Adams (sv)"}
        assert len(wikidata.requests) == requests  # from the cache


async def test_a_failing_lookup_leaves_the_values_unlabelled(wikidata: ActionApiPeer, tmp_path: Path) -> None:
    async def no_wait(_: float) -> None:
        return None

    async with Database.open(tmp_path / "w.sqlite3") as db, ActionApi(wikidata.url, UA, sleep=no_wait) as api:
        wikidata.fail_http(503, times=50)
        labelled = await with_labels([depicts(None, "Q42")], LabelResolver(db, api, ["en"]))
        assert labelled == [depicts(None, "Q42")]
