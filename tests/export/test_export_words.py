"""The words beside the raw values in CSV and JSON lines (issue 15, point 2): `old`/`new` stay the raw
wikitext and ids, `field_text`/`old_text`/`new_text` come after every existing key and column, with
labels from the cache in the museum's languages, the record's own labels where the cache has none,
and the id where neither has one; a cache that cannot be read never fails the export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import CliShell
from tests.support.fixtures import wikitext
from watcher.diff import DiffSettings, FieldChange, parse_wikitext
from watcher.export.csvfile import CSV_HEADER, EXPORT_COLUMNS, LABEL_COLUMNS
from watcher.export.words import TEXT_COLUMNS
from watcher.store import Database
from watcher.store.queue import Provenance, insert_changes

STOL = "lsh_glam_batch_stol_103896.wikitext"


def stol_date() -> str:
    """The real `date` of the Skokloster chair's page: {{other date|ca|1750}}."""
    info = parse_wikitext(wikitext(STOL), DiffSettings()).info[0]
    date = info.param("date")
    assert date is not None
    return date.raw


def provenance(revision: int, comment: str) -> Provenance:
    return Provenance(
        wiki="commonswiki", file="File:Stol.jpg", revision=revision, old_revision=revision - 1,
        timestamp=f"2026-03-0{revision % 9 + 1}T10:00:00Z", user="Editor", comment=comment, object_id="SKO 1775",
    )  # fmt: skip


def changes() -> list[tuple[Provenance, FieldChange]]:
    return [
        (provenance(11, "/* Summary */ date"), FieldChange("date", "changed", "1750", stol_date(), template="LSH artwork")),
        (
            provenance(12, "/* wbsetclaim-create:2||1 */ [[d:Special:EntityPage/P180]]: [[d:Special:EntityPage/Q17199752]]"),
            FieldChange("statement", "added", None, "Q17199752", property="P180"),
        ),
        (
            provenance(13, "/* wbsetclaim-update:2||1 */ [[d:Special:EntityPage/P571]]"),
            FieldChange(
                "statement", "changed", "+1904-01-01T00:00:00Z", "+1750-01-01T00:00:00Z", property="P571",
                detail={"value_detail": {"precision": "9"}, "old_value_detail": {"precision": "11"}},
            ),
        ),
        (
            provenance(14, "tag"),
            FieldChange("statement", "added", None, "Q42", property="P180", detail={"new_label": "Douglas Adams"}),
        ),
        (provenance(15, "cat"), FieldChange("category", "added", None, "Chairs in Skokloster Castle")),
        (provenance(16, "desc"), FieldChange("description", "changed", "=cmd|' /C calc'!A0", "[[Stol|=chair]]", language="sv")),
    ]  # fmt: skip


