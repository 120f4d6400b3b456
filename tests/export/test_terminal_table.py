"""`watcher changes` on a terminal never passes on escape sequences from record values (issue 13 item 7).

The table goes through the one sanitiser the digest uses (``watcher.base.text``); CSV and JSON lines
stay byte-faithful. One test runs the command on a real pseudo-terminal.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from tests.support.cli import CliShell
from watcher.base.text import one_line, strip_controls
from watcher.diff.model import FieldChange
from watcher.notify.render import clean

HOSTILE = (
    "\x1b[2J\x1b[31mred\x1b[0m",  # clear the screen, colour
    "\x1b]0;pwned title\x07tail",  # OSC: the window title
    "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\u202eevil.exe\u202c",  # right-to-left override
    "\u2066isolated\u2069",
    "\x9b2Jc1",  # 8-bit CSI
    "del\x7fete",
    "nul\x00bell\x07back\x08space",
    "two\nlines\r\nand\rreturn",
)
BIDI = {*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


def unsafe(text: str) -> set[str]:
    """Characters a terminal would act on: every Cc but the line end, and the bidi controls."""
    return {ch for ch in text if (unicodedata.category(ch) == "Cc" and ch != "\n") or ch in BIDI}


@pytest.mark.parametrize("value", HOSTILE)
def test_one_line_leaves_nothing_a_terminal_acts_on(value: str) -> None:
    assert unsafe(one_line(value)) == set()
    assert "\n" not in one_line(value)


def test_what_the_sanitiser_keeps() -> None:
    assert one_line(HOSTILE[0]) == "red"
    assert one_line(HOSTILE[1]) == "tail"
    assert one_line(HOSTILE[2]) == "link"
    assert one_line(HOSTILE[3]) == "evil.exe"
    assert one_line(HOSTILE[5]) == "c1"
    assert one_line(HOSTILE[8]) == "two lines and return"
    assert strip_controls("a\tb") == "a b"
    assert one_line("\x1b]0;unterminated title") == "0;unterminated title"  # its text stays visible
    assert one_line("Målning — 油画 — لوحة") == "Målning — 油画 — لوحة"


def test_the_digest_uses_the_same_sanitiser() -> None:
    for value in HOSTILE:
        assert clean(value, 1000) == one_line(value)


@pytest.fixture
def shell(tmp_path: Path) -> CliShell:
    shell = CliShell(tmp_path)
    for n, value in enumerate(HOSTILE):
        shell.queue(
            revision=100 + n, file=f"File:{value}.jpg", user=value, object_id=value[:6],
            changes=[FieldChange("description", "changed", value, value + " new", "Information", None, "en")],
        )  # fmt: skip
    return shell


def test_the_table_is_sanitised(shell: CliShell) -> None:
    text = shell.run("changes").stdout
    assert len(text.splitlines()) == 1 + len(HOSTILE)
    assert unsafe(text) == set()
    assert "red" in text and "evil.exe" in text


def test_jsonl_and_csv_stay_byte_faithful(shell: CliShell) -> None:
    records = [json.loads(line) for line in shell.run("changes", "--format", "jsonl").stdout.splitlines()]
    assert [r["old"] for r in records] == list(HOSTILE)
    assert [r["user"] for r in records] == list(HOSTILE)
    raw = shell.run("changes", "--format", "csv", "--raw").stdout_bytes.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert [r["old"] for r in rows] == list(HOSTILE)


def test_the_table_on_a_real_terminal(shell: CliShell) -> None:
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "watcher", "changes", "-c", str(shell.config)],
            stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.PIPE, timeout=120,
            env={**os.environ, "COLUMNS": "300"},
        )  # fmt: skip
        os.close(follower)
        follower = -1
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert process.returncode == 0, process.stderr
    text = output.decode("utf-8").replace("\r\n", "\n")  # the terminal's own line ends
    assert len(text.splitlines()) == 1 + len(HOSTILE)
    assert unsafe(text) == set(), unsafe(text)
    assert "red" in text
