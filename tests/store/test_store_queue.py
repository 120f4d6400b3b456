"""The change queue: once-only inserts keyed like the contract, filters, review, export marks, --since."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import pytest

from tests.support.postgres import CONSTRAINT_VIOLATIONS
from watcher.diff.model import FieldChange
from watcher.store import Database
from watcher.store.queue import (
    ChangeFilter,
    ChangeRecord,
    Provenance,
    count_changes,
    insert_changes,
    list_changes,
    mark_exported,
    parse_since,
    queue_counts,
    set_status,
)

CONTRACT_KEYS = {
    "id", "wiki", "file", "object_id", "revision", "old_revision", "timestamp", "user", "comment", "field",
    "template", "property", "language", "action", "kind", "old", "new", "status", "source",
}  # fmt: skip

DESCRIPTION = FieldChange(
    "description", "changed", "Armband", "Armband of gold", template="Information", language="en"
)


def provenance(revision: int = 100, **kw: Any) -> Provenance:
    values: dict[str, Any] = {
        "wiki": "commonswiki",
        "file": "File:Armband.jpg",
        "revision": revision,
        "old_revision": revision - 1,
        "timestamp": "2026-03-01T10:00:00Z",
        "user": "Curious Editor",
        "comment": "better description",
        "object_id": "LRK 123",
    }
    values.update(kw)
    return Provenance(**values)


async def queue(db: Database, prov: Provenance, *changes: FieldChange) -> int:
    async with db.transaction() as conn:
        return await insert_changes(conn, prov, changes)


async def all_records(db: Database) -> list[ChangeRecord]:
    return await list_changes(db, ChangeFilter(status="all", kind="all"))


# -- once only -----------------------------------------------------------------------------------


async def test_the_same_changes_twice_are_stored_once(db: Database) -> None:
    category = FieldChange("category", "added", None, "Armbands")
    assert await queue(db, provenance(), DESCRIPTION, category) == 2
    assert await queue(db, provenance(), DESCRIPTION, category) == 0
    assert await queue(db, provenance(), category, DESCRIPTION) == 0
    assert len(await all_records(db)) == 2


async def test_null_fields_take_part_in_the_key(db: Database) -> None:
    """SQLite's UNIQUE treats NULLs as distinct; the hashed key must not."""
    no_language = FieldChange("description", "added", None, "Armband", template="Information")
    assert await queue(db, provenance(), no_language) == 1
    assert await queue(db, provenance(), no_language) == 0  # every optional field NULL: still once
    variants = [
        replace(no_language, language="sv"),
        replace(no_language, template=None),
        replace(no_language, old=""),
        replace(no_language, property="P180"),
        replace(no_language, new=None, old="Armband", action="removed"),
    ]
    for variant in variants:
        assert await queue(db, provenance(), variant) == 1, variant
        assert await queue(db, provenance(), variant) == 0, variant
    assert len(await all_records(db)) == 1 + len(variants)


async def test_the_key_is_wiki_revision_and_change(db: Database) -> None:
    assert await queue(db, provenance(100), DESCRIPTION) == 1
    assert await queue(db, provenance(101), DESCRIPTION) == 1
    assert await queue(db, provenance(100, wiki="testwiki"), DESCRIPTION) == 1
    # Provenance outside the key (a history run over an edit the stream already queued) adds nothing.
    again = provenance(100, source="history", file="File:Renamed.jpg", user="Someone", comment=None)
    assert await queue(db, again, DESCRIPTION) == 0
    assert len(await all_records(db)) == 3


async def test_kind_and_detail_are_not_part_of_the_key(db: Database) -> None:
    assert await queue(db, provenance(), DESCRIPTION) == 1
    assert await queue(db, provenance(), replace(DESCRIPTION, kind="maintenance", detail={"x": 1})) == 0


async def test_the_key_is_injective(db: Database) -> None:
    first = FieldChange("description", "changed", "a\x1fb", "c")
    second = FieldChange("description", "changed", "a", "b\x1fc")
    assert await queue(db, provenance(), first, second) == 2


async def test_a_failed_transaction_queues_nothing(db: Database) -> None:
    with pytest.raises(CONSTRAINT_VIOLATIONS):
        async with db.transaction() as conn:
            await insert_changes(conn, provenance(), [DESCRIPTION])
            await insert_changes(conn, provenance(101), [replace(DESCRIPTION, action="moved")])  # type: ignore[arg-type]
    assert await all_records(db) == []