class WordsShell(CliShell):
    """A database with the records above, a label cache, and [labels] languages = ["sv", "en"]."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        with self.config.open("a", encoding="utf-8") as config:
            config.write('[labels]\nlanguages = ["sv", "en"]\n')
        asyncio.run(self._fill())
        self.sql(
            "INSERT INTO entity_labels (entity, language, label, fetched_at) VALUES "
            "('Q17199752', 'en', 'Crassula', '2026-03-01T00:00:00Z'), "
            "('Q17199752', 'sv', 'Krassulor', '2026-03-01T00:00:00Z'), "
            "('P180', 'sv', 'avbildar', '2026-03-01T00:00:00Z'), "
            "('P571', 'de', 'Entstehungszeit', '2026-03-01T00:00:00Z')"
        )

    async def _fill(self) -> None:
        async with Database.open(self.database) as db:
            for prov, change in changes():
                async with db.transaction() as conn:
                    await insert_changes(conn, prov, [change])

    def lines(self) -> list[dict[str, Any]]:
        result = self.run("changes", "--format", "jsonl", "--status", "all", "--kind", "all")
        return [json.loads(line) for line in result.stdout.splitlines() if line]


@pytest.fixture
def shell(tmp_path: Path) -> WordsShell:
    return WordsShell(tmp_path)


def by_revision(items: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {int(item["revision"]): item for item in items}


def test_json_lines_keep_the_raw_values_and_add_the_words_at_the_end(shell: WordsShell) -> None:
    lines = shell.lines()
    for line in lines:
        assert list(line)[-3:] == list(TEXT_COLUMNS)  # after every existing key, in this order
    found = by_revision(lines)
    date = found[11]
    assert (date["old"], date["new"]) == ("1750", "{{other date|ca|1750}}")  # raw, as before
    assert (date["field_text"], date["old_text"], date["new_text"]) == ("date", "1750", "circa 1750")
    depicts = found[12]
    assert depicts["new"] == "Q17199752"
    # The cache's label in the first language that has one (sv before en), and the property's label.
    assert (depicts["field_text"], depicts["old_text"], depicts["new_text"]) == (
        "avbildar",
        None,
        "Krassulor (Q17199752)",
    )
    inception = found[13]
    # Each side at its own precision (detail), the property by its built-in name (no sv/en label).
    assert (inception["field_text"], inception["old_text"], inception["new_text"]) == (
        "inception",
        "1 January 1904",
        "1750",
    )
    # Not in the cache: the label the record got when it was queued.
    assert found[14]["new_text"] == "Douglas Adams (Q42)"
    assert found[15]["new_text"] == "Chairs in Skokloster Castle"
    assert found[16]["new_text"] == "=chair"


def test_the_csv_adds_the_words_after_every_column_and_guards_them(shell: WordsShell) -> None:
    shell.sql("UPDATE changes SET status = 'accepted'")
    result = shell.run("export", "--format", "csv", "--all")
    rows = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"), newline="")))
    header = list(rows[0])
    assert header == [*EXPORT_COLUMNS, *LABEL_COLUMNS, "id", *TEXT_COLUMNS, "collection"] == list(CSV_HEADER)
    found = {int(row["revision"]): row for row in rows}
    assert (found[11]["new"], found[11]["new_text"]) == ("{{other date|ca|1750}}", "circa 1750")
    assert found[12]["new_text"] == "Krassulor (Q17199752)" and found[12]["field_text"] == "avbildar"
    # Commons text is guarded in the words as in the raw columns.
    assert found[16]["old"] == "'=cmd|' /C calc'!A0" and found[16]["old_text"] == "'=cmd|' /C calc'!A0"
    assert found[16]["new_text"] == "'=chair"
    raw = shell.run("export", "--format", "csv", "--all", "--raw")
    unguarded = {int(r["revision"]): r for r in csv.DictReader(io.StringIO(raw.stdout, newline=""))}
    assert unguarded[16]["new_text"] == "=chair"


def test_without_label_languages_the_words_name_ids_and_built_in_names(tmp_path: Path) -> None:
    shell = WordsShell(tmp_path)
    text = shell.config.read_text(encoding="utf-8").replace('languages = ["sv", "en"]', "languages = []")
    shell.config.write_text(text, encoding="utf-8")
    found = by_revision(shell.lines())
    assert (found[12]["field_text"], found[12]["new_text"]) == ("depicts", "Q17199752")
    assert found[14]["new_text"] == "Douglas Adams (Q42)"


def test_a_label_cache_that_cannot_be_read_never_fails_the_export(
    shell: WordsShell, caplog: pytest.LogCaptureFixture
) -> None:
    shell.sql("DROP TABLE entity_labels")
    result = shell.run("changes", "--format", "jsonl", "--status", "all", "--kind", "all")
    assert "labels not read from the cache (no such table: entity_labels)" in caplog.text
    found = by_revision([json.loads(line) for line in result.stdout.splitlines() if line])
    assert found[12]["new_text"] == "Q17199752" and found[12]["field_text"] == "depicts"
    assert found[14]["new_text"] == "Douglas Adams (Q42)"
    assert found[11]["new_text"] == "circa 1750"
