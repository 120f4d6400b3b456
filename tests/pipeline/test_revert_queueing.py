"""Queueing with reverts and later edits (watcher.pipeline.queueing) on a real database, in every order.

Each scenario is a file's wikitext after each edit; its edits' changes come from the diff itself, and
they are queued in every order the worker could meet them in. Whatever the order, the queue must end
the same: the same records with the same statuses, ``reverted_by`` and ``superseded_by``, and the
changes of the undoing edits kept out of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pytest

from watcher.diff import diff_revisions
from watcher.diff.model import DiffSettings, FieldChange, RevisionContent
from watcher.pipeline.queueing import queue_changes, withdraw_hidden
from watcher.store import Database, reviews
from watcher.store.queue import Provenance


def info(description: str, date: str = "1900", author: str = "Unknown") -> str:
    return f"{{{{Information\n|description={description}\n|date={date}\n|author={author}\n}}}}\n"


CHAIR = "{{en|1=A chair}}"
# (revision, user, text after the edit); the first entry is the page as the museum left it.
ROLLBACK = [
    (100, "Example Museum", info(CHAIR)),
    (101, "Alice", info(CHAIR, date="1901")),
    (102, "Vandal", info("{{en|1=A CHAIR LOL}}", date="1901")),
    (103, "Vandal", info("{{en|1=A CHAIR LOL}}", date="1999")),
    (104, "Patroller", info(CHAIR, date="1901")),  # rollback to Alice's
]
UNDO_MIDDLE = [
    (200, "Example Museum", info(CHAIR)),
    (201, "Bob", info(CHAIR, author="Bob")),
    (202, "Carol", info(CHAIR, author="Bob", date="1901")),
    (203, "Dave", info("{{en|1=A wooden chair}}", author="Bob", date="1901")),
    (204, "Patroller", info("{{en|1=A wooden chair}}", author="Bob")),  # undo of Carol's
]
FRENCH = [
    (300, "Example Museum", info(CHAIR)),
    (301, "Translator", info("{{en|1=A chair}}\n{{fr|1=Une chaise}}\n{{de|1=Ein Stuhl}}")),
    (302, "Erin", info("{{en|1=A chair}}\n{{de|1=Ein Stuhl}}")),  # only the French taken back
]
SUPERSEDED = [
    (400, "Example Museum", info(CHAIR, date="1900")),
    (401, "Alice", info(CHAIR, date="1901")),
    (402, "Bob", info(CHAIR, date="c. 1901")),
    (403, "Carol", info(CHAIR, date="circa 1901")),
]
EDIT_WAR = [
    (500, "Example Museum", info(CHAIR)),
    (501, "Vandal", info("{{en|1=Junk}}")),
    (502, "Patroller", info(CHAIR)),
    (503, "Vandal", info("{{en|1=Junk}}")),
    (504, "Patroller", info(CHAIR)),
    (505, "Alice", info(CHAIR, date="1905")),
]


def edits(
    story: Sequence[tuple[int, str, str]], file: str, offset: int = 0
) -> list[tuple[Provenance, list[FieldChange]]]:
    """The story's edits as the pipeline queues them; ``offset`` is added to every revision id (a
    revision id names one edit of one file: each copy of a story needs its own)."""
    out: list[tuple[Provenance, list[FieldChange]]] = []
    for (old_rev, _, old_text), (rev, user, text) in itertools.pairwise(story):
        changes = diff_revisions(RevisionContent(old_text), RevisionContent(text), DiffSettings())
        provenance = Provenance(
            wiki="commonswiki", file=file, revision=rev + offset, old_revision=old_rev + offset,
            timestamp=f"2026-03-01T10:{rev % 100:02d}:00Z", user=user, comment="", object_id=None,
        )  # fmt: skip
        out.append((provenance, changes))
    return out


async def queue_in_order(db: Database, batch: Sequence[tuple[Provenance, list[FieldChange]]]) -> None:
    for provenance, changes in batch:
        async with db.transaction() as conn:
            await queue_changes(conn, provenance, changes)


async def end_state(db: Database, file: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The file's queue and kept undoing changes, with revision ids back to the story's own."""
    queued = await db.fetchall(
        """SELECT revision % 10000, field, language, action, old, new, status, reverted_by % 10000,
               superseded_by % 10000
           FROM changes WHERE file = ? ORDER BY revision, field, language""",
        (file,),
    )
    kept = await db.fetchall(
        """SELECT revision % 10000, field, language FROM reverting_changes WHERE file = ?
           ORDER BY revision, field, language""",
        (file,),
    )
    return [tuple(r) for r in queued], [tuple(r) for r in kept]


