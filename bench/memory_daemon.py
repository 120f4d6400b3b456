"""The daemon's resident memory with a large tracked set in one collection and in fifty (issue 19).

``watcher run`` runs as a subprocess, as users run it, three times in one run against the same
Action API stand-in (its own process, a wiki of every tracked file) and the same loopback firehose
(its own process, a short backlog of untracked events, then an idle open connection):

- **empty**: no tracked files (an empty ``files_from``), the baseline;
- **one collection**: ``n`` tracked files in ``[tracking]`` (the collection ``default``);
- **fifty collections**: the same ``n`` files in 50 ``[[collection]]`` tables, each file in 1–3 of
  them (2 on average), each collection with its own ``files_from`` list and object id rule.

The databases are filled by direct SQL (the schema made by ``Database.connect``, so the migrations
run), exactly as a resolution would leave them, so each daemon starts on a stored set: it loads it,
connects at once and refreshes it in the background (a restart resolves the stored set again at
once, whatever ``refresh_hours`` says: ``Daemon._tracking_loop``). Each one is measured once it has
taken the firehose's events, its background refresh has logged its end and it has idled
:data:`SETTLE_S`: ``VmRSS`` (the median of a few readings) and ``VmHWM`` from ``/proc/PID/status``.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.bench_ingest import Hose, Proc, _daemon, _status
from bench.ingest_data import UA, Plan, config_text, tracked_title, wiki, write_body
from watcher.store.db import Database, utcnow

COLLECTIONS = 50
EVENTS = 2_000  # the firehose's backlog: untracked events, then an idle connection, as on a quiet day
SETTLE_S = 5.0
READINGS = 5
REFRESH_LIMIT_S = 1800.0
SEED = 19
IDLE_STREAM = "[stream]\nread_timeout = 3600.0\n"


@dataclass(frozen=True)
class Reading:
    """One daemon's memory, in bytes, once settled."""

    name: str
    rss: int
    hwm: int
    tracked: int
    refresh_s: float


def collection_name(i: int) -> str:
    return f"museum-{i + 1:02d}"


def memberships(n: int, collections: int = COLLECTIONS, seed: int = SEED) -> list[list[int]]:
    """Collection index → the file numbers it holds: each file in 1, 2 or 3 collections (2 on average)."""
    rng = random.Random(seed)
    held: list[list[int]] = [[] for _ in range(collections)]
    for k in range(n):
        for c in rng.sample(range(collections), rng.choice((1, 2, 3))):
            held[c].append(k)
    return held


def collections_config_text(database: Path | str, stream_url: str, api_url: str, lists: list[Path]) -> str:
    """A config with one ``[[collection]]`` table per list (``watcher check`` accepts it)."""
    head = f"""[watcher]
database = "{database}"
user_agent = "{UA}"

[stream]
url = "{stream_url}"

[wiki]
name = "commonswiki"
api_url = "{api_url}"

[labels]
languages = []
"""
    tables = [
        f"""
[[collection]]
name = "{collection_name(i)}"
title = "Museum {i + 1}"
files_from = "{path}"

[[collection.object_id]]
pattern = ' - EXM (\\d+)\\.\\w+$'
"""
        for i, path in enumerate(lists)
    ]
    return head + "".join(tables)


async def _migrate(path: Path) -> None:
    db = await Database.connect(path)
    await db.close()


def fill(path: Path, held: dict[str, list[int]]) -> None:
    """The tracked set a resolution of ``held`` (collection → file numbers) leaves, by direct SQL."""
    asyncio.run(_migrate(path))
    now = utcnow()
    files = sorted({k for ks in held.values() for k in ks})
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO tracked_files (title, pageid, state, added_at, updated_at) VALUES (?, ?, 'active', ?, ?)",
            ((tracked_title(k), k + 1, now, now) for k in files),
        )
        for collection, ks in held.items():
            conn.executemany(
                "INSERT INTO tracked_reasons (title, source, detail, collection, added_at) "
                "VALUES (?, 'file', 'config', ?, ?)",
                ((tracked_title(k), collection, now) for k in ks),
            )
    conn.close()


