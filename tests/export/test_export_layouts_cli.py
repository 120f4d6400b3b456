"""`watcher export --layout wide` and `--profile` through the command line (issue 12 items 3 and 4): the
museum's column names from [export.columns], the routine marking as for the long layout, a profile's
starter mapping beside the data file, and combinations that make no file refused in words."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.support.cli import CliShell
from watcher.diff.model import FieldChange

COLUMNS = '\n[export.columns]\n"description/sv" = "Beskrivning"\n"date" = "Datering"\n'


@pytest.fixture
def shell(tmp_path: Path) -> CliShell:
    shell = CliShell(tmp_path)
    with shell.config.open("a", encoding="utf-8") as config:
        config.write(COLUMNS)
    first = shell.queue(
        file="File:Armband.jpg", revision=101, object_id="LRK 1", timestamp="2026-03-01T10:00:00Z",
        changes=[
            FieldChange("description", "changed", "Armband", "Armband av guld", "Information", None, "sv"),
            FieldChange("date", "added", None, "1890", "Information"),
        ],
    )  # fmt: skip
    later = shell.queue(
        file="File:Armband.jpg", revision=102, object_id="LRK 1", timestamp="2026-03-02T10:00:00Z",
        changes=[FieldChange("date", "changed", "1890", "circa 1890", "Information")],
    )  # fmt: skip
    shell.run("accept", *map(str, first + later))
    return shell


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_wide_layout_uses_the_museums_columns_and_marks_like_the_routine_export(shell: CliShell) -> None:
    result = shell.run("export", "--layout", "wide")
    (row,) = table(result.stdout_bytes.decode("utf-8"))
    assert row["object_id"] == "LRK 1" and row["file"] == "File:Armband.jpg"
    assert row["Beskrivning"] == "Armband av guld" and row["Datering"] == "circa 1890"  # the latest wins
    assert "exported 3 change(s)" in result.stderr
    assert "nothing new since" in shell.run("export", "--layout", "wide").stderr


def test_the_config_chooses_the_default_layout(shell: CliShell) -> None:
    text = shell.config.read_text(encoding="utf-8").replace(
        "[export.columns]", '[export]\nlayout = "wide"\n[export.columns]'
    )
    shell.config.write_text(text, encoding="utf-8")
    (row,) = table(shell.run("export", "--all").stdout_bytes.decode("utf-8"))
    assert row["Datering"] == "circa 1890"
    long_rows = table(shell.run("export", "--all", "--layout", "long").stdout_bytes.decode("utf-8"))
    assert len(long_rows) == 3


def test_a_profile_writes_its_starter_mapping_beside_the_file(shell: CliShell) -> None:
    output = shell.folder / "ca.csv"
    result = shell.run("export", "--profile", "collectiveaccess", "-o", str(output))
    assert f"and the starter mapping {shell.folder / 'ca.mapping.csv'}" in result.stderr
    data = output.read_text(encoding="utf-8")
    assert not data.startswith("\ufeff")  # PHP's fgetcsv would keep a BOM in the first header
    (row,) = table(data)
    assert row["idno"] == "LRK 1" and row["Datering"] == "circa 1890"
    assert "idno" in (shell.folder / "ca.mapping.csv").read_text(encoding="utf-8")
    generic = shell.run("export", "--all", "--profile", "generic").stdout_bytes.decode("utf-8")
    assert generic.startswith("\ufeff") and table(generic)[0]["Beskrivning"] == "Armband av guld"


def test_combinations_that_make_no_file_are_refused(shell: CliShell) -> None:
    refused = shell.run("export", "--profile", "omeka", "--format", "jsonl", code=2)
    assert "profile is a CSV file" in refused.stderr
    wide = shell.run("export", "--layout", "wide", "--format", "annotations", code=2)
    assert "--layout wide is written as csv or jsonl" in wide.stderr
    assert all(row["exported_at"] is None for row in shell.sql("SELECT exported_at FROM changes"))
