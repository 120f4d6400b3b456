"""Ingest throughput: events per second through SSE parsing, the prefilter and cursor bookkeeping.

The whole ``EventStream.batches()`` path, fed over loopback HTTP by the EventStreams stand-in running
in its own process, from ~200k events varied from the real captures (about 45 % commonswiki, 100,000
tracked file titles, under 1 % matching, some titles that need JSON escapes). Over the same bytes from
the same server, two baselines: (a) aiohttp ``readline()`` per line and ``json.loads`` of every
``data:`` line, about what pywikibot's client does; (b) reading the raw bytes with no parsing at all,
the ceiling. Targets: at least 3x (a) and 40 % of (b).

    python -m bench.bench_ingest [--events N] [--repeat R]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from watcher.stream.client import READ_BUFSIZE, EventStream
from watcher.stream.prefilter import TitleSetMatcher
from watcher.stream.sse import SSEParser
from watcher.stream.titleset import TitleSet

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "events"
UA = "WatcherBench/0.1 (https://museum.example; bench@museum.example)"
START_ID = '[{"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":0}]'
WEEK_EVENTS = 18_000_000  # about a week of the global recentchange stream
TRACKED = 100_000
OTHER_WIKIS = ["enwiki", "wikidatawiki", "dewiki", "frwiki", "eswiki", "mgwiktionary", "rowiki", "jawiki"]


def tracked_title(k: int) -> str:
    return f"File:Some museum object {k} - EXM {k}.jpg"


# EventStreams' key order (the raw captures); two sample sources re-ordered keys when printing them.
ORDER = [
    "$schema",
    "meta",
    "id",
    "type",
    "namespace",
    "title",
    "title_url",
    "comment",
    "timestamp",
    "user",
    "bot",
    "notify_url",
    "minor",
    "patrolled",
    "length",
    "revision",
    "log_id",
    "log_type",
    "log_action",
    "log_params",
    "log_action_comment",
    "server_url",
    "server_name",
    "server_script_path",
    "wiki",
    "parsedcomment",
]
META_ORDER = ["uri", "request_id", "id", "domain", "stream", "dt", "topic", "partition", "offset"]


def _canonical(ev: dict[str, Any]) -> dict[str, Any]:
    rank = {k: i for i, k in enumerate(ORDER)}
    out = {k: ev[k] for k in sorted(ev, key=lambda k: rank.get(k, rank["server_url"] - 0.5)) if k != "_meta"}
    meta = ev["meta"]
    out["meta"] = {k: meta[k] for k in META_ORDER if k in meta} | meta
    return out


def _samples() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(SAMPLES.iterdir()):
        raw = path.read_bytes()
        if path.suffix == ".sse":
            out += [json.loads(line[6:]) for line in raw.splitlines() if line.startswith(b"data: ")]
        elif path.suffix == ".jsonl":
            out += [json.loads(line) for line in raw.splitlines() if line.strip()]
        elif path.suffix == ".json":
            loaded = json.loads(raw)
            out += loaded if isinstance(loaded, list) else [loaded]
    return [_canonical(e) for e in out if isinstance(e, dict) and "wiki" in e and "meta" in e]


def build_events(n: int, seed: int = 42) -> tuple[list[str], int]:
    """``n`` events as compact JSON lines, and how many of them are candidates."""
    rng = random.Random(seed)
    samples = _samples()
    commons = [e for e in samples if e["wiki"] == "commonswiki"]
    others = [e for e in samples if e["wiki"] != "commonswiki"]
    t = datetime(2025, 8, 29, 6, 45, tzinfo=UTC)
    lines: list[str] = []
    matching = 0
    for i in range(n):
        r = rng.random()
        template = rng.choice(commons if r < 0.45 else others)
        ev = dict(template)
        meta = dict(ev["meta"])
        meta["id"] = str(uuid.UUID(int=rng.getrandbits(128)))
        t += timedelta(milliseconds=rng.randint(0, 60))
        meta["dt"] = t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        ev["meta"] = meta
        if r < 0.0045:  # ~1 % of Commons events: a tracked file
            ev["title"] = tracked_title(rng.randrange(TRACKED))
            matching += 1
        elif r < 0.45:
            stem = str(ev["title"]).rsplit(".", 1)[0]
            quote = '"' if rng.random() < 0.003 else ""  # a title that needs a JSON escape
            ev["title"] = f"{stem} {quote}{i}.jpg" if ev["namespace"] == 6 else f"{stem} {i}"
        else:
            ev["wiki"] = rng.choice(OTHER_WIKIS)
            ev["title"] = f"{ev['title']} {i}"
        lines.append(json.dumps(ev, ensure_ascii=False, separators=(",", ":")))
    return lines, matching


def matcher() -> TitleSetMatcher:
    return TitleSetMatcher(TitleSet(tracked_title(k) for k in range(TRACKED)), TitleSet(["Nobody tracked"]))


@dataclass
class Result:
    name: str
    seconds: float
    events: int
    nbytes: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds


async def run_watcher(url: str, n: int, m: TitleSetMatcher) -> tuple[Result, int]:
    stream = EventStream(url, UA, "commonswiki", m, last_event_id=START_ID, last_event_time=None)
    seen = candidates = 0
    last_id: str | None = None
    t0 = time.perf_counter()
    async with contextlib.aclosing(stream.batches()) as batches:
        async for batch in batches:
            seen += batch.seen
            candidates += len(batch.events)
            last_id = batch.last_id
            if seen >= n:
                break
    elapsed = time.perf_counter() - t0
    assert last_id is not None and seen == n
    return Result("watcher EventStream.batches()", elapsed, seen, stream.stats.bytes), candidates


async def run_readline(url: str, n: int, total: int) -> Result:
    """Baseline (a): one await per line, json.loads of every data line."""
    headers = {"User-Agent": UA, "Last-Event-ID": START_ID}
    seen = 0
    async with aiohttp.ClientSession() as session:
        t0 = time.perf_counter()
        async with session.get(url, headers=headers, read_bufsize=READ_BUFSIZE) as resp:
            while seen < n:
                line = await resp.content.readline()
                if line.startswith(b"data: "):
                    json.loads(line[6:])
                    seen += 1
        elapsed = time.perf_counter() - t0
    return Result("readline() + json.loads", elapsed, seen, total)


async def run_raw(url: str, n: int, total: int) -> Result:
    """Baseline (b): the bytes and nothing else."""
    headers = {"User-Agent": UA, "Last-Event-ID": START_ID}
    got = 0
    async with aiohttp.ClientSession() as session:
        t0 = time.perf_counter()
        async with session.get(url, headers=headers, read_bufsize=READ_BUFSIZE) as resp:
            async for chunk in resp.content.iter_any():
                got += len(chunk)
                if got >= total:
                    break
        elapsed = time.perf_counter() - t0
    return Result("raw iter_any (no parsing)", elapsed, n, got)


def breakdown(lines: list[str], m: TitleSetMatcher, chunk: int = READ_BUFSIZE) -> tuple[float, float]:
    """Microseconds an event for SSE framing alone and for framing + prefilter, in memory (no HTTP)."""
    body = b"".join(
        b'event: message\nid: [{"offset":%d}]\ndata: %s\n\n' % (i, line.encode())
        for i, line in enumerate(lines)
    )
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    best = [float("inf"), float("inf")]
    for _ in range(3):
        parser = SSEParser()
        t0 = time.perf_counter()
        for c in chunks:
            parser.feed_segments(c)
        best[0] = min(best[0], time.perf_counter() - t0)
        stream = EventStream("http://x", UA, "commonswiki", m, last_event_id=None, last_event_time=None)
        t0 = time.perf_counter()
        for c in chunks:
            stream.ingest(c)
        best[1] = min(best[1], time.perf_counter() - t0)
    return best[0] / len(lines) * 1e6, best[1] / len(lines) * 1e6


def start_server(path: Path) -> tuple[subprocess.Popen[str], str]:
    cmd = [
        sys.executable,
        "-m",
        "watcher.demo.standins.eventstreams",
        "--events",
        str(path),
        "--id-style",
        "offset",
    ]
    cmd += ["--write-size", str(1 << 18)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        raise RuntimeError(f"the stand-in did not start: {line!r}")
    return proc, line.split()[2]


def measure(n: int = 200_000, repeat: int = 3) -> dict[str, Any]:
    t_build = time.perf_counter()
    lines, matching = build_events(n)
    m = matcher()
    print(f"built {n} events ({matching} matching, {matching / n:.2%}) and {TRACKED} tracked titles "
          f"in {time.perf_counter() - t_build:.1f} s")  # fmt: skip
    framing_us, ingest_us = breakdown(lines[:50_000], m)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        del lines
        proc, url = start_server(path)
    try:
        best: dict[str, Result] = {}

        def keep(r: Result) -> None:
            if r.name not in best or r.seconds < best[r.name].seconds:
                best[r.name] = r

        def run(coro: Coroutine[Any, Any, Any]) -> Any:
            return asyncio.run(coro)

        ours, candidates = run(run_watcher(url, n, m))
        keep(ours)
        total = ours.nbytes
        rounds: list[Callable[[], Result]] = [
            lambda: run(run_raw(url, n, total)),
            lambda: run(run_readline(url, n, total)),
            lambda: run(run_watcher(url, n, m))[0],
        ]
        for _ in range(repeat):
            for fn in rounds:
                keep(fn())
    finally:
        proc.terminate()
        proc.wait(10)
    assert candidates == matching, (candidates, matching)
    w, a, b = (
        best["watcher EventStream.batches()"],
        best["readline() + json.loads"],
        best["raw iter_any (no parsing)"],
    )
    for r in (w, a, b):
        print(
            f"  {r.name:32} {r.rate:>11,.0f} events/s  {r.nbytes / r.seconds / 1e6:7.1f} MB/s  ({r.seconds:.2f} s)"
        )
    vs_a, vs_b = w.rate / a.rate, w.rate / b.rate
    print(f"  watcher / readline baseline: {vs_a:.1f}x (target >= 3x)")
    print(f"  watcher / raw ceiling:       {vs_b:.0%} (target >= 40 %)")
    print(f"  in memory, per event: SSE framing {framing_us:.2f} us, framing + prefilter {ingest_us:.2f} us; "
          f"reading the bytes over HTTP {1e6 / b.rate:.2f} us")  # fmt: skip
    week = WEEK_EVENTS / w.rate
    print(f"  a week of the global stream ({WEEK_EVENTS / 1e6:.0f} M events) catches up in {week / 60:.1f} min "
          f"(readline baseline: {WEEK_EVENTS / a.rate / 60:.1f} min)")  # fmt: skip
    return {
        "events": n,
        "candidates": candidates,
        "bytes": total,
        "watcher_eps": w.rate,
        "readline_eps": a.rate,
        "raw_eps": b.rate,
        "ratio_vs_readline": vs_a,
        "ratio_vs_raw": vs_b,
        "week_catch_up_s": week,
        "framing_us": framing_us,
        "ingest_us": ingest_us,
    }


def main() -> None:
    measure(int(os.environ.get("BENCH_INGEST_EVENTS", "200000")), int(os.environ.get("BENCH_REPEAT", "3")))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    measure(args.events, args.repeat)
