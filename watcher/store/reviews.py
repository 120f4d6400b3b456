"""Review history: every accept, reject, reopen, note, undo and withdrawal, as an event.

One function changes a change's status, :func:`review`, so the CLI, the review page and the pipeline
(a revert on Commons withdraws a change) cannot drift apart: it writes the event and the latest
decision on the change in one transaction. A decision can be changed and undone; the history keeps
every step. What the caller must tell people comes back in :class:`ReviewOutcome`: changes whose
decision moved away from "accepted" after the collection system was sent them (the next export
retracts them), and changes Commons had already undone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from watcher.base.values import REVIEW_ACTIONS, STATUSES, ReviewAction, Status, choice
from watcher.store.db import utcnow
from watcher.store.engine import Connection, Row, Store

# Where each action leaves a change; "note" keeps the status, "undo" restores the one before the
# latest decision (read from the history).
_TARGET: dict[ReviewAction, Status | None] = {
    "accept": "accepted",
    "reject": "rejected",
    "reopen": "pending",
    "withdraw": "withdrawn",
    "note": None,
    "undo": None,
}
# The action that leaves a change at a status (`watcher accept` is "accept", and so on).
ACTION_FOR_STATUS: dict[Status, ReviewAction] = {
    "accepted": "accept",
    "rejected": "reject",
    "pending": "reopen",
    "withdrawn": "withdraw",
}
_DECISIONS: tuple[ReviewAction, ...] = ("accept", "reject", "reopen", "undo", "withdraw")
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    """One step of a change's review history."""

    id: int
    change_id: int
    at: str
    actor: str | None
    action: ReviewAction
    status_before: Status
    status_after: Status
    note: str | None
    exported_at: str | None
    revision: int | None

    @classmethod
    def from_row(cls, row: Row) -> ReviewEvent:
        return cls(
            id=int(row["id"]),
            change_id=int(row["change_id"]),
            at=str(row["at"]),
            actor=row["actor"],
            action=choice(str(row["action"]), REVIEW_ACTIONS),
            status_before=choice(str(row["status_before"]), STATUSES),
            status_after=choice(str(row["status_after"]), STATUSES),
            note=row["note"],
            exported_at=row["exported_at"],
            revision=row["revision"],
        )


@dataclass(slots=True)
class ReviewOutcome:
    """What a review did, for the caller to report."""

    found: list[int] = field(default_factory=list)  # ids that exist
    changed: list[int] = field(default_factory=list)  # whose status moved
    retracted: list[int] = field(default_factory=list)  # exported, now no longer accepted
    reinstated: list[int] = field(default_factory=list)  # exported, retraction pending, accepted again
    withdrawn: list[int] = field(default_factory=list)  # Commons had undone them before this review
    nothing_to_undo: list[int] = field(default_factory=list)  # undo without an earlier decision

    def notices(self) -> list[str]:
        """What the curator must be told, in words (the CLI and the review page say the same)."""
        said: list[str] = []
        if self.nothing_to_undo:
            said.append(f"Nothing to undo (no decision yet): {_ids(self.nothing_to_undo)}.")
        if self.retracted:
            said.append(
                f"Already exported to the collection system: {_ids(self.retracted)}; the next routine "
                "export carries a retraction (status rejected) for each."
            )
        if self.reinstated:
            said.append(
                f"Accepted again before their retraction was exported: {_ids(self.reinstated)}; the "
                "collection system keeps them as they are."
            )
        if self.withdrawn:
            said.append(f"Undone on Commons (withdrawn) before this decision: {_ids(self.withdrawn)}.")
        return said


