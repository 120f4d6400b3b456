"""The review page's first page with 1,000,000 changes in the store, on SQLite and PostgreSQL (issue 20).

Both stores get the same records (:mod:`bench.review_data`, filled by direct SQL: COPY on PostgreSQL),
then ``watcher serve`` runs as a subprocess on each at once (PostgreSQL: a temporary cluster on
loopback with fsync on, :mod:`bench.pg_server`). A client signs in through the sign-in form as a
curator would, then asks for each of :data:`VIEWS` N times: ``GET /`` (the queue's first page:
pending content changes, 50 a page, grouped by file) as an account of every collection, the same
grouped by edit, and the first page of a curator of one collection; alternating between the two
servers so that both see the same machine. Each request is timed from sending it to the last byte of
the page, over real HTTP on loopback. Target: median (and p95) of the first page under 100 ms on
either engine. The first request of each is cold (caches empty) and reported apart.

Then, in this process, the same page's statements (:mod:`watcher.web.queries` and
:mod:`watcher.web.present`, called as the page calls them) are timed one by one on each engine, and
on PostgreSQL ``EXPLAIN (ANALYZE, BUFFERS)`` of each statement over :data:`EXPLAIN_OVER_MS` is printed
(on SQLite ``EXPLAIN QUERY PLAN``): where the page's time goes.

    python -m bench review [--changes N] [--requests N] [--pending SHARE] [--workdir DIR] [--explain-all]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import aiohttp
import asyncpg

from bench import review_data
from bench.bench_ingest import Proc
from bench.memory_daemon import collection_name, collections_config_text
from bench.pg_server import create_database, deployment_server, describe, settings
from tests.support.ports import free_port
from watcher.store.engine import Store
from watcher.store.open import connect_store
from watcher.store.pg import translated
from watcher.web import auth, present, queries
from watcher.web.grouped import grouped_page, window_page

ENGINES = ("sqlite", "postgresql")
TARGET_MS = 100.0
EXPLAIN_OVER_MS = 10.0
USER, PASSWORD = "bench-curator", "a long bench password 2026"
CURATOR = "bench-museum-curator"  # an account of the largest collection only (collection_name(0))


@dataclass(frozen=True)
class View:
    """One page a curator opens: who asks (an account of every collection, or of one) and which."""

    label: str
    user: str
    path: str


# The first page as the agency sees it (the target), the same grouped by edit, and a museum's curator's.
VIEWS = (
    View("first page", USER, "/"),
    View("by edit", USER, "/?group=edit"),
    View("one collection's curator", CURATOR, "/"),
)
_LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')
NOWHERE = "http://127.0.0.1:9"  # `watcher serve` follows no stream and asks no wiki


@dataclass
class Statement:
    sql: str
    params: list[Any]
    seconds: list[float] = field(default_factory=list)

    def one_line(self, width: int = 110) -> str:
        text = " ".join(self.sql.split())
        return text if len(text) <= width else text[: width - 1] + "…"


class Recorder:
    """A store that notes every statement the page's functions send through it, with its time."""

    def __init__(self, db: Store) -> None:
        self.db = db
        self.statements: list[Statement] = []

    async def _timed(self, method: str, sql: str, params: Sequence[Any] = ()) -> Any:
        started = time.perf_counter()
        result = await getattr(self.db, method)(sql, params)
        self.statements.append(Statement(sql, list(params), [time.perf_counter() - started]))
        return result

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self._timed("fetchall", sql, params)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self._timed("fetchone", sql, params)

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self._timed("scalar", sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


async def queue_page_statements(db: Store, scope: queries.Scope) -> list[Statement]:
    """What ``GET /`` asks of the store (watcher.web.views.queue_page, call for call, bar the session
    and flash look-ups), each statement with its time."""
    recorder = Recorder(db)
    reader = cast(Store, recorder)
    query = queries.parse_query({}, scope)
    await queries.count(reader, query.selection)
    groups = await grouped_page(reader, query.selection, limit=query.per_page, offset=0, by=query.group)
    shown = [change for group in groups for change in group.changes]
    await present.cards(reader, shown, ("en",), query.selection, [c.id for c in shown])
    await present.thumbnail_urls(reader, [g.file for g in groups])
    await queries.status_counts(reader, query.selection)
    await queries.choices(reader, scope)
    return recorder.statements


async def counted_page_statements(db: Store, scope: queries.Scope) -> list[Statement]:
    """The baseline in the same run: the first page's reading before the change tallies and the walk
    (issue 20): the page count, status tabs and filter choices counted from ``changes``, and the page
    by the window statement over the whole selection (still the one for deep pages)."""
    recorder = Recorder(db)
    reader = cast(Store, recorder)
    query = queries.parse_query({}, scope)
    where, params = query.selection.where()
    await reader.scalar(f"SELECT count(*) FROM changes{where}", params)
    await window_page(reader, query.selection, query.per_page, 0, query.group)
    where, params = replace(query.selection, status="all").where()
    await reader.fetchall(f"SELECT status, count(*) FROM changes{where} GROUP BY status", params)
    await reader.fetchall("SELECT DISTINCT field FROM changes ORDER BY field")
    await reader.fetchall(
        "SELECT DISTINCT language FROM changes WHERE language IS NOT NULL ORDER BY language"
    )
    return recorder.statements


@dataclass
class Served:
    engine: str
    proc: Proc
    url: str
    session: aiohttp.ClientSession
    view: View = VIEWS[0]
    times_ms: list[float] = field(default_factory=list)
    cold_ms: float = 0.0
    size: int = 0


async def _sign_in(served: Served) -> None:
    """Through the sign-in form, as a browser does: its token, then the POST that sets the cookie."""
    async with served.session.get(served.url + "/login") as resp:
        token = _LOGIN_TOKEN.search(await resp.text())
    if token is None:
        raise RuntimeError(f"{served.engine}: no sign-in form at {served.url}/login")
    form = {"name": served.view.user, "password": PASSWORD, "login_token": token.group(1), "next": "/"}
    async with served.session.post(served.url + "/login", data=form, allow_redirects=False) as resp:
        if resp.status != 303:
            raise RuntimeError(
                f"{served.engine}: signing in answered {resp.status}: {(await resp.text())[:500]}"
            )


async def _get_page(served: Served) -> float:
    started = time.perf_counter()
    async with served.session.get(served.url + served.view.path, allow_redirects=False) as resp:
        body = await resp.read()
    elapsed = (time.perf_counter() - started) * 1000
    if resp.status != 200 or b"Museum object" not in body:
        raise RuntimeError(f"{served.engine}: GET {served.view.path} answered {resp.status}: {body[:300]!r}")
    served.size = len(body)
    return elapsed


async def _wait_up(served: Served, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if served.proc.proc.poll() is not None:
            raise RuntimeError(f"watcher serve on {served.engine} exited:\n{served.proc.log_text()[-3000:]}")
        try:
            async with served.session.get(served.url + "/login") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"watcher serve on {served.engine} did not answer in {limit:g} s")


async def _time_pages(configs: dict[str, Path], requests: int, work: Path) -> list[Served]:
    """Both servers up at once, each view signed in on each; ``requests`` timed pages of every view
    from each, alternating."""
    served: list[Served] = []
    procs: list[Proc] = []
    try:
        for engine, config in configs.items():
            port = free_port()
            cmd = [
                sys.executable,
                "-m",
                "watcher",
                "serve",
                "-c",
                str(config),
                "--listen",
                f"127.0.0.1:{port}",
            ]
            proc = Proc(cmd, work / f"serve-{engine}.log", first_line=False)
            procs.append(proc)
            for view in VIEWS:
                jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1, an address
                served.append(
                    Served(
                        engine, proc, f"http://127.0.0.1:{port}", aiohttp.ClientSession(cookie_jar=jar), view
                    )
                )
        for one in served:
            await _wait_up(one)
            await _sign_in(one)
        for one in served:
            one.cold_ms = await _get_page(one)
        for _ in range(requests):
            for one in served:
                one.times_ms.append(await _get_page(one))
    finally:
        for one in served:
            await one.session.close()
        for proc in procs:
            proc.stop()
    return served


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]


