"""Listed files resolve 50 titles a request, 500 where the account has ``apihighlimits`` (asked through
``meta=userinfo``), with progress lines in the journal and the count of requests logged."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.config import USER_AGENT
from tests.support.core import QuietProgress
from watcher.config import Config, parse_config
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi
from watcher.store import Database
from watcher.tracking import resolver as resolver_module
from watcher.tracking.resolver import Progress, TrackedSet, TrackingResolver


class HighLimitsPeer(ActionApiPeer):
    """The stand-in for an account with ``apihighlimits``: ``meta=userinfo`` says so, and ``titles``
    takes 500 values, as MediaWiki's ``highlimit``."""

    def __init__(self) -> None:
        super().__init__(max_values=500)

    def answer(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("meta") == "userinfo":
            rights = ["read", "apihighlimits"]
            return {
                "batchcomplete": True,
                "query": {"userinfo": {"id": 7, "name": "Museum bot", "rights": rights}},
            }
        return super().answer(params)


def titles(count: int) -> list[str]:
    return [f"File:Listed object {n} - EXM {n}.jpg" for n in range(count)]


def listed_config(tmp_path: Path, names: list[str]) -> Config:
    listing = tmp_path / "files.txt"
    listing.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    return parse_config(
        f'[watcher]\nuser_agent = "{USER_AGENT}"\n[tracking]\nfiles_from = "{listing}"\n', tmp_path / "c.toml"
    )


async def resolve(peer: ActionApiPeer, db: Database, cfg: Config) -> int:
    """Resolve; the number of files now tracked."""
    async with ActionApi(peer.url, USER_AGENT, maxlag=None) as api:
        report = await TrackingResolver(
            cfg.tracking, api, db, TrackedSet(), progress=QuietProgress
        ).resolve_all()
    return report.files


def info_batches(peer: ActionApiPeer) -> list[int]:
    """How many titles each prop=info request asked for, in order."""
    return [len(r.params["titles"].split("|")) for r in peer.requests if r.params.get("prop") == "info"]


@pytest.fixture
async def peer() -> AsyncIterator[ActionApiPeer]:
    async with ActionApiPeer() as started:
        for name in titles(120):
            started.add_page(name, "An object.")
        yield started


async def test_listed_files_resolve_fifty_titles_a_request(
    peer: ActionApiPeer, db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "watcher.tracking")
    assert await resolve(peer, db, listed_config(tmp_path, titles(120))) == 120
    assert info_batches(peer) == [50, 50, 20]
    assert "resolved 120 listed titles in 4 requests of up to 50 titles" in caplog.text  # and meta=userinfo


async def test_an_account_with_apihighlimits_resolves_five_hundred_a_request(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "watcher.tracking")
    names = titles(1200)
    async with HighLimitsPeer() as peer:
        for name in names:
            peer.add_page(name, "An object.")
        assert await resolve(peer, db, listed_config(tmp_path, names)) == 1200
        assert info_batches(peer) == [500, 500, 200]
        assert len(peer.requests_with(meta="userinfo")) == 1
    assert "resolved 1200 listed titles in 4 requests of up to 500 titles" in caplog.text


async def test_a_short_list_asks_nothing_about_the_account(
    peer: ActionApiPeer, db: Database, tmp_path: Path
) -> None:
    assert await resolve(peer, db, listed_config(tmp_path, titles(30))) == 30
    assert info_batches(peer) == [30]
    assert not peer.requests_with(meta="userinfo")


async def test_resolution_progress_goes_to_the_journal(
    peer: ActionApiPeer,
    db: Database,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO, "watcher.tracking")
    monkeypatch.setattr(resolver_module, "PROGRESS_LOG_SECONDS", 0.0)
    async with ActionApi(peer.url, USER_AGENT, maxlag=None) as api:
        cfg = listed_config(tmp_path, titles(120))

        def journal(label: str) -> Progress:
            return Progress(label, enabled=False)  # not a terminal: lines in the journal

        await TrackingResolver(cfg.tracking, api, db, TrackedSet(), progress=journal).resolve_all()
    lines = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("resolving the listed files")
    ]
    assert lines == [
        "resolving the listed files: 50 of 120 (42%) so far",
        "resolving the listed files: 100 of 120 (83%) so far",
        "resolving the listed files: 120 of 120 (100%) so far",
    ]
