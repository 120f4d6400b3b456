"""`watcher export` marks only what the routine selection wrote (contract, "Handing back"; issue 12).

Every selection is tried through the command line: what it writes, whether it marks, what it says,
and that the routine export afterwards still writes every accepted change. Then the defect as a user
met it (a "show me everything" export, an accept, the routine export), the defaults a spreadsheet
user expects (CSV without --format; nothing new: no file and since when), and a missing database.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import Result

from tests.support.cli import CliShell
from watcher.diff.model import FieldChange
from watcher.export.routine import ROUTINE_SELECTION, marks_exported
from watcher.store.queue import ChangeFilter

ISO_Z = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


class Queue:
    """Four changes: two accepted (content and maintenance), one pending, one rejected."""

    def __init__(self, shell: CliShell) -> None:
        self.shell = shell
        self.accepted = shell.queue(file="File:Armband.jpg", revision=101, timestamp="2026-03-01T10:00:00Z")[
            0
        ]
        self.maintenance = shell.queue(
            file="File:Stol.jpg", revision=102, timestamp="2026-03-05T10:00:00Z",
            changes=[FieldChange("category", "added", None, "Needing checks", kind="maintenance")],
        )[0]  # fmt: skip
        self.pending = shell.queue(file="File:Armband.jpg", revision=103, timestamp="2026-03-03T10:00:00Z")[0]
        self.rejected = shell.queue(file="File:Stol.jpg", revision=104, timestamp="2026-03-04T10:00:00Z")[0]
        shell.run("accept", str(self.accepted), str(self.maintenance))
        shell.run("reject", str(self.rejected))

    def named(self, names: str) -> set[int]:
        return {getattr(self, name) for name in names.split()} if names else set()


@pytest.fixture
def shell(tmp_path: Path) -> CliShell:
    return CliShell(tmp_path)


@pytest.fixture
def q(shell: CliShell) -> Queue:
    return Queue(shell)


def written_ids(result: Result) -> set[int]:
    text = result.stdout_bytes.decode("utf-8")
    if text.lstrip().startswith("{"):
        return {json.loads(line)["id"] for line in text.splitlines()}
    return {int(row["id"]) for row in csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))}


# (the options, the changes written, whether it marks them)
SELECTIONS = [
    ((), "accepted maintenance", True),
    (("--status", "accepted"), "accepted maintenance", True),
    (("--format", "jsonl"), "accepted maintenance", True),
    (("--format", "csv", "--bom"), "accepted maintenance", True),
    (("--raw",), "accepted maintenance", True),
    (("--all",), "accepted maintenance", False),
    (("--status", "accepted", "--all"), "accepted maintenance", False),
    (("--status", "pending"), "pending", False),
    (("--status", "rejected"), "rejected", False),
    (("--status", "withdrawn"), "", False),
    (("--status", "all"), "accepted maintenance pending rejected", False),
    (("--status", "all", "--all"), "accepted maintenance pending rejected", False),
    (("--since", "2026-03-02"), "maintenance", False),
    (("--since", "2026-01-01"), "accepted maintenance", False),  # the same records: still not routine
    (("--file", "Armband.jpg"), "accepted", False),
    (("--file", "File:Stol.jpg", "--status", "all", "--format", "jsonl"), "maintenance rejected", False),
    (("--since", "2026-03-01", "--all", "--status", "all"), "accepted maintenance pending rejected", False),
]


@pytest.mark.parametrize(
    ("options", "names", "marks"), SELECTIONS, ids=[" ".join(s[0]) or "routine" for s in SELECTIONS]
)
def test_each_selection_marks_only_if_it_is_the_routine_one(
    shell: CliShell, q: Queue, options: tuple[str, ...], names: str, marks: bool
) -> None:
    result = shell.run("export", *options)
    assert written_ids(result) == q.named(names)
    marked = {i for i, stamp in shell.exported().items() if stamp}
    if marks:
        assert marked == q.named(names)
        assert f"exported {len(marked)} change(s)" in result.stderr
    else:
        assert marked == set()
        assert (
            f"{len(q.named(names))} change(s) written; nothing marked exported (not the routine selection)"
            in result.stderr
        )
    # Whatever came before, the routine export writes what it has not written yet.
    routine = shell.run("export")
    assert written_ids(routine) == (set() if marks else q.named("accepted maintenance"))
    assert {i for i, stamp in shell.exported().items() if stamp} == q.named("accepted maintenance")


def test_the_defect_everything_then_accept_then_routine(shell: CliShell, q: Queue) -> None:
    """Issue 12: `export --all --status all` marked pending changes, so accepting one lost it."""
    target = shell.folder / "x.csv"
    everything = shell.run("export", "--format", "csv", "--all", "--status", "all", "-o", str(target))
    assert "4 change(s) written to" in everything.stderr and "nothing marked exported" in everything.stderr
    assert len(list(csv.DictReader(target.open(encoding="utf-8", newline="")))) == 4
    assert written_ids(shell.run("export")) == q.named("accepted maintenance")
    shell.run("accept", str(q.pending))
    routine = shell.run("export", "--format", "csv")
    assert written_ids(routine) == {q.pending}
    assert "exported 1 change(s)" in routine.stderr
    assert shell.exported()[q.rejected] is None


def test_a_routine_export_after_a_narrower_one_still_writes_it(shell: CliShell, q: Queue) -> None:
    assert written_ids(shell.run("export", "--file", "Armband.jpg")) == {q.accepted}
    assert written_ids(shell.run("export", "--since", "2026-03-05")) == {q.maintenance}
    assert written_ids(shell.run("export")) == q.named("accepted maintenance")


def test_nothing_accepted_yet_writes_nothing(shell: CliShell) -> None:
    shell.queue(revision=1)  # pending only
    target = shell.folder / "out.csv"
    result = shell.run("export", "-o", str(target))
    assert result.stdout == "" and result.stderr.strip() == "nothing accepted to export yet"
    assert not target.exists()
    assert shell.run("export").stdout == ""


def test_nothing_new_leaves_the_file_alone_and_says_since_when(shell: CliShell, q: Queue) -> None:
    target = shell.folder / "weekly.csv"
    shell.run("export", "-o", str(target))
    before = target.read_bytes()
    assert before.startswith(b"object_id,")
    (stamp,) = {s for s in shell.exported().values() if s}
    assert re.fullmatch(ISO_Z, stamp)
    for args in (("-o", str(target)), ("--format", "jsonl"), ()):
        again = shell.run("export", *args)
        assert again.stdout == "" and again.stderr.strip() == f"nothing new since {stamp}", args
    assert target.read_bytes() == before  # not overwritten with a header-only file


def test_a_wider_selection_with_nothing_in_it_still_writes_its_header(shell: CliShell, q: Queue) -> None:
    result = shell.run("export", "--status", "withdrawn")
    assert result.stdout_bytes.decode().startswith("object_id,") and written_ids(result) == set()


def test_csv_is_the_default_format(shell: CliShell, q: Queue) -> None:
    result = shell.run("export")
    assert result.stdout_bytes.startswith(b"object_id,file,field,")
    assert "[default: csv]" in shell.run("export", "--help").stdout


def test_help_says_what_marks_and_what_the_guard_does(shell: CliShell) -> None:
    text = " ".join(shell.run("export", "--help").stdout.split())
    assert "mark nothing" in text and "--raw" in text and "formula" in text
    assert "--since" in text and "--file" in text
    assert "formula guard" in " ".join(shell.run("changes", "--help").stdout.split())


def test_bad_since_and_file_forms(shell: CliShell, q: Queue) -> None:
    bad = shell.run("export", "--since", "last tuesday", code=2)
    assert "--since" in bad.stderr and "not a date" in bad.stderr
    assert not any(shell.exported().values())  # nothing marked
    assert written_ids(shell.run("export", "--file", "armband.jpg")) == {q.accepted}  # as in URLs


def test_export_of_a_missing_database_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    shell = CliShell(tmp_path)
    shell.database.unlink()
    result = shell.run("export", code=None)
    assert result.exit_code != 0 and "no database at" in result.stderr
    assert not shell.database.exists()


def test_marks_exported_is_the_routine_selection_exactly() -> None:
    assert marks_exported(ChangeFilter(status="accepted", kind="all", not_exported=True))
    assert marks_exported(ROUTINE_SELECTION)
    for other in (
        ChangeFilter(status="accepted", kind="all", not_exported=False),
        ChangeFilter(status="all", kind="all", not_exported=True),
        ChangeFilter(status="pending", kind="all", not_exported=True),
        ChangeFilter(status="accepted", kind="content", not_exported=True),
        ChangeFilter(status="accepted", kind="all", not_exported=True, since="2026-01-01T00:00:00Z"),
        ChangeFilter(status="accepted", kind="all", not_exported=True, file="File:A.jpg"),
        ChangeFilter(status="accepted", kind="all", not_exported=True, language="sv"),
        ChangeFilter(status="accepted", kind="all", not_exported=True, ids=[1]),
    ):
        assert not marks_exported(other), other
