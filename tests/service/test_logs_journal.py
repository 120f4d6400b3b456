"""Log format: `<N>` priority prefixes only when stderr really is the journal stream; levels; masking."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from watcher.service.logs import journal_attached, setup_logging

SCRIPT = """
import logging, sys
from watcher.service.logs import setup_logging
setup_logging(sys.argv[1])
log = logging.getLogger("watcher.stream")
log.debug("read %d bytes", 512)
log.info("connected to the stream")
log.warning("sending to mailtos://curator:hunter2@smtp.example.org failed")
try:
    1 / 0
except ZeroDivisionError:
    log.exception("worker failed with token slack://T0AAA/B0BBB/XyZsecret")
"""


def run_logging(tmp_path: Path, level: str, journal_stream: str | None) -> list[str]:
    """Run a process whose stderr is a file; JOURNAL_STREAM names that file (or another) by dev:inode."""
    stderr_path = tmp_path / f"stderr-{level}-{journal_stream is not None}.log"
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    with stderr_path.open("wb") as stderr:
        if journal_stream == "this":
            stat = os.fstat(stderr.fileno())
            env["JOURNAL_STREAM"] = f"{stat.st_dev}:{stat.st_ino}"
        elif journal_stream is not None:
            env["JOURNAL_STREAM"] = journal_stream
        subprocess.run([sys.executable, "-c", SCRIPT, level], stderr=stderr, env=env, check=True, timeout=60)
    return stderr_path.read_text(encoding="utf-8").splitlines()


def test_journal_stream_of_stderr_gives_priority_prefixes_and_no_timestamps(tmp_path: Path) -> None:
    lines = run_logging(tmp_path, "debug", "this")
    assert lines[:3] == [
        "<7>watcher.stream: read 512 bytes",
        "<6>watcher.stream: connected to the stream",
        "<4>watcher.stream: sending to mailtos://***@smtp.example.org failed",
    ]
    traceback = lines[3:]
    assert traceback[0] == "<3>watcher.stream: worker failed with token slack://***/***/***"
    assert any("ZeroDivisionError" in line for line in traceback)
    # Every line of the traceback keeps the record's priority (each becomes its own journal entry).
    assert all(line.startswith("<3>") for line in traceback)


def test_journal_stream_of_another_file_is_ignored(tmp_path: Path) -> None:
    """A child inherits JOURNAL_STREAM with its stderr elsewhere: plain lines with timestamps."""
    other = os.stat(tmp_path)
    lines = run_logging(tmp_path, "info", f"{other.st_dev}:{other.st_ino}")
    assert not any(line.startswith("<") for line in lines)
    assert lines[0].endswith("INFO    watcher.stream: connected to the stream")
    assert lines[0][:4].isdigit()  # 2026-…: a timestamp, for a terminal or a plain log file
    assert "hunter2" not in "\n".join(lines)


def test_without_journal_stream_lines_are_plain(tmp_path: Path) -> None:
    lines = run_logging(tmp_path, "warning", None)
    assert not any("connected to the stream" in line for line in lines)  # below --log-level warning
    assert "WARNING watcher.stream: sending to mailtos://***@smtp.example.org failed" in lines[0]
    assert not any(line.startswith("<") for line in lines)


def test_journal_attached_compares_device_and_inode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with (tmp_path / "a.log").open("w") as stream:
        stat = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{stat.st_dev}:{stat.st_ino}")
        assert journal_attached(stream)
        monkeypatch.setenv("JOURNAL_STREAM", f"{stat.st_dev}:{stat.st_ino + 1}")
        assert not journal_attached(stream)
        monkeypatch.setenv("JOURNAL_STREAM", "garbage")
        assert not journal_attached(stream)


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="log level"):
        setup_logging("verbose")
