"""`python -m bench ingest` cannot rot: a small run completes and prints the daemon's rate beside both
baselines, their ratios, and the start-up figures (the full benchmark is `make bench`, not a test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.slow
def test_a_small_ingest_benchmark_completes_and_prints_its_figures() -> None:
    cmd = [sys.executable, "-m", "bench", "ingest", "--events", "20000", "--tracked", "2000", "--repeat", "1"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    out = done.stdout
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for label in (
        "daemon (watcher run, end to end)",
        "bare client (readline + json.loads)",
        "raw read (iter_any, no parsing)",
    ):
        assert re.search(rf"{re.escape(label)}\s+[\d,]+ events/s", out), (label, out)
    assert re.search(r"daemon / bare client: [\d.]+x", out), out
    assert re.search(r"daemon / raw read: +\d+%", out), out
    assert "second line, not the daemon: parser + prefilter only" in out
    assert "of 20,000 events and matched 10 of 10 (ok)" in out, out
    assert re.search(r"restart on the stored 2,000 files: taking events [\d.]+ s after the start", out), out
