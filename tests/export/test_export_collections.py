"""Issue 19, item 3: `watcher changes`, `export` and `status` per collection. `--collection` selects; an
export with it marks nothing while the routine export still marks; CSV keeps its columns where they
were and ends with `collection`; the wide layout is a row per collection and object."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import CliShell
from tests.support.config import USER_AGENT
from watcher.config import parse_config
from watcher.diff.model import FieldChange
from watcher.service.status import collect_status
from watcher.store import Database

# Hallwyl first: config order, not the alphabet, orders the wide layout's collections.
TWO_COLLECTIONS = f"""[watcher]
user_agent = "{USER_AGENT}"
database = "state/w.sqlite3"

[[collection]]
name = "hallwyl"
title = "The Hallwyl Museum"
categories = ["Category:Hallwyl"]

[[collection]]
name = "armoury"
title = "The Royal Armoury"
categories = ["Category:Armoury"]
"""
# The long CSV's columns before collections existed, by position: importers map them so.
COLUMNS_BEFORE = [
    "object_id", "file", "field", "template", "property", "language", "action", "old", "new", "user",
    "timestamp", "revision", "diff_url", "status", "reviewer", "reviewed_at", "note", "retracts",
    "reverted_by", "superseded_by", "tags", "tools", "editor_edits", "editor_registered", "old_label",
    "new_label", "id", "field_text", "old_text", "new_text",
]  # fmt: skip


def desc(old: str, new: str) -> list[FieldChange]:
    return [FieldChange("description", "changed", old, new, "Information", None, "sv")]


class Shell(CliShell):
    """Two collections; File:Shared.jpg is in both (one edit, a record in each, each its object id)."""

    def __init__(self, folder: Path, config: str = TWO_COLLECTIONS) -> None:
        super().__init__(folder)
        self.config.write_text(config, encoding="utf-8")
        self.hallwyl = self.queue(file="File:Vase.jpg", revision=11, object_id="HWY 1", collection="hallwyl",
                                  changes=desc("vas", "vas av glas"))  # fmt: skip
        self.armoury = self.queue(file="File:Sword.jpg", revision=21, object_id="LRK 1", collection="armoury",
                                  changes=desc("svärd", "värja"), timestamp="2026-03-02T10:00:00Z")  # fmt: skip
        self.shared = {
            collection: self.queue(
                file="File:Shared.jpg",
                revision=31,
                object_id=object_id,
                collection=collection,
                changes=desc("gammal", "ny"),
                timestamp="2026-03-03T10:00:00Z",
            )
            for collection, object_id in (("hallwyl", "HWY 9"), ("armoury", "LRK 9"))
        }

    def jsonl(self, *args: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.run(*args).stdout.splitlines()]

    def accept_all(self) -> None:
        self.run("accept", *(str(row["id"]) for row in self.sql("SELECT id FROM changes")))


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    return Shell(tmp_path)


def csv_table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_changes_by_collection(shell: Shell) -> None:
    every = shell.jsonl("changes", "--format", "jsonl")
    assert [(r["collection"], r["object_id"]) for r in every] == [
        ("hallwyl", "HWY 1"), ("armoury", "LRK 1"), ("hallwyl", "HWY 9"), ("armoury", "LRK 9"),
    ]  # fmt: skip
    hallwyl = shell.jsonl("changes", "--format", "jsonl", "--collection", "hallwyl")
    assert [r["id"] for r in hallwyl] == [*shell.hallwyl, *shell.shared["hallwyl"]]
    both = shell.jsonl("changes", "--format", "jsonl", "--collection", "armoury", "--collection", "hallwyl")
    assert both == every
    armoury_shared = shell.jsonl(
        "changes", "--format", "jsonl", "--collection", "armoury", "--file", "Shared.jpg"
    )
    assert [r["object_id"] for r in armoury_shared] == ["LRK 9"]


def test_the_table_names_each_rows_collection(shell: Shell) -> None:
    lines = shell.run("changes", "--collection", "armoury").stdout.splitlines()
    assert lines[0].split()[:4] == ["id", "time", "collection", "file"]
    assert [line.split()[3] for line in lines[1:]] == ["armoury", "armoury"]  # after the date and time


def test_an_unknown_collection_is_a_usage_error_naming_the_known_ones(shell: Shell) -> None:
    for command in ("changes", "export"):
        result = shell.run(command, "--collection", "hallwyl", "--collection", "Armoury", code=2)
        assert "no collection 'Armoury' in the config; it has hallwyl, armoury" in result.stderr, command
    assert all(at is None for at in shell.exported().values())


def test_export_with_a_collection_marks_nothing_and_the_routine_export_still_marks(shell: Shell) -> None:
    shell.accept_all()
    narrow = shell.run("export", "--format", "jsonl", "--collection", "armoury")
    assert [r["id"] for r in map(json.loads, narrow.stdout.splitlines())] == [
        *shell.armoury, *shell.shared["armoury"],
    ]  # fmt: skip
    assert "2 change(s) written; nothing marked exported" in narrow.stderr
    # Even naming every collection is not the routine selection: it marks nothing.
    every = shell.run("export", "--collection", "hallwyl", "--collection", "armoury")
    assert len(csv_table(every.stdout)) == 1 + 4 and "nothing marked exported" in every.stderr
    assert all(at is None for at in shell.exported().values())
    routine = shell.run("export", "--format", "jsonl")
    assert len(routine.stdout.splitlines()) == 4 and "exported 4 change(s)" in routine.stderr
    assert all(at is not None for at in shell.exported().values())
    assert "nothing new since" in shell.run("export").stderr


def test_csv_keeps_its_columns_in_place_and_ends_with_the_collection(shell: Shell) -> None:
    shell.accept_all()
    header, *rows = csv_table(shell.run("export", "--all").stdout)
    assert header == [*COLUMNS_BEFORE, "collection"]
    assert [(row[0], row[-1]) for row in rows] == [
        ("HWY 1", "hallwyl"), ("LRK 1", "armoury"), ("HWY 9", "hallwyl"), ("LRK 9", "armoury"),
    ]  # fmt: skip
    listed = csv_table(
        shell.run("changes", "--format", "csv", "--status", "all", "--collection", "hallwyl").stdout
    )
    assert listed[0] == header and [row[-1] for row in listed[1:]] == ["hallwyl", "hallwyl"]


def test_a_config_of_one_collection_exports_it_as_default(tmp_path: Path) -> None:
    shell = CliShell(tmp_path)
    ids = shell.queue(changes=desc("a", "b"))
    shell.run("accept", *map(str, ids))
    header, row = csv_table(shell.run("export").stdout)
    assert header == [*COLUMNS_BEFORE, "collection"] and row[-1] == "default"
    result = shell.run("changes", "--collection", "elsewhere", code=2)
    assert "no collection 'elsewhere' in the config; it has default" in result.stderr
    wide, _ = csv_table(shell.run("export", "--layout", "wide", "--all").stdout)
    assert wide[-1] == "ids" and "collection" not in wide  # one collection: rows by object, as before


def test_the_wide_layout_is_a_row_per_collection_and_object(shell: Shell) -> None:
    shell.queue(file="File:Vase 2.jpg", revision=12, object_id="HWY 1", collection="hallwyl",
                changes=[FieldChange("date", "added", None, "1890", "Information")])  # fmt: skip
    shell.accept_all()
    header, *rows = csv_table(shell.run("export", "--layout", "wide", "--all").stdout)
    assert header[-2:] == ["ids", "collection"] and header[:2] == ["object_id", "file"]
    cells = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(c["collection"], c["object_id"], c["file"]) for c in cells] == [
        ("hallwyl", "HWY 1", "File:Vase.jpg; File:Vase 2.jpg"),  # one object, two files: one row
        ("hallwyl", "HWY 9", "File:Shared.jpg"),
        ("armoury", "LRK 1", "File:Sword.jpg"),
        ("armoury", "LRK 9", "File:Shared.jpg"),
    ]
    assert cells[0]["description/sv"] == "vas av glas" and cells[0]["date"] == "1890"
    objects = shell.jsonl(
        "export", "--layout", "wide", "--format", "jsonl", "--all", "--collection", "armoury"
    )
    assert [(o["collection"], o["object_id"]) for o in objects] == [
        ("armoury", "LRK 1"),
        ("armoury", "LRK 9"),
    ]


def test_the_wide_collection_column_takes_the_museums_name_and_a_field_called_collection_keeps_its_own(
    tmp_path: Path,
) -> None:
    shell = Shell(tmp_path, TWO_COLLECTIONS + '\n[export.columns]\n"collection" = "Samling"\n')
    shell.queue(file="File:Vase.jpg", revision=13, object_id="HWY 1", collection="hallwyl",
                changes=[FieldChange("collection", "added", None, "Glas", "Artwork")])  # fmt: skip
    shell.accept_all()
    header, *rows = csv_table(shell.run("export", "--layout", "wide", "--all").stdout)
    assert header[-1] == "Samling" and "collection (field)" in header
    first = dict(zip(header, rows[0], strict=True))
    assert (first["Samling"], first["collection (field)"]) == ("hallwyl", "Glas")


def test_a_profiles_starter_mapping_skips_the_collection_column(shell: Shell) -> None:
    shell.accept_all()
    target = shell.folder / "ca.csv"
    shell.run("export", "--profile", "collectiveaccess", "--all", "-o", str(target))
    header = csv_table(target.read_text(encoding="utf-8"))[0]
    assert header[0] == "idno" and header[-1] == "collection"
    mapping = csv_table((shell.folder / "ca.mapping.csv").read_text(encoding="utf-8"))
    last = next(row for row in mapping if row[1] == str(len(header)))
    assert (last[0], last[9]) == ("Skip", "collection")
    omeka = shell.folder / "omeka.csv"
    shell.run("export", "--profile", "omeka", "--all", "-o", str(omeka))
    notes = csv_table((shell.folder / "omeka.columns.csv").read_text(encoding="utf-8"))
    assert notes[-1][1:3] == ["collection", ""] and notes[-1][-1] == "Do not map (provenance)"


def test_status_counts_each_collections_changes(shell: Shell) -> None:
    shell.run("reject", *map(str, shell.armoury))
    report = json.loads(shell.run("status", "--format", "json").stdout)
    assert report["queue_by_collection"] == {
        "hallwyl": {"pending": 2, "accepted": 0, "rejected": 0, "withdrawn": 0},
        "armoury": {"pending": 1, "accepted": 0, "rejected": 1, "withdrawn": 0},
    }
    lines = shell.run("status").stdout.splitlines()
    assert [line.split(":", 1)[1].strip() for line in lines if line.startswith("collection:")] == [
        "hallwyl: 2 pending, 0 accepted, 0 rejected, 0 withdrawn",
        "armoury: 1 pending, 0 accepted, 1 rejected, 0 withdrawn",
    ]
    # The agency overview's month, per collection: the rejection just made is this month's.
    month = report["this_month"]
    assert month["month"] == f"{datetime.now(UTC):%Y-%m}"
    assert [(c["name"], c["rejected"], c["pending"]) for c in month["collections"]] == [
        ("hallwyl", 0, 2),
        ("armoury", 1, 1),
    ]
    heading = f"{datetime.now(UTC):%B}:"
    month_lines = [line.split(":", 1)[1].strip() for line in lines if line.startswith(heading)]
    assert [line.split(":", 1)[0] for line in month_lines] == ["hallwyl", "armoury"]
    assert "1 rejected, 0 withdrawn; last export —" in month_lines[1]

    async def only_armoury() -> dict[str, Any]:
        async with Database.open(shell.database) as db:
            config = parse_config(TWO_COLLECTIONS, shell.config)
            return await collect_status(db, config, collections=["armoury"])

    assert list(asyncio.run(only_armoury())["queue_by_collection"]) == ["armoury"]


def test_status_of_the_tracking_form_has_no_collection_lines(tmp_path: Path) -> None:
    shell = CliShell(tmp_path)
    shell.queue(changes=desc("a", "b"))
    assert "collection:" not in shell.run("status").stdout
    report = json.loads(shell.run("status", "--format", "json").stdout)
    assert report["queue_by_collection"] == {
        "default": {"pending": 1, "accepted": 0, "rejected": 0, "withdrawn": 0}
    }


def test_the_monthly_summary_per_collection_and_for_all(shell: Shell) -> None:
    """`watcher summary`: the month asked for, every collection or the one named, as a document, text or
    JSON; a month that is no month and an unknown collection are refused in words."""
    month = "2026-03"  # the month the shell's edits were made in
    edited = json.loads(shell.run("summary", "--month", month, "--format", "json").stdout)
    assert [(c["name"], c["changes"]) for c in edited["collections"]] == [("hallwyl", 2), ("armoury", 2)]
    only = json.loads(
        shell.run("summary", "--month", month, "--collection", "armoury", "--format", "json").stdout
    )
    assert [c["name"] for c in only["collections"]] == ["armoury"]
    target = shell.folder / "summary.html"
    said = shell.run("summary", "--month", month, "-o", str(target))
    assert said.stderr.strip() == f"summary of March 2026 written to {target}"
    document = target.read_text(encoding="utf-8")
    assert document.count("<svg") == 2 and "The Royal Armoury" in document
    assert "Changes in March 2026: 2" in shell.run("summary", "--month", month, "--format", "text").stdout
    # Without --month: the last whole month.
    last = json.loads(shell.run("summary", "--format", "json").stdout)["month"]
    today = datetime.now(UTC)
    assert last == (f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}")
    wrong = shell.run("summary", "--month", "March", code=2)
    assert "'March' is not a month: give it as YYYY-MM" in wrong.stderr
    unknown = shell.run("summary", "--collection", "nope", code=None)
    assert unknown.exit_code != 0 and "nope" in unknown.stderr