# -- records -------------------------------------------------------------------------------------


async def test_a_record_has_the_contract_keys_and_values(db: Database) -> None:
    statement = FieldChange(
        "statement", "added", None, "Q42", property="P180", detail={"qualifiers": {"P1114": ["2"]}}
    )
    await queue(db, provenance(old_revision=None), statement)
    (record,) = await all_records(db)
    data = record.as_contract("https://commons.wikimedia.org/w/index.php")
    assert set(data) >= CONTRACT_KEYS
    assert data["status"] == "pending" and data["source"] == "live" and data["kind"] == "content"
    assert (data["field"], data["property"], data["new"], data["old"]) == ("statement", "P180", "Q42", None)
    assert data["detail"] == {"qualifiers": {"P1114": ["2"]}}
    assert data["diff_url"] == "https://commons.wikimedia.org/w/index.php?oldid=100"
    assert record.queued_at.endswith("Z") and record.exported_at is None


def test_diff_url_with_parent_revision() -> None:
    record = ChangeRecord(
        1, "commonswiki", "File:A.jpg", None, 11, 10, "2026-03-01T10:00:00Z", None, None, "description",
        None, None, None, "added", "content", None, "x", "pending", "live", "2026-03-01T10:00:01Z", None,
        None, None, None, None,
    )  # fmt: skip
    assert (
        record.diff_url("https://c.example/w/index.php") == "https://c.example/w/index.php?diff=11&oldid=10"
    )
    assert "diff_url" not in record.as_contract()


async def test_constraints_reject_unknown_actions_and_kinds(db: Database) -> None:
    # Values the types forbid, as a bug or an old row could still write them: the schema refuses them too.
    for bad in (
        replace(DESCRIPTION, action=cast(Any, "moved")),
        replace(DESCRIPTION, kind=cast(Any, "other")),
    ):
        with pytest.raises(CONSTRAINT_VIOLATIONS):
            await queue(db, provenance(), bad)


# -- filters -------------------------------------------------------------------------------------


async def filled(db: Database) -> dict[str, int]:
    """Five records across files, kinds, languages, sources and days; returns their ids by name."""
    await queue(db, provenance(1, timestamp="2026-03-01T10:00:00Z"), DESCRIPTION)
    await queue(
        db,
        provenance(2, timestamp="2026-03-02T00:00:00Z", file="File:Stol.jpg", object_id="HWY 7"),
        FieldChange("category", "added", None, "Media contributed by LSH: batch 2", kind="maintenance"),
    )
    await queue(
        db,
        provenance(3, timestamp="2026-03-02T23:59:59Z", user="Other", source="history"),
        FieldChange("date", "changed", "1650", "1651", template="Artwork"),
    )
    await queue(db, provenance(4, timestamp="2026-03-03T08:00:00Z"), replace(DESCRIPTION, language="sv"))
    await queue(
        db,
        provenance(5, timestamp="2026-02-28T12:00:00Z", file="File:Stol.jpg", object_id="HWY 7"),
        FieldChange("caption", "added", None, "Stol", language="sv"),
    )
    return {r.field + str(r.revision): r.id for r in await all_records(db)}


async def ids(db: Database, selection: ChangeFilter) -> list[int]:
    found = [r.revision for r in await list_changes(db, selection)]
    assert await count_changes(db, selection) == len(found)
    return found


async def test_filters(db: Database) -> None:
    await filled(db)
    assert await ids(db, ChangeFilter()) == [5, 1, 3, 4]  # pending content, in edit time order
    assert await ids(db, ChangeFilter(kind="maintenance")) == [2]
    assert await ids(db, ChangeFilter(kind="all")) == [5, 1, 2, 3, 4]
    assert await ids(db, ChangeFilter(file="File:Stol.jpg", kind="all")) == [5, 2]
    assert await ids(db, ChangeFilter(field="description")) == [1, 4]
    assert await ids(db, ChangeFilter(language="sv")) == [5, 4]
    assert await ids(db, ChangeFilter(language="none")) == [3]
    assert await ids(db, ChangeFilter(user="Other")) == [3]
    assert await ids(db, ChangeFilter(object_id="HWY 7", kind="all")) == [5, 2]
    assert await ids(db, ChangeFilter(source="history")) == [3]
    assert await ids(db, ChangeFilter(since="2026-03-02T00:00:00Z", kind="all")) == [2, 3, 4]
    assert await ids(db, ChangeFilter(since="2026-03-02T00:00:00Z", until="2026-03-03T00:00:00Z")) == [3]
    assert await ids(db, ChangeFilter(status="accepted")) == []


