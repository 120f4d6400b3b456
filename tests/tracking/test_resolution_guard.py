"""Resolving the tracked set against answers that hold nothing: the stored set is kept, the refusal is
logged and raised as an API error (which the daemon retries with backoff); real removals still go."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.config import USER_AGENT
from tests.support.core import QuietProgress
from tests.support.mediawiki import empty_list, rewrite_answers
from watcher.config import Config, parse_config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi, ApiError, Unanswered
from watcher.store import Database
from watcher.store import tracked as store_tracked
from watcher.tracking.resolver import (
    DROP_MIN_FILES,
    DROP_SHARE,
    ResolutionRefused,
    ResolveReport,
    TrackedSet,
    TrackingResolver,
)

ROOT = "Category:Media contributed by Example Museum"
SUB = "Category:Example Museum: chairs"
TEMPLATE = "Template:Example Museum"
UPLOADER = "Example Museum"
FILES = [f"File:Object - EXM {n}.jpg" for n in range(1, 21)]
CHAIRS = [f"File:Chair - EXM {n}.jpg" for n in range(100, 108)]


def config(tmp_path: Path, tracking: str) -> Config:
    return parse_config(
        f'[watcher]\nuser_agent = "{USER_AGENT}"\n[tracking]\n{tracking}\n', tmp_path / "c.toml"
    )


@pytest.fixture
async def peer() -> AsyncIterator[ActionApiPeer]:
    async with ActionApiPeer() as started:
        started.add_page(ROOT, "The museum's files.")
        started.add_page(SUB, f"[[{ROOT}]]")
        started.add_page(TEMPLATE, "A museum banner.")
        for title in FILES:
            started.add_page(title, f"{{{{{TEMPLATE.split(':', 1)[1]}}}}}", categories=[ROOT], user=UPLOADER)
        for title in CHAIRS:
            started.add_page(title, "A chair.", categories=[SUB], user="Someone else")
        yield started


async def active(db: Database) -> set[str]:
    return {r[0] for r in await db.fetchall("SELECT title FROM tracked_files WHERE state = 'active'")}


async def resolve(peer: ActionApiPeer, db: Database, cfg: Config) -> ResolveReport:
    async with ActionApi(peer.url, USER_AGENT, maxlag=None) as api:
        resolver = TrackingResolver(cfg.tracking, api, db, TrackedSet(), progress=QuietProgress)
        return await resolver.resolve_all()


@pytest.mark.parametrize("mode", ["empty", "bare"])
async def test_a_resolution_against_an_empty_answer_keeps_the_tracked_set(
    db: Database, peer: ActionApiPeer, tmp_path: Path, mode: str
) -> None:
    cfg = config(tmp_path, f'categories = ["{ROOT}"]\ncategory_depth = 1')
    await resolve(peer, db, cfg)
    assert await active(db) == set(FILES + CHAIRS)

    getattr(peer, f"fail_{mode}")(times=1000)
    with pytest.raises(Unanswered) as caught:
        await resolve(peer, db, cfg)

    assert isinstance(caught.value, ApiError)  # what the daemon's tracking loop retries with backoff
    assert "holds no query.categorymembers" in str(caught.value)
    assert await active(db) == set(FILES + CHAIRS)
    peer.faults.clear()
    assert (await resolve(peer, db, cfg)).files == len(FILES + CHAIRS)


async def test_an_empty_member_list_of_an_existing_category_is_refused(
    db: Database,
    peer: ActionApiPeer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = config(tmp_path, f'categories = ["{ROOT}"]')
    await resolve(peer, db, cfg)
    before = len(peer.requests)

    with monkeypatch.context() as patched:
        rewrite_answers(peer, patched, empty_list("categorymembers"))
        with (
            caplog.at_level(logging.WARNING, logger="watcher.tracking"),
            pytest.raises(ResolutionRefused) as caught,
        ):
            await resolve(peer, db, cfg)

    assert isinstance(caught.value, ApiError) and caught.value.code == "refused"
    assert await active(db) == set(FILES)
    [warning] = [r for r in caplog.records if r.name == "watcher.tracking" and r.levelno == logging.WARNING]
    text = warning.getMessage()
    assert f"refused to drop 20 of the 20 tracked files (category {ROOT})" in text
    assert f"prop=categories still lists it in {ROOT}" in text
    checks = [r for r in peer.requests[before:] if r.params.get("prop") == "categories"]
    assert len(checks) == 1  # the first batch already refutes the drop: one request, not one per file
    await resolve(peer, db, cfg)  # answered properly again: nothing to refuse
    assert await active(db) == set(FILES)


async def test_an_empty_subcategory_list_is_refused(
    db: Database, peer: ActionApiPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(tmp_path, f'categories = ["{ROOT}"]\ncategory_depth = 1')
    await resolve(peer, db, cfg)

    def no_subcategories(params: dict[str, str], body: dict[str, object]) -> dict[str, object]:
        if params.get("cmtype") == "subcat":
            return {"batchcomplete": True, "query": {"categorymembers": []}}
        return body

    with monkeypatch.context() as patched:
        rewrite_answers(peer, patched, no_subcategories)
        with pytest.raises(ResolutionRefused, match=f"the subcategories of {ROOT}.*still lists it in {ROOT}"):
            await resolve(peer, db, cfg)
    assert await active(db) == set(FILES + CHAIRS)
    assert set(await store_tracked.categories(db)) == {ROOT, SUB}


async def test_empty_template_and_uploader_listings_are_refused(
    db: Database, peer: ActionApiPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for tracking, listing, why in [
        (f'templates = ["{TEMPLATE}"]', "embeddedin", f"prop=templates still lists it in {TEMPLATE}"),
        (f'uploaders = ["{UPLOADER}"]', "logevents", "only a deletion confirms it left the uploader"),
    ]:
        cfg = config(tmp_path, tracking)
        await resolve(peer, db, cfg)
        assert await active(db) == set(FILES)
        with monkeypatch.context() as patched:
            rewrite_answers(peer, patched, empty_list(listing))
            with pytest.raises(ResolutionRefused, match=why):
                await resolve(peer, db, cfg)
        assert await active(db) == set(FILES)


async def test_removals_the_api_confirms_still_go(db: Database, peer: ActionApiPeer, tmp_path: Path) -> None:
    cfg = config(tmp_path, f'categories = ["{ROOT}"]\ncategory_depth = 1')
    await resolve(peer, db, cfg)
    recategorised, deleted = FILES[:8], FILES[8:14]
    for title in recategorised:
        peer.remove_from_category(title, ROOT)
    for title in deleted:
        peer.delete(title)
    peer.remove_from_category(CHAIRS[0], SUB)
    before = len(peer.requests)

    report = await resolve(peer, db, cfg)

    assert await active(db) == set(FILES[14:] + CHAIRS[1:])
    assert sorted(report.left) == sorted(recategorised + deleted + CHAIRS[:1])
    checks = [r for r in peer.requests[before:] if r.params.get("prop") == "categories"]
    assert [r.params["clcategories"] for r in checks] == [ROOT]  # the small drop from SUB went unchecked


async def test_a_small_drop_needs_no_check(db: Database, peer: ActionApiPeer, tmp_path: Path) -> None:
    cfg = config(tmp_path, f'categories = ["{ROOT}"]')
    await resolve(peer, db, cfg)
    allowed = max(DROP_MIN_FILES, int(DROP_SHARE * len(FILES)))
    for title in FILES[:allowed]:
        peer.remove_from_category(title, ROOT)
    before = len(peer.requests)

    report = await resolve(peer, db, cfg)

    assert sorted(report.left) == sorted(FILES[:allowed]) and report.unchecked == allowed
    assert not [r for r in peer.requests[before:] if r.params.get("prop") == "categories"]


async def test_removing_a_category_from_the_config_is_never_refused(
    db: Database, peer: ActionApiPeer, tmp_path: Path
) -> None:
    await resolve(peer, db, config(tmp_path, f'categories = ["{ROOT}"]'))
    before = len(peer.requests)
    report = await resolve(peer, db, config(tmp_path, 'templates = ["Template:Nothing uses this"]'))
    assert await active(db) == set() and sorted(report.left) == sorted(FILES)
    assert not [r for r in peer.requests[before:] if r.params.get("prop") == "categories"]
