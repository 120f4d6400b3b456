"""Review history: every decision an event, undo walks back, exported decisions changed are reported,
and a database from before the history keeps its decisions as events."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.store.test_store_queue import DESCRIPTION, all_records, provenance, queue
from watcher.diff.model import FieldChange
from watcher.store import Database, reviews
from watcher.store.queue import ChangeFilter, list_changes, mark_exported, unmark_exported
from watcher.store.schema import MIGRATIONS


async def two_changes(db: Database) -> tuple[int, int]:
    await queue(db, provenance(100), DESCRIPTION)
    await queue(db, provenance(101), FieldChange("date", "changed", "1890", "1891", template="Artwork"))
    first, second = (r.id for r in await all_records(db))
    return first, second


async def status_of(db: Database, change_id: int) -> str:
    return str(await db.scalar("SELECT status FROM changes WHERE id = ?", (change_id,)))


async def test_every_decision_is_an_event_with_who_when_and_note(db: Database) -> None:
    one, two = await two_changes(db)
    outcome = await reviews.review(db, [one, two, 999], "accept", actor="anna", note="into the CMS")
    assert outcome.found == [one, two] and outcome.changed == [one, two]
    await reviews.review(db, [one], "reject", actor="bo")
    await reviews.review(db, [one], "note", actor="bo", note="the date is disputed")
    events = await reviews.history(db, one)
    assert [(e.action, e.actor, e.status_before, e.status_after, e.note) for e in events] == [
        ("accept", "anna", "pending", "accepted", "into the CMS"),
        ("reject", "bo", "accepted", "rejected", None),
        ("note", "bo", "rejected", "rejected", "the date is disputed"),
    ]
    assert all(e.at.endswith("Z") for e in events)
    record = next(r for r in await all_records(db) if r.id == one)
    # The change keeps the latest decision (a note alone is not a decision) and the latest note.
    assert (record.status, record.reviewer, record.note) == ("rejected", "bo", "the date is disputed")
    assert [e.action for e in await reviews.history(db, two)] == ["accept"]


async def test_undo_walks_back_one_decision_at_a_time(db: Database) -> None:
    one, _ = await two_changes(db)
    nothing = await reviews.review(db, [one], "undo", actor="anna")
    assert nothing.nothing_to_undo == [one] and nothing.changed == []
    assert await reviews.history(db, one) == []  # an undo of nothing is not an event
    await reviews.review(db, [one], "reject", actor="anna")
    await reviews.review(db, [one], "note", actor="anna", note="n")
    await reviews.review(db, [one], "accept", actor="bo")
    await reviews.review(db, [one], "undo", actor="bo")
    assert await status_of(db, one) == "rejected"
    await reviews.review(db, [one], "undo", actor="bo")
    assert await status_of(db, one) == "pending"
    assert (await reviews.review(db, [one], "undo", actor="bo")).nothing_to_undo == [one]
    actions = [(e.action, e.status_after) for e in await reviews.history(db, one)]
    assert actions == [
        ("reject", "rejected"),
        ("note", "rejected"),
        ("accept", "accepted"),
        ("undo", "rejected"),
        ("undo", "pending"),
    ]


async def test_changing_an_exported_decision_is_reported(db: Database) -> None:
    one, two = await two_changes(db)
    await reviews.review(db, [one, two], "accept", actor="anna")
    await mark_exported(db, [one])
    outcome = await reviews.review(db, [one, two], "reject", actor="bo")
    assert outcome.retracted == [one]  # the collection system has it: the caller must say so
    events = await reviews.history(db, one)
    assert events[-1].exported_at is not None and events[0].exported_at is None
    again = await reviews.review(db, [one], "accept", actor="bo")
    assert again.reinstated == [one] and again.retracted == []


async def test_commons_withdraws_only_a_pending_change(db: Database) -> None:
    one, two = await two_changes(db)
    await reviews.review(db, [two], "accept", actor="anna")
    async with db.transaction() as conn:
        assert await reviews.withdraw_in(conn, one, revision=555)
        assert not await reviews.withdraw_in(conn, two, revision=555)  # decided: keeps its status
        assert not await reviews.withdraw_in(conn, one, revision=556)  # already withdrawn
    assert (await status_of(db, one), await status_of(db, two)) == ("withdrawn", "accepted")
    event = (await reviews.history(db, one))[-1]
    assert (event.action, event.actor, event.revision) == ("withdraw", "Commons", 555)
    # A curator may still decide; the outcome says Commons had undone it.
    outcome = await reviews.review(db, [one], "accept", actor="anna")
    assert outcome.withdrawn == [one] and await status_of(db, one) == "accepted"


def _database_at_version(path: Path, version: int) -> None:
    with sqlite3.connect(path) as conn:
        for step in MIGRATIONS[:version]:
            for statement in step:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version={version}")


async def test_decisions_made_before_the_history_become_events(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _database_at_version(path, 4)
    with sqlite3.connect(path) as conn:
        for n, (status, reviewer) in enumerate([("accepted", "anna"), ("rejected", "bo"), ("pending", None)]):
            conn.execute(
                """INSERT INTO changes (wiki, file, revision, timestamp, field, action, kind, status,
                       queued_at, reviewer, reviewed_at, note, exported_at, unique_key)
                   VALUES ('commonswiki', 'File:A.jpg', ?, '2026-01-01T00:00:00Z', 'date', 'changed',
                       'content', ?, '2026-01-01T00:00:00Z', ?, ?, ?, ?, ?)""",
                (
                    100 + n,
                    status,
                    reviewer,
                    "2026-01-02T00:00:00Z" if reviewer else None,
                    "old note" if reviewer == "anna" else None,
                    "2026-01-03T00:00:00Z" if reviewer == "anna" else None,
                    f"k{n}",
                ),
            )
    async with Database.open(path) as db:
        records = {r.revision: r for r in await all_records(db)}
        assert [records[r].status for r in (100, 101, 102)] == ["accepted", "rejected", "pending"]
        accepted = await reviews.history(db, records[100].id)
        assert [(e.action, e.actor, e.at, e.note, e.exported_at) for e in accepted] == [
            ("accept", "anna", "2026-01-02T00:00:00Z", "old note", "2026-01-03T00:00:00Z")
        ]
        assert [e.action for e in await reviews.history(db, records[101].id)] == ["reject"]
        assert await reviews.history(db, records[102].id) == []
        # The rebuilt table takes the new status and kept its indexes.
        await reviews.review(db, [records[102].id], "withdraw", actor="Commons")
        indexes = {row[0] for row in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"changes_status", "changes_file", "web_changes_export", "review_events_change"} <= indexes


async def test_a_retraction_marked_and_taken_back_is_due_again(db: Database) -> None:
    one, two = await two_changes(db)
    await reviews.review(db, [one, two], "accept", actor="anna")
    first = await mark_exported(db, [one, two])
    await reviews.review(db, [one], "reject", actor="anna")
    due = ChangeFilter(status="all", kind="all", retraction_due=True)
    assert [r.id for r in await list_changes(db, due)] == [one]
    stamp = await mark_exported(db, [], retracted=[one])
    (record,) = await list_changes(db, ChangeFilter(ids=[one], status="all", kind="all"))
    assert (record.exported_at, record.retracted_at) == (None, stamp)
    assert await list_changes(db, due) == []
    await unmark_exported(db, [], stamp, retracted=[one])  # the download never reached its end
    (record,) = await list_changes(db, due)
    assert (record.id, record.exported_at, record.retracted_at) == (one, first, None)
    assert record.as_retraction().status == "rejected" and record.as_retraction().retracts == first


async def test_pending_changes_an_old_export_marked_are_not_retractions(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _database_at_version(path, 5)
    with sqlite3.connect(path) as conn:
        for n, (status, reviewer) in enumerate([("pending", None), ("rejected", "bo"), ("accepted", "anna")]):
            conn.execute(
                """INSERT INTO changes (wiki, file, revision, timestamp, field, action, kind, status,
                       queued_at, reviewer, exported_at, unique_key)
                   VALUES ('commonswiki', 'File:A.jpg', ?, '2026-01-01T00:00:00Z', 'date', 'changed',
                       'content', ?, '2026-01-01T00:00:00Z', ?, '2026-01-03T00:00:00Z', ?)""",
                (200 + n, status, reviewer, f"m{n}"),
            )
    async with Database.open(path) as db:
        exported = {r.status: r.exported_at for r in await all_records(db)}
    assert exported == {
        "pending": None,
        "rejected": "2026-01-03T00:00:00Z",
        "accepted": "2026-01-03T00:00:00Z",
    }