def _write_list(path: Path, ks: list[int]) -> Path:
    path.write_text("".join(f"{tracked_title(k)}\n" for k in ks), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Prepared:
    empty: Path
    one: Path
    fifty: Path
    reasons: int  # collection memberships of the fifty-collection set


def prepare(work: Path, n: int, stream_url: str, api_url: str) -> Prepared:
    """The three configs and databases; ``watcher check`` must accept the fifty-collection config."""
    for name in ("empty", "one", "fifty"):  # fresh each run: a stored set of an earlier run would differ
        shutil.rmtree(work / name, ignore_errors=True)
        (work / name).mkdir(parents=True)
    empty_list = _write_list(work / "empty" / "none.txt", [])
    every = list(range(n))
    one_list = _write_list(work / "one" / "titles.txt", every)
    held = memberships(n)
    lists = [_write_list(work / "fifty" / f"{collection_name(c)}.txt", ks) for c, ks in enumerate(held)]
    configs: dict[str, Path] = {}
    texts = {
        "empty": config_text(work / "empty" / "watcher.sqlite3", stream_url, api_url, empty_list),
        "one": config_text(work / "one" / "watcher.sqlite3", stream_url, api_url, one_list),
        "fifty": collections_config_text(work / "fifty" / "watcher.sqlite3", stream_url, api_url, lists),
    }
    for name, text in texts.items():
        configs[name] = work / name / "config.toml"
        # The firehose idles after its backlog, with no heartbeat: one connection for the whole reading.
        configs[name].write_text(text.replace("[stream]\n", IDLE_STREAM, 1), encoding="utf-8")
    check = subprocess.run(
        [sys.executable, "-m", "watcher", "check", "-c", str(configs["fifty"])],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise RuntimeError(f"watcher check refused the 50-collection config:\n{check.stdout}{check.stderr}")
    fill(work / "empty" / "watcher.sqlite3", {})
    fill(work / "one" / "watcher.sqlite3", {"default": every})
    fill(work / "fifty" / "watcher.sqlite3", {collection_name(c): ks for c, ks in enumerate(held)})
    return Prepared(configs["empty"], configs["one"], configs["fifty"], sum(len(ks) for ks in held))


def write_stand_in_data(work: Path, n: int) -> None:
    """The firehose's body (untracked events only) and the stand-in's wiki of the ``n`` files."""
    plan = Plan(EVENTS, n, 0)
    write_body(plan, work / "body.sse", work / "body.index")
    (work / "wiki.json").write_text(json.dumps(wiki(plan)), encoding="utf-8")


def proc_status(pid: int) -> dict[str, int]:
    """``VmRSS``, ``VmHWM`` and the other ``kB`` lines of /proc/PID/status, in bytes."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key] = int(parts[0]) * 1024
    return out


def _wait(what: str, done: Callable[[], bool], daemon: Proc, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not done():
        if daemon.proc.poll() is not None:
            raise RuntimeError(f"the daemon exited ({daemon.proc.returncode}):\n{daemon.log_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not within {limit:g} s:\n{daemon.log_text()[-3000:]}")
        time.sleep(0.2)


def measure_daemon(name: str, config: Path, hose: Hose, collections: int, tracked: int) -> Reading:
    """Start ``watcher run -c config``; once it took the events and refreshed its set, settle, read."""
    number = len(hose.connections()) + 1
    refreshed = re.compile(
        rf"tracked set resolved: [\d,]+ files in {collections} collections"
        if collections > 1
        else r"tracked set resolved: [\d,]+ files \("
    )
    started = time.monotonic()
    daemon = _daemon(config, config.with_name("daemon.log"))
    try:
        hose.wait_done(number, REFRESH_LIMIT_S, daemon)
        _wait("the events seen", lambda: _status(config)["events_seen"] >= EVENTS, daemon, 120)
        _wait(
            "the background refresh",
            lambda: bool(refreshed.search(daemon.log_text())),
            daemon,
            REFRESH_LIMIT_S,
        )
        refresh_s = time.monotonic() - started
        files = _status(config)["tracked_files"]
        if files != tracked:
            raise RuntimeError(
                f"{name}: {files:,} tracked files, not {tracked:,}:\n{daemon.log_text()[-3000:]}"
            )
        time.sleep(SETTLE_S)
        rss: list[int] = []
        for _ in range(READINGS):
            rss.append(proc_status(daemon.proc.pid)["VmRSS"])
            time.sleep(1.0)
        hwm = proc_status(daemon.proc.pid)["VmHWM"]
        if hose.connections()[number - 1]["closed"] is not None:
            raise RuntimeError(f"{name}: the daemon's stream connection closed:\n{daemon.log_text()[-3000:]}")
    finally:
        daemon.stop()
    return Reading(name, int(statistics.median(rss)), hwm, tracked, refresh_s)


def measure(n: int, work: Path) -> list[Reading]:
    """The three daemons, one after the other, against one stand-in and one firehose."""
    started = time.perf_counter()
    write_stand_in_data(work, n)
    api = Proc([sys.executable, "-m", "watcher.demo.standins.action_api", "--data", str(work / "wiki.json")])
    hose = Hose(work, EVENTS)
    try:
        prepared = prepare(work, n, hose.url, api.first)
        print(
            f"  prepared {n:,} files (in 50 collections: {prepared.reasons:,} memberships, "
            f"{prepared.reasons / max(n, 1):.2f} a file) and the stand-ins in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        return [
            measure_daemon("empty (no tracked files)", prepared.empty, hose, 1, 0),
            measure_daemon(f"{n:,} titles, 1 collection", prepared.one, hose, 1, n),
            measure_daemon(f"{n:,} titles, {COLLECTIONS} collections", prepared.fifty, hose, COLLECTIONS, n),
        ]
    finally:
        hose.proc.stop()
        api.stop()