def _ids(ids: list[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


async def review(
    db: Store,
    ids: Sequence[int],
    action: ReviewAction,
    *,
    actor: str | None,
    note: str | None = None,
    revision: int | None = None,
) -> ReviewOutcome:
    """Apply ``action`` to each existing change in ``ids`` and record it; unknown ids are left out.

    ``note`` None keeps a change's note (an empty note clears it); ``revision`` is the Commons edit
    behind a withdrawal.
    """
    outcome = ReviewOutcome()
    async with db.transaction() as conn:
        for start in range(0, len(ids), _CHUNK):
            chunk = list(dict.fromkeys(ids[start : start + _CHUNK]))
            await _review_chunk(conn, chunk, action, actor, note, revision, outcome)
    return outcome


async def withdraw_in(conn: Connection, change_id: int, *, revision: int) -> bool:
    """Commons undid a pending change (inside the caller's transaction); False where it was not pending."""
    outcome = ReviewOutcome()
    cursor = await conn.execute("SELECT status FROM changes WHERE id = ?", (change_id,))
    row = await cursor.fetchone()
    if row is None or row[0] != "pending":
        return False
    await _review_chunk(conn, [change_id], "withdraw", "Commons", None, revision, outcome)
    return bool(outcome.changed)


async def history(db: Store, change_id: int) -> list[ReviewEvent]:
    """A change's review events, oldest first."""
    rows = await db.fetchall("SELECT * FROM review_events WHERE change_id = ? ORDER BY id", (change_id,))
    return [ReviewEvent.from_row(row) for row in rows]


async def _review_chunk(
    conn: Connection,
    ids: list[int],
    action: ReviewAction,
    actor: str | None,
    note: str | None,
    revision: int | None,
    outcome: ReviewOutcome,
) -> None:
    if not ids:
        return
    marks = ",".join("?" * len(ids))
    cursor = await conn.execute(
        f"SELECT id, status, exported_at FROM changes WHERE id IN ({marks}) ORDER BY id", ids
    )
    rows = list(await cursor.fetchall())
    undo_to = await _undo_targets(conn, [int(r[0]) for r in rows]) if action == "undo" else {}
    now = utcnow()
    for row in rows:
        change_id, before, exported_at = int(row[0]), choice(str(row[1]), STATUSES), row[2]
        outcome.found.append(change_id)
        after = _TARGET[action] if action != "undo" else undo_to.get(change_id)
        if action == "undo" and after is None:
            outcome.nothing_to_undo.append(change_id)
            continue
        after = after or before
        if before == "withdrawn" and action != "withdraw":
            outcome.withdrawn.append(change_id)
        if after != before:
            outcome.changed.append(change_id)
            if exported_at is not None and before == "accepted":
                outcome.retracted.append(change_id)
            elif exported_at is not None and after == "accepted":
                outcome.reinstated.append(change_id)
        await conn.execute(
            """INSERT INTO review_events (change_id, at, actor, action, status_before, status_after,
                   note, exported_at, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (change_id, now, actor, action, before, after, note or None, exported_at, revision),
        )
        assignments = ["status = ?"]
        values: list[object] = [after]
        if action in _DECISIONS:
            assignments.append("reviewer = ?, reviewed_at = ?")
            values += [actor, now]
        if note is not None:
            assignments.append("note = ?")
            values.append(note or None)
        await conn.execute(f"UPDATE changes SET {', '.join(assignments)} WHERE id = ?", [*values, change_id])


async def _undo_targets(conn: Connection, ids: list[int]) -> dict[int, Status]:
    """Per change, the status before its latest decision that an undo has not already taken back.

    Undoing walks back: each undo consumes the latest decision not yet undone, so undo, undo goes two
    steps back, as in an editor.
    """
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    cursor = await conn.execute(
        f"""SELECT change_id, action, status_before FROM review_events
            WHERE change_id IN ({marks}) AND action != 'note' ORDER BY change_id, id DESC""",
        ids,
    )
    pending_undos: dict[int, int] = {}
    targets: dict[int, Status] = {}
    for change_id, action, status_before in await cursor.fetchall():
        if change_id in targets:
            continue
        if action == "undo":
            pending_undos[change_id] = pending_undos.get(change_id, 0) + 1
        elif pending_undos.get(change_id, 0):
            pending_undos[change_id] -= 1
        else:
            targets[int(change_id)] = choice(str(status_before), STATUSES)
    return targets
