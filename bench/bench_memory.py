"""Resident memory of 1,000,000 tracked titles: in a TitleSet, and in the daemon across 50 collections.

First section: each measurement runs in a fresh interpreter (so nothing freed earlier blurs it) and
reads the resident set size from /proc/self/statm before and after building the structure, after
dropping the list the titles were generated into. Target: the TitleSet adds at most 100 MB.

Second section (issue 19): ``watcher run`` as a process (:mod:`bench.memory_daemon`), empty, with the
titles in one collection and with them in 50 ``[[collection]]`` tables (each file in 1–3), its VmRSS
once it follows the stream with the set loaded and refreshed. Target: the 50 collections add at most
40 MB over one collection.

    python -m bench memory [--titles N] [--workdir DIR] [--no-daemon]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import memory_daemon

TARGET_MB = 100.0
COLLECTIONS_TARGET_MB = 40.0

_CHILD = r"""
import gc, json, os, sys
from watcher.stream.titleset import TitleSet

PAGE = os.sysconf("SC_PAGE_SIZE")

def rss() -> int:
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE

n, kind = int(sys.argv[1]), sys.argv[2]

def titles():
    return (f"File:Some museum object {i} - EXM {100000 + i * 7}.jpg" for i in range(n))

wanted = f"File:Some museum object {n // 2} - EXM {100000 + n // 2 * 7}.jpg"

before = rss()
if kind == "titleset":
    s = TitleSet(titles())
    probe = wanted in s
elif kind == "set":
    s = set(titles())
    probe = wanted in s
else:
    s, probe = None, True
after = rss()
# VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts from its parent's at fork.
with open("/proc/self/status") as f:
    hwm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
peak = hwm - before
print(json.dumps({"kind": kind, "n": n, "bytes": after - before, "peak": peak, "probe": probe, "len": len(s or ())}))
"""


def _measure(n: int, kind: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(n), kind], capture_output=True, text=True, check=True, env=env
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def measure(n: int = 1_000_000) -> dict[str, Any]:
    empty = _measure(n, "none")
    ts = _measure(n, "titleset")
    plain = _measure(n, "set")
    assert ts["probe"] and plain["probe"] and ts["len"] == plain["len"] == n
    ts_mb, set_mb = ts["bytes"] / 1e6, plain["bytes"] / 1e6
    print(f"resident memory added by {n:,} titles (fresh process each, /proc/self/statm):")
    print(f"  TitleSet             {ts_mb:8.1f} MB  ({ts['bytes'] / n:5.1f} bytes a title; peak while growing "
          f"{ts['peak'] / 1e6:.1f} MB)")  # fmt: skip
    print(f"  set of str           {set_mb:8.1f} MB  ({plain['bytes'] / n:5.1f} bytes a title)")
    print(f"  (no structure)       {empty['bytes'] / 1e6:8.1f} MB")
    verdict = "within" if ts_mb <= TARGET_MB else "OVER"
    ratio = f"{set_mb / ts_mb:.1f}x" if ts_mb > 0 else "(too small to tell)"
    print(f"  TitleSet is {ratio} smaller; {verdict} the {TARGET_MB:.0f} MB target")
    return {"titles": n, "titleset_bytes": ts["bytes"], "set_bytes": plain["bytes"]}


def measure_daemon(n: int = 1_000_000, workdir: Path | None = None) -> dict[str, Any]:
    """The second section: the daemon's VmRSS empty, with ``n`` titles in 1 and in 50 collections."""
    work = Path(tempfile.mkdtemp(prefix="watcher-bench-memory-")) if workdir is None else workdir
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"the daemon (watcher run, its own process) with {n:,} tracked titles, VmRSS once settled:",
        flush=True,
    )
    try:
        empty, one, fifty = memory_daemon.measure(n, work)
    finally:
        if workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    for r in (empty, one, fifty):
        print(f"  {r.name:34} {r.rss / 1e6:8.1f} MB  (peak VmHWM {r.hwm / 1e6:7.1f} MB; followed the stream "
              f"and refreshed its set {r.refresh_s:.0f} s after the start)")  # fmt: skip
    added = (fifty.rss - one.rss) / 1e6
    verdict = "within" if added <= COLLECTIONS_TARGET_MB else "OVER"
    print(f"  {memory_daemon.COLLECTIONS} collections over 1 collection: {added:+.1f} MB "
          f"({verdict} the target: collections add at most {COLLECTIONS_TARGET_MB:.0f} MB)")  # fmt: skip
    print(f"  {memory_daemon.COLLECTIONS} collections over empty: {(fifty.rss - empty.rss) / 1e6:+.1f} MB; "
          f"{n:,} titles in 1 collection over empty: {(one.rss - empty.rss) / 1e6:+.1f} MB")  # fmt: skip
    return {
        "titles": n,
        "empty_rss": empty.rss,
        "one_rss": one.rss,
        "fifty_rss": fifty.rss,
        "collections_added_bytes": fifty.rss - one.rss,
        "within_target": added <= COLLECTIONS_TARGET_MB,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench memory", description=__doc__.split("\n")[0])
    ap.add_argument("--titles", type=int, default=int(os.environ.get("BENCH_MEMORY_TITLES", "1000000")))
    ap.add_argument("--workdir", type=Path, default=None, help="keep the databases and logs here")
    ap.add_argument("--no-daemon", action="store_true", help="only the TitleSet-vs-set section")
    args = ap.parse_args([] if argv is None else argv)  # `python -m bench` passes none
    measure(args.titles)
    if not args.no_daemon:
        print()
        measure_daemon(args.titles, args.workdir)


if __name__ == "__main__":
    main(sys.argv[1:])
