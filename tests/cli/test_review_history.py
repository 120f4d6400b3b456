"""Review from the shell with a history (issue 12): a changed decision on an exported change warns and
the next routine export carries its retraction; undo walks back; no sequence of accept, reject, undo
and export loses or repeats a change in the collection system's view."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import Result

from tests.support.cli import CliShell
from watcher.store import Database
from watcher.store.reviews import history


@pytest.fixture
def shell(tmp_path: Path) -> CliShell:
    return CliShell(tmp_path)


def rows(result: Result) -> list[dict[str, str]]:
    text = result.stdout_bytes.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def jsonl(shell: CliShell, *args: str) -> dict[int, dict[str, object]]:
    out = shell.run("changes", "--format", "jsonl", "--status", "all", "--kind", "all", *args).stdout
    return {int(r["id"]): r for r in map(json.loads, out.splitlines())}


class CollectionSystem:
    """What an importer that applies each routine export row by row ends up holding, by change id."""

    def __init__(self) -> None:
        self.has: dict[int, str] = {}
        self.rows_seen: list[tuple[int, str]] = []

    def apply(self, result: Result) -> None:
        for row in rows(result):
            change = int(row["id"])
            self.rows_seen.append((change, row["status"]))
            if row["status"] == "accepted":
                assert change not in self.has, f"change {change} sent twice"
                self.has[change] = row["new"]
            else:
                assert row["status"] == "rejected" and row["retracts"], row
                assert change in self.has, f"retraction of change {change} it never had"
                del self.has[change]


def test_rejecting_an_exported_change_warns_and_the_next_export_retracts_it(shell: CliShell) -> None:
    (change,) = shell.queue(file="File:Armband.jpg", revision=101)
    shell.run("accept", str(change), "--note", "checked against the card index", "--reviewer", "anna")
    first = shell.run("export")
    (sent,) = rows(first)
    assert sent["status"] == "accepted" and sent["retracts"] == ""
    rejected = shell.run("reject", str(change), "--reviewer", "bo")
    assert "Already exported to the collection system: #" in rejected.stderr
    assert "retraction" in rejected.stderr
    second = shell.run("export")
    (retraction,) = rows(second)
    assert retraction["id"] == str(change) and retraction["status"] == "rejected"
    assert retraction["retracts"] == shell.sql("SELECT retracted_export FROM changes")[0][0]
    assert "1 of them retraction(s)" in second.stderr
    assert "nothing new since" in shell.run("export").stderr  # a retraction goes out once
    record = jsonl(shell)[change]
    assert (record["status"], record["reviewed_by"]) == ("rejected", "bo")
    assert isinstance(record["reviewed_at"], str) and record["reviewed_at"].endswith("Z")


def test_undo_restores_the_previous_decision_and_keeps_both(shell: CliShell) -> None:
    (change,) = shell.queue(file="File:Armband.jpg", revision=101)
    assert "Nothing to undo" in shell.run("undo", str(change)).stderr  # nothing decided yet
    shell.run("reject", str(change), "--reviewer", "anna")
    shell.run("accept", str(change), "--reviewer", "bo")
    undone = shell.run("undo", str(change), "--reviewer", "bo")
    assert "undid the latest decision of 1 change(s)" in undone.stdout
    assert jsonl(shell)[change]["status"] == "rejected"

    async def events() -> list[tuple[str, str]]:
        async with Database.open(shell.database) as db:
            return [(e.action, e.status_after) for e in await history(db, change)]

    assert asyncio.run(events()) == [("reject", "rejected"), ("accept", "accepted"), ("undo", "rejected")]


def test_a_missing_id_is_an_error_and_a_note_needs_a_note(shell: CliShell) -> None:
    (change,) = shell.queue(file="File:Armband.jpg", revision=101)
    result = shell.run("accept", str(change), "999", code=1)
    assert "accepted 1 change(s)" in result.stdout and "no such change: 999" in result.stderr
    shell.run("note", str(change), code=2)  # --note is required
    shell.run("note", str(change), "--note", "ask the conservator")
    record = jsonl(shell)[change]
    assert (record["status"], record["note"]) == ("accepted", "ask the conservator")


@pytest.mark.parametrize(
    "steps",
    [
        ["accept", "export", "reject", "export", "accept", "export"],
        ["accept", "reject", "export", "accept", "export"],
        ["accept", "export", "reject", "accept", "export"],
        ["accept", "export", "undo", "export", "undo", "export"],
        ["accept", "export", "reopen", "export", "reject", "export", "undo", "undo", "export"],
        ["reject", "export", "accept", "export", "undo", "export"],
    ],
)
def test_no_sequence_loses_or_repeats_a_change_in_the_collection_systems_view(
    shell: CliShell, steps: list[str]
) -> None:
    (change,) = shell.queue(file="File:Armband.jpg", revision=101)
    (other,) = shell.queue(file="File:Stol.jpg", revision=102)
    shell.run("accept", str(other))
    cms = CollectionSystem()
    for step in steps:
        if step == "export":
            cms.apply(shell.run("export"))
        else:
            shell.run(step, str(change))
        # A look at everything in between never changes what the routine export sends.
        shell.run("export", "--all", "--status", "all", "-o", str(shell.folder / "look.csv"))
    cms.apply(shell.run("export"))
    status = jsonl(shell)[change]["status"]
    expected = {other} | ({change} if status == "accepted" else set())
    assert set(cms.has) == expected, (steps, cms.rows_seen)
