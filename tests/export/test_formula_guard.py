"""CSV formula injection (issue 13 item 3): guarded by default in every CSV, `--raw` to opt out.

The payloads are written on Commons by anyone; a spreadsheet would run them. Every CSV the command
line writes (`watcher export`, `watcher changes --format csv`) is read back with Python's csv module:
each payload comes back with a leading apostrophe, and exactly as stored with `--raw`. JSON lines
are never altered.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.support.cli import CliShell
from watcher.diff.model import FieldChange
from watcher.export.csvfile import guard_formula, needs_guard

PAYLOADS = (
    '=HYPERLINK("http://x","y")',
    "+cmd",
    "@SUM(1)",
    "-2+3+cmd",
    "\t=1+1",
    "\r=1",
    "=cmd|' /C calc'!A0",
    "-5",  # a number too: guarded, as the docstring says
    " =1+1",  # after leading white space
    "\n@SUM(1)",
)
HARMLESS = ("plain", "a=b", "5-3", "Q42", "1650", "", "'already quoted", "c. 1650 – 1660")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_is_guarded(payload: str) -> None:
    assert needs_guard(payload)
    assert guard_formula(payload) == "'" + payload


@pytest.mark.parametrize("value", HARMLESS)
def test_harmless_values_are_left_alone(value: str) -> None:
    assert not needs_guard(value)
    assert guard_formula(value) == value


@pytest.fixture
def shell(tmp_path: Path) -> CliShell:
    """One accepted change per payload: in `new`, `old`, the user and the file name."""
    shell = CliShell(tmp_path)
    ids: list[int] = []
    for n, payload in enumerate(PAYLOADS):
        ids += shell.queue(
            revision=100 + n, file=f"File:Item {n}.jpg", user=payload, object_id=payload,
            changes=[FieldChange("description", "changed", payload, payload, "Information", None, "en")],
        )  # fmt: skip
    shell.run("accept", *map(str, ids))
    return shell


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8").removeprefix("\ufeff"), newline="")))


GUARDED_COLUMNS = ("old", "new", "user", "object_id")


def assert_guarded(rows: list[dict[str, str]]) -> None:
    assert [row["object_id"] for row in rows] == ["'" + p for p in PAYLOADS]
    for row, payload in zip(rows, PAYLOADS, strict=True):
        for column in GUARDED_COLUMNS:
            assert row[column] == "'" + payload, (column, payload)
        assert not needs_guard(row["file"]) and row["field"] == "description"


def assert_raw(rows: list[dict[str, str]]) -> None:
    for row, payload in zip(rows, PAYLOADS, strict=True):
        for column in GUARDED_COLUMNS:
            assert row[column] == payload, (column, payload)


def test_export_guards_by_default(shell: CliShell) -> None:
    assert_guarded(read_csv(shell.run("export", "--all").stdout_bytes))
    target = shell.folder / "export.csv"
    shell.run("export", "--format", "csv", "--bom", "-o", str(target))
    assert_guarded(read_csv(target.read_bytes()))


def test_export_raw_writes_the_values_as_stored(shell: CliShell) -> None:
    result = shell.run("export", "--raw")
    assert_raw(read_csv(result.stdout_bytes))
    assert "exported 10 change(s)" in result.stderr  # --raw is still the routine export


def test_changes_csv_guards_by_default_and_raw_opts_out(shell: CliShell) -> None:
    assert_guarded(read_csv(shell.run("changes", "--status", "accepted", "--format", "csv").stdout_bytes))
    raw = shell.run("changes", "--status", "accepted", "--format", "csv", "--raw")
    assert_raw(read_csv(raw.stdout_bytes))


def test_jsonl_is_never_guarded(shell: CliShell) -> None:
    for args in (("export", "--format", "jsonl"), ("changes", "--status", "accepted", "--format", "jsonl")):
        records = [json.loads(line) for line in shell.run(*args).stdout.splitlines()]
        assert [(r["old"], r["new"], r["user"]) for r in records] == [(p, p, p) for p in PAYLOADS], args
