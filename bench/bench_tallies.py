"""What the change tallies' triggers cost the writes, on SQLite and PostgreSQL (issue 20).

The review page reads its counts from ``change_tallies`` (watcher.store.tally_tables), kept by triggers
on every write of ``changes``. Here the writes the daemon and the review page make are timed on a fresh
store of each engine, with the triggers and, as the baseline in the same run, with them dropped: N
changes queued by ``insert_changes`` (three collections, a file in two of them now and then), then every
one accepted by ``reviews.review`` in reviews of 500. Rounds alternate between the two, so that both
see the same machine; the best round of each counts. PostgreSQL: a temporary cluster on loopback with
fsync on (:mod:`bench.pg_server`).

    python -m bench tallies [--changes N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench.pg_server import create_database, deployment_server
from tests.support.queue_sample import fill_queue
from watcher.store import reviews
from watcher.store.db import Database
from watcher.store.engine import Store
from watcher.store.pg import PgDatabase
from watcher.store.tally_tables import TALLY_TRIGGERS

COLLECTIONS = ("hallwyl", "armoury", "skokloster")
REVIEW_SIZE = 500


async def _drop_triggers(db: Store) -> None:
    async with db.transaction() as conn:
        if isinstance(db, PgDatabase):
            await conn.execute("DROP FUNCTION change_tallies_keep() CASCADE")
        else:
            for trigger in TALLY_TRIGGERS:
                await conn.execute(f"DROP TRIGGER {trigger}")


async def _writes(db: Store, changes: int, triggers: bool) -> tuple[float, float]:
    """(changes queued a second, changes accepted a second) on ``db``, a fresh store."""
    if not triggers:
        await _drop_triggers(db)
    started = time.perf_counter()
    await fill_queue(db, changes, seed=3, collections=COLLECTIONS)
    queued = time.perf_counter() - started
    ids = [int(row[0]) for row in await db.fetchall("SELECT id FROM changes ORDER BY id")]
    started = time.perf_counter()
    for start in range(0, len(ids), REVIEW_SIZE):
        await reviews.review(db, ids[start : start + REVIEW_SIZE], "accept", actor="bench")
    accepted = time.perf_counter() - started
    return len(ids) / queued, len(ids) / accepted


async def _round(
    engine: str, server_dsn: str | None, work: Path, changes: int, triggers: bool
) -> tuple[float, float]:
    if engine == "sqlite":
        path = work / f"tallies-{triggers}.sqlite3"
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        db = await Database.connect(path)
        try:
            return await _writes(db, changes, triggers)
        finally:
            await db.close()
    assert server_dsn is not None
    async with PgDatabase.open(server_dsn) as pg:
        await pg.migrate()
        return await _writes(pg, changes, triggers)


def measure(changes: int = 20_000, rounds: int = 2) -> dict[str, float]:
    out: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory(prefix="watcher-bench-tallies-") as folder,
        deployment_server() as server,
    ):
        best: dict[tuple[str, bool], tuple[float, float]] = {}
        for _ in range(rounds):
            for triggers in (False, True):
                for engine in ("sqlite", "postgresql"):
                    dsn = (
                        asyncio.run(create_database(server, "bench_tallies"))
                        if engine == "postgresql"
                        else None
                    )
                    queued, accepted = asyncio.run(_round(engine, dsn, Path(folder), changes, triggers))
                    was = best.get((engine, triggers), (0.0, 0.0))
                    best[engine, triggers] = (max(was[0], queued), max(was[1], accepted))
        print(f"{changes:,} changes queued, then accepted {REVIEW_SIZE} at a time; best of {rounds} rounds:")
        for engine in ("sqlite", "postgresql"):
            (queued, accepted), (bare_queued, bare_accepted) = best[engine, True], best[engine, False]
            print(
                f"  {engine:10} queued {queued:7.0f}/s (without the triggers {bare_queued:7.0f}/s: "
                f"{queued / bare_queued:.2f})  accepted {accepted:7.0f}/s (without {bare_accepted:7.0f}/s: "
                f"{accepted / bare_accepted:.2f})"
            )
            out[f"{engine}_queued_ratio"] = queued / bare_queued
            out[f"{engine}_accepted_ratio"] = accepted / bare_accepted
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench tallies", description=__doc__.split("\n")[0])
    ap.add_argument("--changes", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args([] if argv is None else argv)
    measure(args.changes, args.rounds)


if __name__ == "__main__":
    main(sys.argv[1:])
