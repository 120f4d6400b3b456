"""Interrupted anywhere — cancelled mid-request (as SIGINT does) or SIGKILLed as a process — and started
again, a history run ends with exactly the records of an uninterrupted one, and repeats little work."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.config import USER_AGENT
from tests.support.history import Collection, record_keys, write_config
from tests.support.processes import stop_process
from watcher.config import Config
from watcher.demo.standins.action_api import ActionApiPeer, RecordedRequest
from watcher.history.run import HistoryOptions, HistoryRun
from watcher.mediawiki.client import ActionApi
from watcher.store import Database
from watcher.tracking.resolver import TrackedSet, TrackingResolver

REPO = Path(__file__).resolve().parents[2]


async def _reference(
    peer: ActionApiPeer, config: Config, tmp_path: Path, options: HistoryOptions
) -> tuple[list[tuple[object, ...]], int]:
    """Records and request count of an uninterrupted run on a database of its own."""
    async with Database.open(tmp_path / "reference.sqlite3") as db, ActionApi(peer.url, USER_AGENT) as api:
        await TrackingResolver(config.tracking, api, db, TrackedSet()).resolve_all()
        report = await HistoryRun(db, api, config, options).run()
        return record_keys(await db.fetchall("SELECT * FROM changes")), report.requests


async def _interrupted_then_resumed(
    peer: ActionApiPeer, config: Config, path: Path, options: HistoryOptions, cut_at: list[int]
) -> tuple[list[tuple[object, ...]], int, list[bool]]:
    """Cancel the run when the stand-in receives its ``cut_at[i]``-th request (counted per attempt), then
    start it again; returns the final records, the requests all attempts made, and which were resumes."""
    resumed: list[bool] = []
    async with Database.open(path) as db, ActionApi(peer.url, USER_AGENT) as api:
        await TrackingResolver(config.tracking, api, db, TrackedSet()).resolve_all()
        first = len(peer.requests)
        for limit in [*cut_at, None]:
            start = len(peer.requests)
            task = asyncio.create_task(HistoryRun(db, api, config, options).run())

            def interrupt(
                request: RecordedRequest,
                start: int = start,
                limit: int | None = limit,
                task: asyncio.Task[object] = task,
            ) -> None:
                if limit is not None and len(peer.requests) - start == limit:
                    task.cancel()

            peer.on_request = interrupt
            try:
                report = await task
            except asyncio.CancelledError:
                assert limit is not None
                continue
            finally:
                peer.on_request = None
            resumed.append(report.resumed)
            assert limit is None, f"the run ended before its request {limit}"
        assert report.finished
        return record_keys(await db.fetchall("SELECT * FROM changes")), len(peer.requests) - first, resumed


async def test_cancelled_in_every_phase_it_resumes_to_the_same_records(
    peer: ActionApiPeer, collection: Collection, config: Config, tmp_path: Path
) -> None:
    options = HistoryOptions()
    expected, reference_requests = await _reference(peer, config, tmp_path, options)
    assert len(expected) > 100 and reference_requests >= 10
    # Cut at each request of the run: the generator, the contributions, the walk, the groups, the content.
    for cut in range(1, reference_requests + 1):
        records, requests, _ = await _interrupted_then_resumed(
            peer, config, tmp_path / f"cut{cut}.sqlite3", options, [cut]
        )
        assert records == expected, f"cancelled at request {cut}"
        assert requests <= reference_requests + 2, f"cancelled at request {cut}: {requests} requests"


async def test_interrupted_twice_and_with_since(
    peer: ActionApiPeer, collection: Collection, config: Config, tmp_path: Path
) -> None:
    options = HistoryOptions(since="2022-01-01T00:00:00Z")
    expected, _ = await _reference(peer, config, tmp_path, options)
    records, _, resumed = await _interrupted_then_resumed(
        peer, config, tmp_path / "twice.sqlite3", options, [3, 2]
    )
    assert records == expected and resumed == [True]


async def test_an_unfinished_run_with_other_options_is_not_left_half_done(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    from watcher.history.progress import HistoryConflict

    task = asyncio.create_task(HistoryRun(db, api, config, HistoryOptions()).run())

    def interrupt(request: RecordedRequest) -> None:
        if request.params.get("list") == "usercontribs":
            task.cancel()

    peer.on_request = interrupt
    with pytest.raises(asyncio.CancelledError):
        await task
    peer.on_request = None
    with pytest.raises(HistoryConflict, match="--restart"):
        await HistoryRun(db, api, config, HistoryOptions(since="2022-01-01")).run()
    report = await HistoryRun(db, api, config, HistoryOptions(since="2022-01-01", restart=True)).run()
    assert report.finished and not report.resumed
    states = [row[0] for row in await db.fetchall("SELECT state FROM history_runs ORDER BY id")]
    assert states == ["abandoned", "done"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
async def test_killed_or_interrupted_process_resumes_to_the_same_records(
    peer: ActionApiPeer, collection: Collection, tmp_path: Path, sig: signal.Signals
) -> None:
    """`watcher history` as a process, signalled while the stand-in answers its content requests."""
    config, config_path = write_config(tmp_path, peer.url)
    expected, _ = await _reference(peer, config, tmp_path, HistoryOptions())
    command = [sys.executable, "-m", "watcher.cli.history", "-c", str(config_path)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = await asyncio.create_subprocess_exec(
        *command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    contents = 0

    def kill_in_the_middle(request: RecordedRequest) -> None:
        nonlocal contents
        if "content" in request.params.get("rvprop", ""):
            contents += 1
            if contents == 3:  # records of two batches are committed, the third batch is in flight
                process.send_signal(sig)

    peer.on_request = kill_in_the_middle
    try:
        _, stderr = await process.communicate()
    finally:
        peer.on_request = None
        await stop_process(process)
    if sig == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 130 and "run the same `watcher history` command again" in stderr.decode()
    async with Database.open(tmp_path / "w.sqlite3") as db:
        partial = await db.scalar("SELECT count(*) FROM changes")
        assert 0 < partial < len(expected)
    again = await asyncio.create_subprocess_exec(
        *command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        out, err = await again.communicate()
    finally:
        await stop_process(again)
    assert again.returncode == 0, err.decode()
    assert "(resumed)" in out.decode()
    async with Database.open(tmp_path / "w.sqlite3") as db:
        assert record_keys(await db.fetchall("SELECT * FROM changes")) == expected


async def test_only_the_latest_finished_run_keeps_its_file_rows(
    peer: ActionApiPeer, collection: Collection, config: Config, db: Database, api: ActionApi
) -> None:
    first = await HistoryRun(db, api, config, HistoryOptions()).run()
    second = await HistoryRun(db, api, config, HistoryOptions()).run()
    assert second.records == 0 and second.outcomes.get("skipped:covered") == len(collection.changed())
    rows = await db.fetchall("SELECT run_id, count(*) FROM history_progress GROUP BY run_id")
    assert [tuple(r) for r in rows] == [(second.run_id, len(collection.stories))]
    runs = await db.fetchall("SELECT id, state, requests FROM history_runs ORDER BY id")
    assert [(r[0], r[1]) for r in runs] == [(first.run_id, "done"), (second.run_id, "done")]
    assert runs[0][2] == first.requests > 0
