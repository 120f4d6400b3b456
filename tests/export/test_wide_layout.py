"""`--layout wide` (contract, "Handing back"; issue 12 item 3): one row per object, the museum's column
names, the latest accepted value in each cell, categories joined, removals told apart from "no change",
and the provenance a registrar needs. Records go through the real store: queued with insert_changes,
reviewed with reviews.review, read back as the export reads them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from tests.support.export_sample import (
    TRICKY,
    category,
    depicts,
    desc,
    museum_sample,
    queue_edit,
    records,
    review,
)
from watcher.config import Config
from watcher.diff.model import FieldChange
from watcher.export import routine
from watcher.export.profiles import write_wide_csv, write_wide_jsonl
from watcher.export.wide import PROVENANCE, WideTable, cell_key, wide_table
from watcher.store.db import Database

MUSEUM_COLUMNS = """
[export.columns]
"description/sv" = "Beskrivning"
"date" = "Datering"
"category" = "Ämnesord"
"statement/P180" = "Motiv"
"object_id" = "Inventarienummer"
"title" = "Titel"
"""


def by_object(table: WideTable) -> dict[str, dict[str, str]]:
    """Each row as {column name: cell}, keyed by object id (or file where it has none)."""
    return {row.get(table.names["object_id"]) or row["file"]: row for row in table.dicts()}


async def test_the_latest_edit_wins_whatever_order_the_changes_were_queued_in(
    db: Database, make_config: Callable[..., Config]
) -> None:
    # Queued out of order: the history backlog arrives after live edits. Two edits share a timestamp,
    # so the revision decides between them.
    late = await queue_edit(db, [desc("sv", "b", "c")], revision=300, timestamp="2026-03-03T09:00:00Z")
    early = await queue_edit(db, [desc("sv", "a", "b")], revision=100, timestamp="2026-03-01T09:00:00Z")
    same_time_lower = await queue_edit(
        db, [desc("sv", "c", "d")], revision=400, timestamp="2026-03-04T09:00:00Z"
    )
    same_time_higher = await queue_edit(
        db, [desc("sv", "d", "e")], revision=401, timestamp="2026-03-04T09:00:00Z"
    )
    await review(db, late + early + same_time_higher + same_time_lower)
    row = by_object(wide_table(await records(db), make_config()))["EXM-1"]
    assert row["description/sv"] == "e"
    assert row["revisions"] == "100; 300; 400; 401"
    assert row["last_edit"] == "2026-03-04T09:00:00Z"


async def test_only_what_the_selection_holds_fills_cells(
    db: Database, make_config: Callable[..., Config]
) -> None:
    accepted = await queue_edit(
        db, [desc("sv", "a", "accepted text")], revision=100, timestamp="2026-03-01T09:00:00Z"
    )
    pending = await queue_edit(db, [desc("sv", "accepted text", "pending text")], revision=101, timestamp="2026-03-02T09:00:00Z")  # fmt: skip
    rejected = await queue_edit(db, [desc("en", None, "rejected text")], revision=102, timestamp="2026-03-03T09:00:00Z")  # fmt: skip
    await review(db, accepted)
    await review(db, rejected, "reject")
    table = wide_table(await records(db), make_config())
    assert by_object(table)["EXM-1"]["description/sv"] == "accepted text"
    assert "description/en" not in table.keys and table.ids == accepted
    everything = wide_table(await records(db, "all"), make_config())
    assert by_object(everything)["EXM-1"]["description/sv"] == "pending text"  # asked for: pending too
    assert rejected[0] not in everything.ids and pending[0] in everything.ids


async def test_categories_and_statements_are_sets_joined_with_semicolons(
    db: Database, make_config: Callable[..., Config]
) -> None:
    first = await queue_edit(
        db,
        [category("added", "Chairs"), category("removed", "Furniture"), category("added", "Oak"),
         depicts("added", "Q15026")],
        revision=100, timestamp="2026-03-01T09:00:00Z",
    )  # fmt: skip
    second = await queue_edit(
        db,
        [category("added", "Gustavian furniture"), category("removed", "Oak"), depicts("added", "Q5"),
         depicts("removed", "Q42")],
        revision=101, timestamp="2026-03-02T09:00:00Z",
    )  # fmt: skip
    await review(db, first + second)
    table = wide_table(await records(db), make_config(MUSEUM_COLUMNS))
    row = by_object(table)["EXM-1"]
    assert row["Ämnesord"] == "Chairs; Gustavian furniture"  # Oak: added, then removed again
    assert row["Ämnesord (removed)"] == "Furniture"
    assert row["Motiv"] == "Q15026; Q5" and row["Motiv (removed)"] == "Q42"
    csv_rows = list(csv.reader(io.StringIO("".join(write_wide_csv(await records(db), make_config())))))
    assert csv_rows[0][:2] == ["object_id", "file"]
    assert dict(zip(csv_rows[0], csv_rows[1], strict=True))["category"] == "Chairs; Gustavian furniture"


async def test_a_removal_is_an_empty_cell_named_in_cleared_never_a_blank_alone(
    db: Database, make_config: Callable[..., Config]
) -> None:
    set_then_removed = await queue_edit(
        db, [desc("sv", "old", "newer"), FieldChange("date", "removed", "1780", None, "Information")],
        revision=100, timestamp="2026-03-01T09:00:00Z",
    )  # fmt: skip
    removed = await queue_edit(
        db, [desc("sv", "newer", None)], revision=101, timestamp="2026-03-02T09:00:00Z"
    )
    other_object = await queue_edit(
        db, [desc("en", None, "text")], revision=200, timestamp="2026-03-02T09:00:00Z", object_id="EXM-2"
    )
    await review(db, set_then_removed + removed + other_object)
    rows = by_object(wide_table(await records(db), make_config(MUSEUM_COLUMNS)))
    assert rows["EXM-1"]["Beskrivning"] == "" and rows["EXM-1"]["Datering"] == ""
    assert rows["EXM-1"]["cleared"] == "Beskrivning; Datering"  # "set empty", by column name
    assert rows["EXM-2"]["Beskrivning"] == "" and rows["EXM-2"]["cleared"] == ""  # "no change"
    assert rows["EXM-2"]["description/en"] == "text"


async def test_the_museums_mapping_names_and_orders_the_columns(
    db: Database, make_config: Callable[..., Config]
) -> None:
    await museum_sample(db)
    table = wide_table(await records(db), make_config(MUSEUM_COLUMNS))
    header = table.header()
    # Fixed, mapped in config order (a set's removed column after it; columns without data too: an
    # importer mapping by position keeps working), the unmapped ones sorted, then provenance.
    assert header == [
        "Inventarienummer", "file", "Beskrivning", "Datering", "Ämnesord", "Ämnesord (removed)",
        "Motiv", "Motiv (removed)", "Titel",
        "description", "description/en", "description/fi", "dimensions", "medium", "source",
        *PROVENANCE,
    ]  # fmt: skip
    rows = by_object(table)
    assert rows["EXM-1"]["Beskrivning"] == TRICKY["separators"]
    assert rows["EXM-1"]["Datering"] == "ca 1785" and rows["EXM-1"]["Motiv"] == "Q15026"
    assert rows["EXM-1"]["Ämnesord"] == "Chairs in Nordiska museet; Gustavian furniture"
    assert rows["EXM-2"]["Titel"] == TRICKY["formula"]  # raw here: guarding is the writer's


async def test_a_file_without_object_id_gets_its_own_row_and_an_object_with_two_files_one(
    db: Database, make_config: Callable[..., Config]
) -> None:
    front = await queue_edit(db, [desc("sv", None, "front")], revision=100, timestamp="2026-03-01T09:00:00Z",
                             file="File:Chair front.jpg")  # fmt: skip
    back = await queue_edit(db, [desc("en", None, "back")], revision=101, timestamp="2026-03-02T09:00:00Z",
                            file="File:Chair back.jpg")  # fmt: skip
    loose = await queue_edit(db, [desc("sv", None, "loose")], revision=102, timestamp="2026-03-03T09:00:00Z",
                             object_id=None, file="File:Unknown chair.jpg")  # fmt: skip
    await review(db, front + back + loose)
    table = wide_table(await records(db), make_config())
    assert [(r.object_id, r.files) for r in table.rows] == [
        ("EXM-1", ["File:Chair front.jpg", "File:Chair back.jpg"]),
        (None, ["File:Unknown chair.jpg"]),
    ]
    rows = table.dicts()
    assert rows[0]["file"] == "File:Chair front.jpg; File:Chair back.jpg"
    assert rows[1]["object_id"] == "" and rows[1]["description/sv"] == "loose"


async def test_provenance_columns_name_editors_reviewers_revisions_diffs_and_ids(
    db: Database, make_config: Callable[..., Config]
) -> None:
    one = await queue_edit(
        db, [desc("sv", "a", "b")], revision=100, timestamp="2026-03-01T09:00:00Z", user="Åsa"
    )
    two = await queue_edit(
        db, [desc("en", None, "c")], revision=101, timestamp="2026-03-02T09:00:00Z", user="Bo"
    )
    three = await queue_edit(
        db, [desc("fi", None, "d")], revision=102, timestamp="2026-03-03T09:00:00Z", user="Åsa"
    )
    await review(db, one + three, actor="registrar")
    await review(db, two, actor="curator")
    row = wide_table(await records(db), make_config()).dicts()[0]
    assert row["editors"] == "Åsa; Bo"  # distinct, in edit order
    assert row["reviewers"] == "registrar; curator"
    assert row["revisions"] == "100; 101; 102"
    assert row["diff_urls"].split("; ") == [
        f"https://commons.wikimedia.org/w/index.php?diff={rev}&oldid={rev - 1}" for rev in (100, 101, 102)
    ]
    assert row["last_edit"] == "2026-03-03T09:00:00Z"
    assert row["ids"] == "; ".join(str(i) for i in sorted(one + two + three))


async def test_the_routine_exports_retraction_rows_set_the_cell_back(
    db: Database, make_config: Callable[..., Config]
) -> None:
    config = make_config(MUSEUM_COLUMNS)
    first = await queue_edit(
        db, [desc("sv", "original", "vandalised")], revision=100, timestamp="2026-03-01T09:00:00Z"
    )
    added = await queue_edit(
        db, [category("added", "Wrong category")], revision=101, timestamp="2026-03-02T09:00:00Z"
    )
    kept = await queue_edit(db, [desc("en", None, "kept")], revision=102, timestamp="2026-03-03T09:00:00Z")
    await review(db, first + added + kept)
    sent = await routine.select(db, routine.ROUTINE_SELECTION)
    assert wide_table(sent.records, config).ids == sorted(first + added + kept)
    await routine.mark(db, sent)  # the collection system has all three
    await review(db, first + added, "reject")
    # What the routine export sends next: the two retraction rows, nothing else.
    batch = await routine.select(db, routine.ROUTINE_SELECTION)
    assert sorted(batch.retracted) == sorted(first + added) and not batch.exported
    table = wide_table(batch.records, config)
    row = by_object(table)["EXM-1"]
    assert row["Beskrivning"] == "original"  # back to the value before the retracted change
    assert row["Ämnesord (removed)"] == "Wrong category" and row["Ämnesord"] == ""
    assert row["retracted"] == "Beskrivning (revision 100); Ämnesord (revision 101)"
    assert "description/en" not in row and table.ids == sorted(first + added)  # the kept one: not again
    await routine.mark(db, batch)
    assert not (await routine.select(db, routine.ROUTINE_SELECTION)).records  # each retraction once
    rejected_since = wide_table(await records(db, "all"), config)  # retracted already: left out now
    assert rejected_since.ids == kept


async def test_cell_keys_follow_the_contract_fields(db: Database, make_config: Callable[..., Config]) -> None:
    ids = await queue_edit(
        db,
        [FieldChange("file", "changed", "a" * 40, "b" * 40), FieldChange("caption", "added", None, "Stol", language="sv"),
         FieldChange("location", "added", None, "59.3,18.1", "Object location"), depicts("added", "Q1"),
         FieldChange("ids", "added", None, "a parameter called ids", "Information")],
        revision=100, timestamp="2026-03-01T09:00:00Z",
    )  # fmt: skip
    await review(db, ids)
    found = await records(db)
    assert [cell_key(r) for r in found] == [
        "file/sha1",
        "caption/sv",
        "location",
        "statement/P180",
        "ids (field)",
    ]
    row = wide_table(found, make_config()).dicts()[0]
    assert row["file"] == "File:Example museum object 1.jpg" and row["file/sha1"] == "b" * 40
    assert row["ids (field)"] == "a parameter called ids" and row["ids"] == "; ".join(map(str, ids))


async def test_wide_csv_reads_back_with_pythons_csv_and_jsonl_as_json(
    db: Database, make_config: Callable[..., Config]
) -> None:
    await museum_sample(db)
    config = make_config(MUSEUM_COLUMNS)
    found = await records(db)
    text = "".join(write_wide_csv(found, config, bom=True, formula_guard=True))
    assert text.startswith("\ufeff") and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    expected = wide_table(found, config).lists()
    assert len(rows) == len(expected) == 4 and rows[0] == expected[0]
    guarded = {TRICKY["formula"], TRICKY["minus"]}
    for got, want in zip(rows[1:], expected[1:], strict=True):
        assert got == ["'" + c if c in guarded else c for c in want]
    # A spreadsheet in a locale whose list separator is ";" splits no cell: every cell with one is quoted.
    with_semicolon = [c for c in raw_cells(text.removeprefix("\ufeff")) if ";" in c]
    assert with_semicolon and all(c.startswith('"') and c.endswith('"') for c in with_semicolon)
    objects = [json.loads(line) for line in "".join(write_wide_jsonl(found, config)).splitlines()]
    assert objects == wide_table(found, config).dicts()  # JSON is never guarded


def raw_cells(text: str) -> list[str]:
    """The cells of a CSV text as written, quotes and all (split on unquoted commas and line ends)."""
    cells, cell, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if not quoted and char in ",\n":
            cells.append(cell.removesuffix("\r"))
            cell = ""
        else:
            cell += char
    return cells
