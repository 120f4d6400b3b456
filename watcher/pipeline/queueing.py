"""Queue one edit's changes with what Commons undid and changed again applied, in the caller's transaction.

The live worker and history mode both queue through :func:`queue_changes`. For each field identity
the edit touched it gathers everything known about that field (the queued records and the changes of
edits that undid others, ``reverting_changes``), adds the edit's changes, lets
:func:`watcher.pipeline.reverts.settle` decide, and writes the differences:

- a change of this edit that undoes earlier ones is kept in ``reverting_changes``, not queued; each
  change it undid gains ``reverted_by``, and a pending one is withdrawn (a review event by "Commons");
- a queued change found only now to undo an earlier one (its edit was met first: out of order, a
  retry, catch-up, history mode) leaves the queue for ``reverting_changes`` where no curator has
  decided on, noted or exported it (Commons may have withdrawn it); one a curator did stays as it is;
- a change kept in ``reverting_changes`` that turns out to undo nothing after all is queued;
- ``superseded_by`` is set, moved or cleared as the field's later changes say;
- an edit whose changes are never queued (``never_queue``: a bot's with ``ignore_bots``, an ignored
  user's) still undoes and changes again what it meets, "whoever made it": all its changes are kept in
  ``reverting_changes``, marked (``never_queued`` in the row), and none ever enters the queue, whether
  it turns out to undo something or not. A later look at the field sees them like any other change.

So the end state depends only on which edits are known, not on the order they were met in. Each
field's look-up reads one index range of each table (``changes_field_identity``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from watcher.diff.model import FieldChange
from watcher.pipeline.reverts import MULTI_VALUED_FIELDS, Observation, Verdict, settle
from watcher.store import reviews, utcnow
from watcher.store.engine import Connection
from watcher.store.queue import Provenance, insert_changes, unique_key
from watcher.store.trust_tables import ID_FLOOR_KEY

__all__ = ["NEVER_QUEUED", "Identity", "Queued", "queue_changes", "withdraw_hidden"]

log = logging.getLogger("watcher.reverts")

# (wiki, file, field, template, property, language, collection): what "the same field" means. A file
# in two collections has each field once per collection: each collection's records settle apart.
Identity = tuple[str, str, str, str | None, str | None, str | None, str]

COMMONS = "Commons"  # the actor of withdrawals (watcher.store.reviews.withdraw_in)
_WHERE = (
    "wiki = ? AND file = ? AND field = ? AND template IS ? AND property IS ? AND language IS ?"
    " AND collection = ?"
)


@dataclass(slots=True)
class Queued:
    """What queueing one edit did, for counters and the log."""

    added: int = 0  # new rows in the queue (this edit's records, and undoing changes that undid nothing)
    reverts: int = 0  # changes of this edit that undid earlier ones (kept out of the queue)
    unqueued: int = 0  # changes of a never-queued edit that undid nothing (kept out of the queue too)
    withdrawn: list[int] = field(default_factory=list)  # pending changes withdrawn now
    reverted: list[int] = field(default_factory=list)  # changes that gained reverted_by (any status)
    left_queue: list[int] = field(default_factory=list)  # queued changes found to be undoing ones

    def plus(self, other: Queued) -> Queued:
        """Both outcomes together: one edit queued in several collections."""
        return Queued(
            self.added + other.added, self.reverts + other.reverts, self.unqueued + other.unqueued,
            self.withdrawn + other.withdrawn, self.reverted + other.reverted, self.left_queue + other.left_queue,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Queued:
    """A queued record of the field, as the decision needs it."""

    id: int
    revision: int
    old: str | None
    new: str | None
    status: str
    reverted_by: int | None
    superseded_by: int | None
    untouched: bool  # nobody but Commons decided, noted or exported it: it may leave the queue
    unique_key: str


@dataclass(frozen=True, slots=True)
class _Kept:
    """A change of an edit that undid others, kept in ``reverting_changes``."""

    id: int
    revision: int
    row: dict[str, Any]
    unique_key: str

    @property
    def never_queued(self) -> bool:
        """A change of an edit that makes no records of its own (a bot's, an ignored user's)."""
        return bool(self.row.get(NEVER_QUEUED))


# The mark, in a ``reverting_changes`` row, of a change that never enters the queue (the reason).
NEVER_QUEUED = "never_queued"


def identity(provenance: Provenance, change: FieldChange) -> Identity:
    return (
        provenance.wiki, provenance.file, change.field, change.template, change.property,
        change.language, provenance.collection,
    )  # fmt: skip


async def queue_changes(
    conn: Connection,
    provenance: Provenance,
    changes: Iterable[FieldChange],
    *,
    never_queue: str | None = None,
) -> Queued:
    """Queue the changes of one edit (see the module's docstring); a repeat of an edit is a no-op.

    ``never_queue`` (why: "bot", "ignored user"): the edit's changes only undo or change again what is
    known of their fields; none is queued, now or later.
    """
    outcome = Queued()
    groups: dict[Identity, list[FieldChange]] = {}
    for change in changes:
        groups.setdefault(identity(provenance, change), []).append(change)
    for key, group in groups.items():
        await _settle_field(conn, key, provenance, group, outcome, never_queue)
    return outcome


async def _settle_field(
    conn: Connection,
    key: Identity,
    provenance: Provenance,
    group: Sequence[FieldChange],
    outcome: Queued,
    never_queue: str | None,
) -> None:
    queued = await _queued(conn, key)
    kept = await _kept(conn, key)
    known = {q.unique_key for q in queued} | {k.unique_key for k in kept}
    fresh: dict[str, FieldChange] = {}
    for change in group:
        fresh.setdefault(
            unique_key(provenance.wiki, provenance.revision, change, provenance.collection), change
        )
    fresh = {k: c for k, c in fresh.items() if k not in known}
    if not fresh:
        return  # this edit was queued before: nothing new is known about the field
    observations: list[Observation] = [
        Observation(("queued", q.id), q.revision, q.old, q.new, q.reverted_by) for q in queued
    ]
    observations += [
        Observation(("kept", k.id), k.revision, k.row.get("old"), k.row.get("new")) for k in kept
    ]
    observations += [Observation(("new", k), provenance.revision, c.old, c.new) for k, c in fresh.items()]
    verdicts = settle(observations, multi_valued=key[2] in MULTI_VALUED_FIELDS)
    for q in queued:
        await _apply_queued(conn, q, verdicts[("queued", q.id)], outcome)
    for k in kept:
        verdict = verdicts[("kept", k.id)]
        if not verdict.revert and not k.never_queued:  # it undoes nothing after all: into the queue
            change_id = await _requeue(conn, k)
            outcome.added += 1
            await _mark(conn, change_id, "pending", None, None, verdict, outcome)
    for key_, change in fresh.items():
        verdict = verdicts[("new", key_)]
        if await insert_changes(conn, provenance, [change]) == 0:
            continue  # not new after all (cannot happen inside the transaction; harmless)
        change_id = await _id_of(conn, key_)
        if verdict.revert or never_queue:
            await _leave_queue(conn, change_id, committed=False, never_queued=never_queue)
            if verdict.revert:
                outcome.reverts += 1
            else:
                outcome.unqueued += 1
        else:
            outcome.added += 1
            await _mark(conn, change_id, "pending", None, None, verdict, outcome)


async def _apply_queued(conn: Connection, q: _Queued, verdict: Verdict, outcome: Queued) -> None:
    if verdict.revert and q.untouched:
        log.info("change #%d undid an earlier change met only now: it leaves the queue", q.id)
        await _leave_queue(conn, q.id, committed=True)
        outcome.left_queue.append(q.id)
        return
    await _mark(conn, q.id, q.status, q.reverted_by, q.superseded_by, verdict, outcome)


async def _mark(
    conn: Connection,
    change_id: int,
    status: str,
    reverted_by: int | None,
    superseded_by: int | None,
    verdict: Verdict,
    outcome: Queued,
) -> None:
    """Write the verdict's reverted_by/superseded_by; withdraw a pending change newly undone."""
    if (verdict.reverted_by, verdict.superseded_by) != (reverted_by, superseded_by):
        await conn.execute(
            "UPDATE changes SET reverted_by = ?, superseded_by = ? WHERE id = ?",
            (verdict.reverted_by, verdict.superseded_by, change_id),
        )
    if verdict.reverted_by is not None and reverted_by is None:
        outcome.reverted.append(change_id)
        if status == "pending" and await reviews.withdraw_in(conn, change_id, revision=verdict.reverted_by):
            outcome.withdrawn.append(change_id)


async def _queued(conn: Connection, key: Identity) -> list[_Queued]:
    cursor = await conn.execute(
        f"""SELECT id, revision, old, new, status, reverted_by, superseded_by, unique_key,
                status IN ('pending', 'withdrawn') AND note IS NULL AND exported_at IS NULL
                    AND retracted_at IS NULL
                    AND NOT EXISTS (SELECT 1 FROM review_events e WHERE e.change_id = changes.id
                                    AND (e.action != 'withdraw' OR e.actor IS NOT ?))
            FROM changes WHERE {_WHERE}""",
        (COMMONS, *key),
    )
    found = [
        _Queued(int(r[0]), int(r[1]), r[2], r[3], str(r[4]), r[5], r[6], bool(r[8]), str(r[7]))
        for r in await cursor.fetchall()
    ]
    return sorted(found, key=lambda q: (q.revision, q.id))  # sorted here: the index has no revision


async def _kept(conn: Connection, key: Identity) -> list[_Kept]:
    cursor = await conn.execute(
        f"SELECT id, revision, row, unique_key FROM reverting_changes WHERE {_WHERE}",
        key,
    )
    found = [_Kept(int(r[0]), int(r[1]), json.loads(r[2]), str(r[3])) for r in await cursor.fetchall()]
    return sorted(found, key=lambda k: (k.revision, k.id))


async def _id_of(conn: Connection, key: str) -> int:
    cursor = await conn.execute("SELECT id FROM changes WHERE unique_key = ?", (key,))
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def _leave_queue(
    conn: Connection, change_id: int, *, committed: bool, never_queued: str | None = None
) -> None:
    """Move a queued change to ``reverting_changes``; a committed one's id is never given out again.
    ``never_queued``: the reason its edit makes no records, kept in the row so it is never requeued."""
    cursor = await conn.execute("SELECT * FROM changes WHERE id = ?", (change_id,))
    found = await cursor.fetchone()
    assert found is not None
    row = dict(zip(found.keys(), tuple(found), strict=True))  # a Row iterates over its values
    del row["id"]
    if never_queued:
        row[NEVER_QUEUED] = never_queued
    await conn.execute(
        """INSERT INTO reverting_changes (wiki, file, field, template, property, language, revision,
               unique_key, row, collection) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(unique_key) DO NOTHING""",
        (
            row["wiki"], row["file"], row["field"], row["template"], row["property"], row["language"],
            row["revision"], row["unique_key"], json.dumps(row, ensure_ascii=False), row["collection"],
        ),
    )  # fmt: skip
    await conn.execute("DELETE FROM changes WHERE id = ?", (change_id,))
    if committed:
        await conn.execute(
            # The higher of the two, written out (SQLite's scalar max has no PostgreSQL twin).
            """INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key)
               DO UPDATE SET value = CASE WHEN CAST(state.value AS INTEGER) >= CAST(excluded.value AS INTEGER)
               THEN state.value ELSE excluded.value END""",
            (ID_FLOOR_KEY, change_id),
        )


async def _requeue(conn: Connection, kept: _Kept) -> int:
    """Queue a kept change again: its row as it was, in the columns the queue has now, a new id."""
    # Its columns as they were kept: every one is still a column (migrations add columns, never drop
    # one), and a column added since takes its default; the never-queued mark is the row's, not a column.
    names = [c for c in kept.row if c not in ("id", "reverted_by", "superseded_by", NEVER_QUEUED)]
    # Queued now, as far as alerts and digests are concerned (they go by id and by queued_at).
    values = {**kept.row, "queued_at": utcnow()}
    await conn.execute(
        f"INSERT INTO changes ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        " ON CONFLICT(unique_key) DO NOTHING",
        [values[c] for c in names],
    )
    await conn.execute("DELETE FROM reverting_changes WHERE id = ?", (kept.id,))
    return await _id_of(conn, kept.unique_key)


async def withdraw_hidden(conn: Connection, wiki: str, revisions: Iterable[int]) -> list[int]:
    """Withdraw the pending changes of revisions whose content Commons hid (revision deletion or
    suppression): a curator can no longer check them, and Commons took them out of view."""
    withdrawn: list[int] = []
    for revision in sorted(set(revisions)):
        cursor = await conn.execute(
            "SELECT id FROM changes WHERE wiki = ? AND revision = ? AND status = 'pending' ORDER BY id",
            (wiki, revision),
        )
        for (change_id,) in await cursor.fetchall():
            if await reviews.withdraw_in(conn, int(change_id), revision=revision):
                withdrawn.append(int(change_id))
    return withdrawn