async def _add_user(location: str) -> None:
    db = await connect_store(location, create=False)
    try:
        await auth.add_user(db, USER, PASSWORD)
        await auth.add_user(db, CURATOR, PASSWORD, collections=[collection_name(0)])
    finally:
        await db.close()


async def _statements(
    location: str,
    scope: queries.Scope,
    runs: int = 5,
    page: Callable[[Store, queries.Scope], Awaitable[list[Statement]]] = queue_page_statements,
) -> list[Statement]:
    """The page's statements on one engine, each timed over ``runs`` page loads (the first discarded)."""
    db = await connect_store(location, create=False)
    try:
        await page(db, scope)  # warm, as the timed requests were
        found: list[Statement] = []
        for _ in range(runs):
            statements = await page(db, scope)
            if not found:
                found = statements
            else:
                for kept, again in zip(found, statements, strict=True):
                    kept.seconds += again.seconds
        return found
    finally:
        await db.close()


async def _explain_postgres(dsn: str, statements: list[Statement], every: bool) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for s in statements:
            if every or statistics.median(s.seconds) * 1000 >= EXPLAIN_OVER_MS:
                print(
                    f"\n  EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL of: {s.one_line(300)}\n  parameters: {s.params}"
                )
                for row in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + translated(s.sql), *s.params):
                    print(f"    {row[0]}")
    finally:
        await conn.close()


def _explain_sqlite(path: str, statements: list[Statement], every: bool) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for s in statements:
            if every or statistics.median(s.seconds) * 1000 >= EXPLAIN_OVER_MS:
                print(f"\n  EXPLAIN QUERY PLAN on SQLite of: {s.one_line(300)}")
                for row in conn.execute("EXPLAIN QUERY PLAN " + s.sql, s.params):
                    print(f"    {row[3]}")
    finally:
        conn.close()


