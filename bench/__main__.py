"""Run every benchmark (or those named): python -m bench [ingest [--events N ...]] [memory] [diff] ...

Options after a benchmark's name go to that benchmark (``python -m bench ingest --events 20000``).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def _split(argv: list[str]) -> list[tuple[str, list[str]]]:
    """``ingest --events 5 memory`` → [("bench_ingest", ["--events", "5"]), ("bench_memory", [])]."""
    wanted: list[tuple[str, list[str]]] = []
    for arg in argv:
        if arg.startswith("-") and wanted:
            wanted[-1][1].append(arg)
        elif wanted and wanted[-1][1] and wanted[-1][1][-1].startswith("-") and "=" not in wanted[-1][1][-1]:
            wanted[-1][1].append(arg)  # an option's value
        else:
            wanted.append((f"bench_{arg.removeprefix('bench_')}", []))
    return wanted


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    if argv and argv[0].startswith("-"):
        print(
            "name a benchmark before its options, e.g. python -m bench ingest --events 20000", file=sys.stderr
        )
        return 2
    wanted = _split(argv)
    unknown = [w for w, _ in wanted if w not in names]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(names)}", file=sys.stderr)
        return 2
    for name, options in wanted or [(n, []) for n in names]:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        if options:
            module.main(options)
        else:
            module.main()
        print(f"--- {name} took {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
