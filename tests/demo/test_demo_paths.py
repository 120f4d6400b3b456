"""Issue 17, item 6: the demo says where its config and database are, and the other commands work on
them; `status` on it agrees with what it printed (a last event of now, no replayed events counted
again); an idle demo is not taken for dead every read timeout (the stand-in keeps the stream alive)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner, Result

from tests.support.ports import free_port
from tests.support.processes import stop_process
from watcher.cli.main import main

DEMO = [sys.executable, "-m", "watcher", "demo"]


def printed(out: str, label: str) -> str:
    """The value the demo printed after ``  label: ``."""
    match = re.search(rf"^  {re.escape(label)}: (.+)$", out, re.MULTILINE)
    assert match is not None, out
    return match.group(1).strip()


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


async def ainvoke(*args: str) -> Result:
    """A command from an async test: it runs its own event loop, so in a thread."""
    return await asyncio.to_thread(invoke, *args)


async def status_of(config: str) -> dict[str, Any]:
    result = await ainvoke("status", "-c", config, "--format", "json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def age_seconds(stamp: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds()


async def test_the_printed_paths_work_with_the_other_commands(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    proc = await asyncio.create_subprocess_exec(
        *DEMO, "--stop-after-replay", "--port", str(free_port()), "--folder", str(folder),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 120)
    finally:
        await stop_process(proc)
    out = stdout.decode()
    assert proc.returncode == 0, stderr.decode()[-3000:]
    config, database = printed(out, "config"), printed(out, "database")
    assert Path(config) == folder.resolve() / "config.toml" and Path(database).is_file()
    assert f"watcher changes -c {config}" in out  # the hint names the same file
    queued = re.search(r"^The queue: (\d+) changes for curators \((\d+) maintenance", out, re.MULTILINE)
    assert queued is not None
    listed = await ainvoke("changes", "-c", config, "--format", "jsonl")
    assert listed.exit_code == 0, listed.output
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(records) == int(queued.group(1)) > 0
    assert {r["object_id"] for r in records} >= {"LRK 123", "SKO 1775"}
    # status counts what the demo printed, and its last event is of now, not of the recording.
    seen = re.search(r"^Events seen: (\d+), about tracked files: (\d+);", out, re.MULTILINE)
    assert seen is not None
    report = await status_of(config)
    assert (report["events_seen"], report["events_matched"]) == (int(seen.group(1)), int(seen.group(2)))
    assert report["events_duplicate"] == 0 and report["stream_reconnects"] == 0
    assert age_seconds(report["last_event_time"]) < 600
    # `tracked --stored` lists what the demo's look-up found, now that the stand-in wiki is gone.
    tracked = await ainvoke("tracked", "-c", config, "--stored", "--format", "jsonl")
    assert tracked.exit_code == 0, tracked.output
    ids = {json.loads(line)["object_id"] for line in tracked.stdout.splitlines()}
    assert {"LRK 123", "SKO 1775", "100002"} <= ids


async def test_a_temporary_demo_folder_is_named_and_said_to_go(tmp_path: Path) -> None:
    result = await ainvoke("demo", "--stop-after-replay", "--port", str(free_port()))
    assert result.exit_code == 0, result.output
    config = Path(printed(result.stdout, "config"))
    assert config.name == "config.toml" and not config.exists()  # removed as the demo stopped
    assert "`watcher demo --folder DIR` keeps it" in result.stdout


def test_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    (tmp_path / "something.txt").write_text("mine", encoding="utf-8")
    result = invoke("demo", "--stop-after-replay", "--folder", str(tmp_path))
    assert result.exit_code == 2 and "is not empty" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["something.txt"]


@pytest.fixture
async def running_demo(tmp_path: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, str, list[str]]]:
    """`watcher demo` serving after its replay, with a read timeout of 0.5 s; (process, stdout, stderr lines)."""
    proc = await asyncio.create_subprocess_exec(
        *DEMO, "--port", str(free_port()), "--folder", str(tmp_path / "demo"), "--read-timeout", "0.5",
        "--log-level", "info", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    errors: list[str] = []

    async def drain() -> None:
        assert proc.stderr is not None
        async for line in proc.stderr:
            errors.append(line.decode())

    draining = asyncio.create_task(drain())
    try:
        assert proc.stdout is not None
        out = ""
        deadline = time.monotonic() + 120
        while "Review page:" not in out:
            line = await asyncio.wait_for(proc.stdout.readline(), max(1.0, deadline - time.monotonic()))
            assert line, f"the demo ended early: {out}{''.join(errors)[-3000:]}"
            out += line.decode()
        yield proc, out, errors
    finally:
        await stop_process(proc)
        draining.cancel()


async def test_an_idle_demo_is_kept_alive_and_status_agrees(
    running_demo: tuple[asyncio.subprocess.Process, str, list[str]],
) -> None:
    proc, out, errors = running_demo
    stream_url = printed(out, "stand-in EventStreams")
    state_url = stream_url.split("/v2/", 1)[0] + "/_standin/state"
    config = printed(out, "config")
    # Idle for more than ten read timeouts: keep-alives every third of one, and still one connection.
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + 60
        while True:
            async with session.get(state_url) as response:
                state = await response.json()
            if state["keepalives"] >= 30:
                break
            assert time.monotonic() < deadline, state
            await asyncio.sleep(0.2)
    assert state["connections"] == 1, state
    assert not [line for line in errors if "taking it for dead" in line], errors
    # The other commands work on the printed paths while it runs, and status agrees with the demo.
    listed = await ainvoke("changes", "-c", config, "--format", "jsonl")
    assert listed.exit_code == 0 and listed.stdout.strip(), listed.output
    seen = re.search(r"^Events seen: (\d+), about tracked files: (\d+);", out, re.MULTILINE)
    assert seen is not None
    report = await status_of(config)
    assert report["daemon_running"] is True and report["stream_reconnects"] == 0
    assert (report["events_seen"], report["events_matched"]) == (int(seen.group(1)), int(seen.group(2)))
    assert age_seconds(report["last_event_time"]) < 600
    assert proc.returncode is None  # still serving


async def test_a_taken_port_moves_the_demos_page_elsewhere_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as holder:  # another program on the demo's port
        holder.bind(("127.0.0.1", port))
        holder.listen()
        result = await ainvoke("demo", "--stop-after-replay", "--port", str(port))
    assert result.exit_code == 0, result.output
    moved = re.search(r"the demo's review page uses port (\d+) instead", result.stdout)
    assert moved is not None and int(moved.group(1)) != port
