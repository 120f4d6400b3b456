"""`python -m bench engines` and `python -m bench review` cannot rot: small runs on both engines complete
and print their figures (the full benchmarks are `make bench`, not tests). They start their own
PostgreSQL server (bench.pg_server); the `postgres` fixture is asked for so that they skip, or fail
under CI, where no server can be started, as the store's PostgreSQL tests do."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.postgres import PostgresServer

ROOT = Path(__file__).resolve().parent.parent.parent


def _bench(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_a_small_engines_benchmark_runs_the_daemon_on_both_engines(postgres: PostgresServer) -> None:
    out = _bench(
        "engines", "--events", "5000", "--tracked", "500", "--queue-events", "1000", "--queue-edits", "50",
        "--repeat", "1",
    )  # fmt: skip
    assert "fsync = on" in out, out
    for workload, unit in (("ingest", "events/s"), ("queue", "records/s")):
        block = out.split(f"\n{workload}: ", 1)[1]
        for engine in ("sqlite", "postgresql"):
            assert re.search(rf"{engine} +[\d,]+ {unit} .*\(ok\)", block), (workload, engine, out)
        assert re.search(r"PostgreSQL / SQLite: [\d.]+", block), out
    assert "saw 1,000, matched 50 (ok)" in out, out


@pytest.mark.slow
def test_a_small_review_benchmark_times_the_first_page_on_both_engines(postgres: PostgresServer) -> None:
    out = _bench("review", "--changes", "3000", "--requests", "3")
    assert re.search(r"made 3,000 changes \([\d,]+ accepted, [\d,]+ pending, [\d,]+ rejected\)", out), out
    for engine in ("sqlite", "postgresql"):
        assert re.search(rf"{engine} +median +[\d.]+ ms +p95 +[\d.]+ ms", out), (engine, out)
        assert re.search(rf"the page's \d+ statements on {engine}", out), (engine, out)
    assert re.search(r"PostgreSQL / SQLite \(median\): [\d.]+", out), out


def test_a_small_tallies_benchmark_times_the_writes_with_and_without_the_triggers(
    postgres: PostgresServer,
) -> None:
    out = _bench("tallies", "--changes", "300", "--rounds", "1")
    assert re.search(r"300 changes queued, then accepted 500 at a time", out), out
    for engine in ("sqlite", "postgresql"):
        assert re.search(
            rf"{engine} +queued +\d+/s \(without the triggers +\d+/s: [\d.]+\) +accepted +\d+/s \(without +\d+/s: [\d.]+\)",
            out,
        ), (engine, out)