async def test_filter_by_ids(db: Database) -> None:
    by_name = await filled(db)
    wanted = [by_name["description1"], by_name["caption5"]]
    assert await ids(db, ChangeFilter(ids=wanted)) == [5, 1]
    assert await ids(db, ChangeFilter(ids=[])) == []


async def test_ordering_limit_and_offset(db: Database) -> None:
    await filled(db)
    everything = ChangeFilter(kind="all")
    assert [r.revision for r in await list_changes(db, everything, newest_first=True)] == [4, 3, 2, 1, 5]
    assert [r.revision for r in await list_changes(db, everything, limit=2)] == [5, 1]
    assert [r.revision for r in await list_changes(db, everything, limit=2, offset=2)] == [2, 3]


# -- review and export ---------------------------------------------------------------------------


async def test_set_status_returns_the_ids_found(db: Database) -> None:
    by_name = await filled(db)
    one, three = by_name["description1"], by_name["date3"]
    found = await set_status(db, [one, three, 999_999], "accepted", reviewer="anna", note="copied to CMS")
    assert sorted(found) == sorted([one, three])
    assert await set_status(db, [], "rejected") == []
    assert await set_status(db, [999_999], "rejected") == []
    records = {r.id: r for r in await all_records(db)}
    assert records[one].status == "accepted" and records[one].reviewer == "anna"
    assert records[one].note == "copied to CMS" and records[one].reviewed_at is not None
    assert await queue_counts(db) == {"pending": 3, "accepted": 2, "rejected": 0, "withdrawn": 0}
    # A later decision without a note keeps the note.
    await set_status(db, [one], "rejected", reviewer="bo")
    record = (await list_changes(db, ChangeFilter(ids=[one], status="all", kind="all")))[0]
    assert (record.status, record.reviewer, record.note) == ("rejected", "bo", "copied to CMS")


async def test_queue_counts_of_an_empty_queue(db: Database) -> None:
    assert await queue_counts(db) == {"pending": 0, "accepted": 0, "rejected": 0, "withdrawn": 0}


async def test_mark_exported(db: Database) -> None:
    by_name = await filled(db)
    await mark_exported(db, [by_name["description1"]])
    left = await ids(db, ChangeFilter(status="all", kind="all", not_exported=True))
    assert left == [5, 2, 3, 4]
    (record,) = await list_changes(db, ChangeFilter(ids=[by_name["description1"]]))
    assert record.exported_at is not None and record.exported_at.endswith("Z")
    await mark_exported(db, [])


async def test_mark_exported_in_chunks(db: Database) -> None:
    changes = [FieldChange("category", "added", None, f"C{i}") for i in range(1203)]
    assert await queue(db, provenance(), *changes) == 1203
    await mark_exported(db, [r.id for r in await all_records(db)])
    assert await count_changes(db, ChangeFilter(status="all", kind="all", not_exported=True)) == 0


# -- --since -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", "2026-03-01T00:00:00Z"),
        (" 2026-03-01 ", "2026-03-01T00:00:00Z"),
        ("2026-03-01T07:30", "2026-03-01T07:30:00Z"),
        ("2026-03-01 07:30", "2026-03-01T07:30:00Z"),
        ("2026-03-01T07:30:15Z", "2026-03-01T07:30:15Z"),
        ("2026-03-01T07:30:00+01:00", "2026-03-01T06:30:00Z"),
        ("2026-03-01T00:30:00+02:00", "2026-02-28T22:30:00Z"),
    ],
)
def test_parse_since(text: str, expected: str) -> None:
    assert parse_since(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "2026-02-30", "", "01/03/2026"])
def test_parse_since_rejects_what_is_not_a_date(text: str) -> None:
    with pytest.raises(ValueError, match="not a date or date and time"):
        parse_since(text)


async def test_since_a_date_keeps_the_whole_day(db: Database) -> None:
    await filled(db)
    assert await ids(db, ChangeFilter(kind="all", since=parse_since("2026-03-02"))) == [2, 3, 4]
    assert await ids(db, ChangeFilter(kind="all", since=parse_since("2026-03-02T23:59:59"))) == [3, 4]
