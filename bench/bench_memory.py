"""Resident memory added by a TitleSet of 1,000,000 realistic titles, against a plain set of str.

Each measurement runs in a fresh interpreter (so nothing freed earlier blurs it) and reads the
resident set size from /proc/self/statm before and after building the structure, after dropping the
list the titles were generated into. Target: the TitleSet adds at most 100 MB.

    python -m bench.bench_memory [--titles N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

TARGET_MB = 100.0

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

before = rss()
if kind == "titleset":
    s = TitleSet(titles())
    probe = "File:Some museum object 12345 - EXM 186415.jpg" in s
elif kind == "set":
    s = set(titles())
    probe = "File:Some museum object 12345 - EXM 186415.jpg" in s
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
    print(f"  TitleSet is {set_mb / ts_mb:.1f}x smaller; {verdict} the {TARGET_MB:.0f} MB target")
    return {"titles": n, "titleset_bytes": ts["bytes"], "set_bytes": plain["bytes"]}


def main() -> None:
    measure(int(os.environ.get("BENCH_MEMORY_TITLES", "1000000")))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--titles", type=int, default=1_000_000)
    measure(ap.parse_args().titles)