async def every_order_ends_alike(
    db: Database, story: Sequence[tuple[int, str, str]], name: str
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Queue the story's edits in every order (each order on its own file); the common end state."""
    states = []
    for n, order in enumerate(itertools.permutations(range(len(story) - 1))):
        file = f"File:{name} {n}.jpg"
        batch = edits(story, file, offset=10_000 * (n + 1))
        await queue_in_order(db, [batch[i] for i in order])
        await queue_in_order(db, batch)  # a redelivery of everything changes nothing
        states.append(await end_state(db, file))
    assert all(state == states[0] for state in states), "the order the edits were met in changed the end"
    return states[0]


async def test_a_rollback_of_two_vandal_edits_in_any_order(db: Database) -> None:
    queued, kept = await every_order_ends_alike(db, ROLLBACK, "Rollback")
    assert queued == [
        (101, "date", None, "changed", "1900", "1901", "pending", None, None),  # current again
        (102, "description", "en", "changed", "A chair", "A CHAIR LOL", "withdrawn", 104, None),
        (103, "date", None, "changed", "1901", "1999", "withdrawn", 104, None),
    ]
    assert kept == [(104, "date", None), (104, "description", "en")]


async def test_an_undo_of_the_middle_of_three_edits_in_any_order(db: Database) -> None:
    queued, kept = await every_order_ends_alike(db, UNDO_MIDDLE, "Undo")
    assert [(r[0], r[1], r[6], r[7]) for r in queued] == [
        (201, "author", "pending", None),
        (202, "date", "withdrawn", 204),
        (203, "description", "pending", None),
    ]
    assert kept == [(204, "date", None)]


async def test_a_revert_of_only_the_french_description_in_any_order(db: Database) -> None:
    queued, kept = await every_order_ends_alike(db, FRENCH, "French")
    assert [(r[2], r[3], r[6], r[7]) for r in queued] == [
        ("de", "added", "pending", None),
        ("fr", "added", "withdrawn", 302),
    ]
    assert kept == [(302, "description", "fr")]


async def test_an_edit_superseded_twice_in_any_order(db: Database) -> None:
    queued, kept = await every_order_ends_alike(db, SUPERSEDED, "Superseded")
    assert [(r[0], r[5], r[6], r[7], r[8]) for r in queued] == [
        (401, "1901", "pending", None, 402),
        (402, "c. 1901", "pending", None, 403),
        (403, "circa 1901", "pending", None, None),
    ]
    assert kept == []


async def test_an_edit_war_in_any_order(db: Database) -> None:
    queued, kept = await every_order_ends_alike(db, EDIT_WAR, "War")
    assert [(r[0], r[1], r[6], r[7]) for r in queued] == [
        (501, "description", "withdrawn", 502),
        (503, "description", "withdrawn", 504),
        (505, "date", "pending", None),
    ]
    assert kept == [(502, "description", "en"), (504, "description", "en")]


async def test_a_revert_met_first_and_decided_on_stays_but_still_withdraws(db: Database) -> None:
    file = "File:Decided.jpg"
    batch = edits(ROLLBACK, file)
    await queue_in_order(db, batch[3:])  # the rollback first: it looks like two changes of its own
    ids = [int(r[0]) for r in await db.fetchall("SELECT id FROM changes WHERE file = ?", (file,))]
    await reviews.review(db, ids, "accept", actor="curator")
    await queue_in_order(db, batch[:3])
    rows = await db.fetchall(
        "SELECT revision, field, status, reverted_by FROM changes WHERE file = ? ORDER BY revision, field",
        (file,),
    )
    # The curator's decisions on the rollback's changes stay; the vandal's changes are withdrawn.
    assert [tuple(r) for r in rows] == [
        (101, "date", "pending", None),
        (102, "description", "withdrawn", 104),
        (103, "date", "withdrawn", 104),
        (104, "date", "accepted", None),
        (104, "description", "accepted", None),
    ]


async def test_a_change_that_leaves_the_queue_never_gives_its_id_to_another(db: Database) -> None:
    file = "File:Ids.jpg"
    batch = edits(ROLLBACK, file)
    async with db.transaction() as conn:
        await queue_changes(conn, *batch[3])  # the rollback, met first: queued as two changes
    left = max(int(r[0]) for r in await db.fetchall("SELECT id FROM changes"))
    for provenance, changes in batch[:3]:
        async with db.transaction() as conn:
            await queue_changes(conn, provenance, changes)
    assert not await db.fetchall("SELECT 1 FROM changes WHERE revision = 104")
    assert min(int(r[0]) for r in await db.fetchall("SELECT id FROM changes")) > left


async def test_a_withdrawn_change_keeps_its_review_history(db: Database) -> None:
    file = "File:Events.jpg"
    await queue_in_order(db, edits(ROLLBACK, file))
    withdrawn = await db.fetchall(
        "SELECT id, reverted_by FROM changes WHERE file = ? AND status = 'withdrawn'", (file,)
    )
    assert len(withdrawn) == 2
    for change_id, reverted_by in withdrawn:
        (event,) = await reviews.history(db, int(change_id))
        assert (event.action, event.actor, event.revision, event.status_before) == (
            "withdraw", "Commons", reverted_by, "pending",
        )  # fmt: skip


@pytest.mark.parametrize("status", ["accepted", "rejected"])
async def test_a_decided_change_undone_later_keeps_its_status(db: Database, status: str) -> None:
    file = f"File:Decided {status}.jpg"
    batch = edits(ROLLBACK, file)
    await queue_in_order(db, batch[:3])
    ids = [
        int(r[0])
        for r in await db.fetchall("SELECT id FROM changes WHERE revision = 102 AND file = ?", (file,))
    ]
    await reviews.review(db, ids, "accept" if status == "accepted" else "reject", actor="curator")
    await queue_in_order(db, batch[3:])
    row = await db.fetchone("SELECT status, reverted_by FROM changes WHERE id = ?", (ids[0],))
    assert row is not None and tuple(row) == (status, 104)


async def test_hidden_revisions_withdraw_only_their_pending_changes(db: Database) -> None:
    file = "File:Hidden.jpg"
    await queue_in_order(db, edits(SUPERSEDED, file))
    accepted = await db.fetchone("SELECT id FROM changes WHERE revision = 402 AND file = ?", (file,))
    assert accepted is not None
    await reviews.review(db, [int(accepted[0])], "accept", actor="curator")
    async with db.transaction() as conn:
        withdrawn = await withdraw_hidden(conn, "commonswiki", [401, 402, 999])
    rows = await db.fetchall("SELECT revision, status FROM changes WHERE file = ? ORDER BY revision", (file,))
    assert [tuple(r) for r in rows] == [(401, "withdrawn"), (402, "accepted"), (403, "pending")]
    assert len(withdrawn) == 1