def measure(
    changes: int = 1_000_000,
    requests: int = 50,
    pending: float = review_data.PENDING_SHARE,
    workdir: Path | None = None,
    explain_all: bool = False,
) -> dict[str, float]:
    own = workdir is None
    work = Path(tempfile.mkdtemp(prefix="watcher-bench-review-")) if workdir is None else workdir
    work.mkdir(parents=True, exist_ok=True)
    names = tuple(collection_name(i) for i in range(review_data.COLLECTIONS))
    scope = queries.Scope(None, names)
    out: dict[str, float] = {}
    try:
        started = time.perf_counter()
        records = review_data.rows(changes, pending=pending)
        counts = review_data.check(records)
        print(
            f"made {len(records):,} changes ({', '.join(f'{n:,} {s}' for s, n in sorted(counts.items()))}) "
            f"over {len({r[2] for r in records}):,} files in {len(names)} collections, "
            f"{len({r[4] for r in records}):,} edits, in {time.perf_counter() - started:.1f} s"
        )
        with deployment_server() as server:
            print(f"PostgreSQL: a temporary cluster on loopback, {describe(asyncio.run(settings(server)))}")
            locations = {
                "sqlite": str(work / "review.sqlite3"),
                "postgresql": asyncio.run(create_database(server, "bench_review")),
            }
            Path(locations["sqlite"]).unlink(missing_ok=True)
            started = time.perf_counter()
            review_data.fill_sqlite(Path(locations["sqlite"]), records)
            print(
                f"SQLite: filled in {time.perf_counter() - started:.1f} s (the watcher's settings: WAL, synchronous = FULL)"
            )
            started = time.perf_counter()
            asyncio.run(review_data.fill_postgres(locations["postgresql"], records))
            print(f"PostgreSQL: filled (COPY, then VACUUM ANALYZE) in {time.perf_counter() - started:.1f} s")
            del records
            lists = [work / f"{name}.txt" for name in names]
            for path in lists:
                path.write_text("File:Museum object 000001 - EXM 1.jpg\n", encoding="utf-8")
            configs: dict[str, Path] = {}
            for engine, location in locations.items():
                asyncio.run(_add_user(location))
                configs[engine] = work / f"config-{engine}.toml"
                configs[engine].write_text(
                    collections_config_text(
                        location, f"{NOWHERE}/v2/stream/recentchange", f"{NOWHERE}/w/api.php", lists
                    )
                )
            served = asyncio.run(_time_pages(configs, requests, work))
            for view in VIEWS:
                print(
                    f"GET {view.path} ({view.label}: {view.user}), {requests} requests each, alternating, over loopback HTTP:"
                )
                for one in (s for s in served if s.view == view):
                    median, high = statistics.median(one.times_ms), p95(one.times_ms)
                    verdict = "ok" if high < TARGET_MS else "MISSED"
                    print(
                        f"  {one.engine:10} median {median:7.1f} ms  p95 {high:7.1f} ms  max {max(one.times_ms):7.1f} ms  "
                        f"cold first {one.cold_ms:7.1f} ms  ({one.size // 1024} KiB)  target < {TARGET_MS:g} ms: {verdict}"
                    )
                    if view == VIEWS[0]:
                        out[f"{one.engine}_median_ms"], out[f"{one.engine}_p95_ms"] = median, high
            ratio = out["postgresql_median_ms"] / out["sqlite_median_ms"]
            print(f"  PostgreSQL / SQLite (median): {ratio:.2f}")
            for engine, location in locations.items():
                statements = asyncio.run(_statements(location, scope))
                total = sum(statistics.median(s.seconds) for s in statements) * 1000
                before = asyncio.run(_statements(location, scope, page=counted_page_statements))
                counted = sum(statistics.median(s.seconds) for s in before) * 1000
                print(
                    f"\nthe page's {len(statements)} statements on {engine} (median of 5 page loads, in this process): {total:.1f} ms in all"
                )
                for s in statements:
                    print(f"  {statistics.median(s.seconds) * 1000:8.2f} ms  {s.one_line()}")
                print(
                    f"baseline, same run: the page's reading before the tallies and the walk on {engine}: "
                    f"{counted:.1f} ms in all ({counted / max(total, 1e-6):.0f}x)"
                )
                for s in before:
                    print(f"  {statistics.median(s.seconds) * 1000:8.2f} ms  {s.one_line()}")
                if engine == "postgresql":
                    asyncio.run(_explain_postgres(location, statements, explain_all))
                else:
                    _explain_sqlite(location, statements, explain_all)
        return out
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench review", description=__doc__.split("\n")[0])
    ap.add_argument("--changes", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=50, help="timed requests of the first page, each engine")
    ap.add_argument(
        "--pending", type=float, default=review_data.PENDING_SHARE, help="share of the changes pending"
    )
    ap.add_argument("--workdir", type=Path, default=None, help="keep the stores and the servers' logs here")
    ap.add_argument(
        "--explain-all", action="store_true", help="print the plan of every statement, not just slow ones"
    )
    args = ap.parse_args([] if argv is None else argv)
    measure(args.changes, args.requests, args.pending, args.workdir, args.explain_all)


if __name__ == "__main__":
    main(sys.argv[1:])
