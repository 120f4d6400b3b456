"""Ingest and queue throughput of the daemon on SQLite and on PostgreSQL, in the same run (issue 20).

``watcher run`` runs as a subprocess, as in :mod:`bench.bench_ingest`, once on a fresh SQLite file and
once on a fresh PostgreSQL database (a temporary cluster on loopback with fsync on:
:mod:`bench.pg_server`), against the same loopback firehose serving the same bytes and the same Action
API stand-in (the same tracked set). Two workloads:

- **ingest**: realistic events (:mod:`bench.ingest_data`, 0.05 % of them edits of tracked files), timed
  from the first event byte to the last (the firehose notes both), counted once ``watcher status``
  shows every event seen;
- **queue**: a replay in which a large share of the events are edits of tracked files, which the
  fetch worker fetches from the stand-in, diffs and queues; timed from the first event byte until
  ``changes`` holds every record and the inbox is empty (the store polled every 0.1 s).

Rounds alternate which engine goes first; the best round of each engine counts (the machine is
shared). Prints events/s and records/s on each engine and the ratio PostgreSQL / SQLite.

    python -m bench engines [--events N] [--tracked N] [--queue-events N] [--queue-edits N]
                            [--repeat R] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.bench_ingest import Hose, Proc, Timed, _daemon, _prepare, _wait_seen
from bench.ingest_data import Plan, config_text
from bench.pg_server import create_database, deployment_server, describe, settings
from tests.support.postgres import PostgresServer
from watcher.store.open import connect_store
from watcher.stream import native

ENGINES = ("sqlite", "postgresql")
POLL_S = 0.1
QUEUE_LIMIT_S = 900.0


@dataclass
class EngineRun:
    engine: str
    timed: Timed  # the daemon's first connection, first event byte to last
    seen: int
    matched: int
    changes: int  # change records in the store once the worker was done
    queued_after: float  # seconds from the first event byte until every record was in `changes`

    @property
    def records_rate(self) -> float:
        return self.changes / self.queued_after


async def _wait_queued(location: str, expected: int, since: float, daemon: Proc) -> tuple[int, float]:
    """Poll the store until ``changes`` holds ``expected`` records and no fetch work is pending; the
    count and the seconds since ``since`` (time.monotonic(), the firehose's clock too)."""
    deadline = time.monotonic() + QUEUE_LIMIT_S
    db = await connect_store(location, create=False, migrate=False)
    try:
        while True:
            changes = int(await db.scalar("SELECT count(*) FROM changes"))
            pending = int(await db.scalar("SELECT count(*) FROM inbox WHERE state = 'pending'"))
            now = time.monotonic()
            if changes >= expected and pending == 0:
                return changes, now - since
            if now > deadline:
                raise RuntimeError(
                    f"after {QUEUE_LIMIT_S:g} s: {changes} of {expected} records, {pending} pending"
                )
            if daemon.proc.poll() is not None:
                raise RuntimeError(
                    f"the daemon exited ({daemon.proc.returncode}):\n{daemon.log_text()[-3000:]}"
                )
            await asyncio.sleep(POLL_S)
    finally:
        await db.close()


def _location(engine: str, server: PostgresServer, run: Path, name: str) -> str:
    if engine == "sqlite":
        return str(run / "watcher.sqlite3")
    return asyncio.run(create_database(server, name))


def _run_daemon(
    engine: str, location: str, hose: Hose, api_url: str, work: Path, run: Path, events: int, expected: int
) -> EngineRun:
    """A first start of the daemon on a fresh store: it resolves the listed files, connects, takes the
    stream; timed as :mod:`bench.bench_ingest` times it, then until the worker has queued everything."""
    run.mkdir(parents=True)
    config = run / "config.toml"
    config.write_text(config_text(location, hose.url, api_url, work / "titles.txt"))
    number = len(hose.connections()) + 1
    daemon = _daemon(config, run / "daemon.log")
    try:
        first = hose.wait_done(number, 1800, daemon)
        changes, queued_after = asyncio.run(_wait_queued(location, expected, first["first_byte"], daemon))
        status = _wait_seen(config, events, daemon)
        return EngineRun(
            engine,
            hose.timed(f"{engine} (watcher run, end to end)", number),
            status["events_seen"],
            status["events_matched"],
            changes,
            queued_after,
        )
    finally:
        daemon.stop()


def _workload(
    label: str, plan: Plan, work: Path, server: PostgresServer, repeat: int
) -> dict[str, list[EngineRun]]:
    """Every round: the daemon on each engine (alternating which goes first), same firehose, same wiki."""
    work.mkdir(parents=True, exist_ok=True)
    _prepare(work, plan)
    expected = plan.matching  # one record per edit of a tracked file (a French description added)
    api = Proc([sys.executable, "-m", "watcher.demo.standins.action_api", "--data", str(work / "wiki.json")])
    hose = Hose(work, plan.events)
    runs: dict[str, list[EngineRun]] = {engine: [] for engine in ENGINES}
    try:
        for round_ in range(max(1, repeat)):
            order = ENGINES if round_ % 2 == 0 else ENGINES[::-1]
            for engine in order:
                run = work / "run" / f"{engine}-{round_ + 1}"
                shutil.rmtree(run, ignore_errors=True)
                location = _location(engine, server, run, f"bench_{label}_{round_ + 1}")
                result = _run_daemon(engine, location, hose, api.first, work, run, plan.events, expected)
                runs[engine].append(result)
                print(
                    f"  [{label} round {round_ + 1}] {engine:10} {result.timed.rate:>11,.0f} events/s, "
                    f"{result.changes:,} records in {result.queued_after:.1f} s "
                    f"({result.records_rate:,.0f}/s)",
                    flush=True,
                )
    finally:
        hose.proc.stop()
        api.stop()
    return runs


def _report(label: str, plan: Plan, runs: dict[str, list[EngineRun]], by: str) -> dict[str, float]:
    """The best round of each engine (by events/s or by records/s) and the ratio PostgreSQL / SQLite."""

    def rate(run: EngineRun) -> float:
        return run.timed.rate if by == "events" else run.records_rate

    unit = "events/s" if by == "events" else "records/s"
    best = {engine: max(rs, key=rate) for engine, rs in runs.items()}
    print(
        f"{label}: {plan.events:,} events, {plan.tracked:,} tracked files, {plan.matching:,} edits of them "
        f"({plan.matching / plan.events:.2%}); best of {len(runs['sqlite'])} round(s) by {unit}"
    )
    for engine, top in best.items():
        rounds = ", ".join(f"{rate(r):,.0f}" for r in runs[engine])
        ok = all(r.seen >= plan.events and r.changes >= plan.matching for r in runs[engine])
        print(
            f"  {engine:10} {rate(top):>11,.0f} {unit}  (rounds: {rounds}); ingest {top.timed.rate:,.0f} events/s, "
            f"{top.changes:,} records queued {top.queued_after:.1f} s after the first event byte; "
            f"saw {top.seen:,}, matched {top.matched:,} ({'ok' if ok else 'INCOMPLETE'})"
        )
    ratio = rate(best["postgresql"]) / rate(best["sqlite"])
    print(f"  PostgreSQL / SQLite: {ratio:.2f}")
    return {f"{engine}_{by}_per_s": rate(top) for engine, top in best.items()} | {f"{by}_ratio": ratio}


def measure(
    events: int = 1_000_000,
    tracked: int = 100_000,
    share: float = 0.0005,
    queue_events: int = 50_000,
    queue_edits: int = 5_000,
    repeat: int = 2,
    workdir: Path | None = None,
) -> dict[str, float]:
    own = workdir is None
    work = Path(tempfile.mkdtemp(prefix="watcher-bench-engines-")) if workdir is None else workdir
    ingest_plan = Plan(events, tracked, max(1, round(share * events)))
    queue_plan = Plan(queue_events, max(queue_edits, 1), queue_edits, seed=7)
    try:
        with deployment_server() as server:
            print(f"PostgreSQL: a temporary cluster on loopback, {describe(asyncio.run(settings(server)))}")
            print(
                f"SQLite: the watcher's own settings (WAL, synchronous = FULL); stream: {native.describe()}"
            )
            ingest = _workload("ingest", ingest_plan, work / "ingest", server, repeat)
            queue = _workload("queue", queue_plan, work / "queue", server, repeat)
        out = _report("ingest", ingest_plan, ingest, "events")
        out |= _report("queue", queue_plan, queue, "records")
        return out
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench engines", description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=int(os.environ.get("BENCH_ENGINES_EVENTS", "1000000")))
    ap.add_argument("--tracked", type=int, default=100_000)
    ap.add_argument(
        "--matching", type=float, default=0.0005, help="share of ingest events that edit a tracked file"
    )
    ap.add_argument("--queue-events", type=int, default=50_000)
    ap.add_argument("--queue-edits", type=int, default=5_000, help="edits of tracked files among them")
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "2")), help="rounds")
    ap.add_argument("--workdir", type=Path, default=None, help="keep (and reuse) the built events here")
    args = ap.parse_args([] if argv is None else argv)
    measure(
        args.events,
        args.tracked,
        args.matching,
        args.queue_events,
        args.queue_edits,
        args.repeat,
        args.workdir,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
