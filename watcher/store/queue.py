"""The change queue: one row per semantic change, with provenance, for curators to review.

Each record's uniqueness key is the contract's (wiki, revision, field, template, property, language,
action, old, new), hashed because SQLite's UNIQUE treats NULLs as distinct. Inserting a record twice is
a no-op, which is what makes redelivered stream events and restarts harmless.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, date, datetime
from typing import Any

from watcher.base.values import STATUSES, EditorChoice, KindChoice, Source, Status, StatusChoice
from watcher.config_collections import DEFAULT_COLLECTION
from watcher.diff.model import FieldChange
from watcher.store import reviews
from watcher.store.db import utcnow
from watcher.store.editors import (
    NEW_EDITOR_SQL,
    UNREGISTERED_SQL,
    decode_list,
    decode_object,
    edit_count,
    encode,
)
from watcher.store.engine import Connection, Row, Store

_DECODED = frozenset({"detail", "tags", "editor", "tools"})  # JSON columns, read by from_row itself


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who changed which revision of which file, when: the part of a record the diff cannot know."""

    wiki: str
    file: str
    revision: int
    old_revision: int | None
    timestamp: str
    user: str | None
    comment: str | None
    object_id: str | None
    source: Source = "live"
    # Who made the change (contract "Who made the change"), as the Action API said when it was queued:
    # the revision's change tags, the account's facts (None for IPs and temporary accounts, see
    # watcher.mediawiki.accounts) and the tags in words (watcher.base.tags).
    tags: tuple[str, ...] = ()
    editor: Mapping[str, Any] | None = None
    tools: tuple[str, ...] = ()
    # The `[[collection]]` whose file this is (``default`` for the `[tracking]` form): a file in two
    # collections gives its records once per collection, each with that collection's object id.
    collection: str = DEFAULT_COLLECTION


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """A row of the queue, with exactly the contract's keys (plus review and display extras)."""

    id: int
    wiki: str
    file: str
    object_id: str | None
    revision: int
    old_revision: int | None
    timestamp: str
    user: str | None
    comment: str | None
    field: str
    template: str | None
    property: str | None
    language: str | None
    action: str
    kind: str
    old: str | None
    new: str | None
    status: str
    source: str
    queued_at: str
    reviewer: str | None
    reviewed_at: str | None
    note: str | None
    exported_at: str | None
    detail: dict[str, Any] | None
    retracted_at: str | None = None
    # Set on a retraction row of the routine export only: when the export it retracts was made.
    retracts: str | None = None
    # Who made the change (JSON columns of watcher.store.provenance_tables); None before they existed.
    tags: tuple[str, ...] | None = None
    editor: dict[str, Any] | None = None
    tools: tuple[str, ...] | None = None
    # Contract "Reverts and later edits" (watcher.pipeline.reverts): the revision of the later edit
    # that put the field back to its value before this change, or that changed it again.
    reverted_by: int | None = None
    superseded_by: int | None = None
    # Who made that undoing edit, and when (its own provenance), where the query selected them
    # (RECORD_COLUMNS): for "reverted on Commons by Jane Doe on 2026-03-02 (r123)".
    reverted_by_user: str | None = None
    reverted_at: str | None = None
    # Contract "Many collections in one deployment": every record has its collection's name.
    collection: str = DEFAULT_COLLECTION

    @classmethod
    def from_row(cls, row: Row) -> ChangeRecord:
        columns = set(row.keys())
        values = {f.name: row[f.name] for f in fields(cls) if f.name in columns and f.name not in _DECODED}
        detail = json.loads(row["detail"]) if row["detail"] else None
        if "tags" in columns:
            values["tags"] = decode_list(row["tags"])
            values["tools"] = decode_list(row["tools"]) if "tools" in columns else None
        if "editor" in columns:
            values["editor"] = decode_object(row["editor"])
        return cls(detail=detail, **values)

    def as_retraction(self) -> ChangeRecord:
        """The row that tells the collection system to take back what an earlier export sent."""
        return replace(self, status="rejected", retracts=self.exported_at)

    def diff_url(self, index_url: str) -> str:
        """The Commons diff of this edit (index.php?diff=NEW&oldid=OLD)."""
        if self.old_revision:
            return f"{index_url}?diff={self.revision}&oldid={self.old_revision}"
        return f"{index_url}?oldid={self.revision}"

    def as_contract(self, index_url: str | None = None) -> dict[str, Any]:
        """The JSON object of `watcher changes --format jsonl`."""
        out = asdict(self)
        out["reviewed_by"] = self.reviewer  # the contract's name; `reviewer` stays for old scripts
        if index_url:
            out["diff_url"] = self.diff_url(index_url)
        # Wikidata labels of item values, where [labels] is configured: for people, not for matching.
        detail = self.detail or {}
        out["old_label"], out["new_label"] = detail.get("old_label"), detail.get("new_label")
        out["tags"], out["tools"] = list(self.tags or ()), list(self.tools or ())
        out["editor"] = dict(self.editor) if self.editor is not None else None
        # The editor in two flat values, for the CSV columns of the same names.
        out["editor_edits"] = edit_count(self.editor) if self.editor is not None else None
        out["editor_registered"] = self.editor.get("registered") if self.editor is not None else None
        return out


def unique_key(wiki: str, revision: int, change: FieldChange, collection: str = DEFAULT_COLLECTION) -> str:
    """What makes a record one: the edit, the field change and the collection (records of the default
    collection keep the keys they had before there were collections)."""
    parts: list[Any] = [wiki, revision, *change.key()]
    if collection != DEFAULT_COLLECTION:
        parts.append({"collection": collection})
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


# The undoing edit of a record with ``reverted_by``: its change of the same field, kept in
# ``reverting_changes`` (watcher.pipeline.queueing), or, where a curator had decided on that change
# before it was found to undo, still in the queue. Both look-ups use an index, and only reverted rows
# make them.
_REVERTER = """CASE WHEN {t}.reverted_by IS NULL THEN NULL ELSE coalesce(
    (SELECT {kept} FROM reverting_changes AS undoing
     WHERE undoing.wiki = {t}.wiki AND undoing.file = {t}.file AND undoing.field = {t}.field
       AND undoing.template IS {t}.template AND undoing.property IS {t}.property
       AND undoing.language IS {t}.language AND undoing.collection = {t}.collection
       AND undoing.revision = {t}.reverted_by LIMIT 1),
    (SELECT undoing.{column} FROM changes AS undoing
     WHERE undoing.wiki = {t}.wiki AND undoing.revision = {t}.reverted_by LIMIT 1)) END"""


def record_columns(table: str = "changes") -> str:
    """What a query selects to load ChangeRecords from ``table`` (``changes`` or its alias): every
    column and the undoing edit's user and time (``reverted_by_user``, ``reverted_at``)."""
    user = _REVERTER.format(t=table, kept="json_extract(undoing.row, '$.user')", column="user")
    time = _REVERTER.format(t=table, kept="json_extract(undoing.row, '$.timestamp')", column="timestamp")
    return f"{table}.*, {user} AS reverted_by_user, {time} AS reverted_at"


# ``SELECT {RECORD_COLUMNS} FROM changes WHERE …`` (unqualified column names in WHERE still work).
RECORD_COLUMNS = record_columns()


async def has_standing_changes(conn: Connection, wiki: str, file: str) -> bool:
    """Whether ``file`` has queued changes that a later edit could still undo or change again: pending,
    accepted or rejected, and not undone yet (withdrawn ones are)."""
    cursor = await conn.execute(
        "SELECT 1 FROM changes WHERE file = ? AND wiki = ? AND reverted_by IS NULL"
        " AND status IN ('pending', 'accepted', 'rejected') LIMIT 1",
        (file, wiki),
    )
    return await cursor.fetchone() is not None


async def has_pending_revisions(
    conn: Connection, wiki: str, file: str, revisions: Sequence[int] | None = None
) -> bool:
    """Whether ``file`` has pending changes (of one of ``revisions``, where given)."""
    sql = "SELECT 1 FROM changes WHERE file = ? AND wiki = ? AND status = 'pending'"
    params: list[Any] = [file, wiki]
    if revisions is not None:
        sql += f" AND revision IN ({','.join('?' * len(revisions))})" if revisions else " AND 0"
        params += list(revisions)
    cursor = await conn.execute(sql + " LIMIT 1", params)
    return await cursor.fetchone() is not None


_INSERT = """
INSERT INTO changes (wiki, file, object_id, revision, old_revision, timestamp, user, comment, field,
    template, property, language, action, kind, old, new, detail, source, queued_at, unique_key,
    tags, editor, tools, collection)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(unique_key) DO NOTHING
"""


async def insert_changes(conn: Connection, provenance: Provenance, changes: Iterable[FieldChange]) -> int:
    """Queue the changes of one edit inside the caller's transaction; returns how many were new."""
    queued_at = utcnow()
    added = 0
    for change in changes:
        cursor = await conn.execute(
            _INSERT,
            (
                provenance.wiki,
                provenance.file,
                provenance.object_id,
                provenance.revision,
                provenance.old_revision,
                provenance.timestamp,
                provenance.user,
                provenance.comment,
                change.field,
                change.template,
                change.property,
                change.language,
                change.action,
                change.kind,
                change.old,
                change.new,
                change.detail_json(),
                provenance.source,
                queued_at,
                unique_key(provenance.wiki, provenance.revision, change, provenance.collection),
                encode(provenance.tags),
                encode(provenance.editor),
                encode(provenance.tools),
                provenance.collection,
            ),
        )
        added += max(cursor.rowcount, 0)
    return added


# What a language filter of "no language" is written as (the review page's "none" among them).
NO_LANGUAGE_VALUES = ("", "none", "null")


@dataclass(frozen=True)
class ChangeFilter:
    status: StatusChoice = "pending"
    kind: KindChoice = "content"
    file: str | None = None
    since: str | None = None
    until: str | None = None
    field: str | None = None
    language: str | None = None
    user: str | None = None
    object_id: str | None = None
    source: Source | None = None
    not_exported: bool = False
    # Exported, and no longer accepted: the collection system must be told to take it back.
    retraction_due: bool = False
    ids: Sequence[int] | None = None
    # "new": new accounts, IP addresses and temporary accounts; "established": everyone else.
    editor: EditorChoice | None = None
    # The collections to show, by name (None: every collection; empty: none, e.g. an account of no
    # collection there is).
    collections: Sequence[str] | None = None

    def where(self, *, no_language: str | None = None) -> tuple[str, list[Any]]:
        """The SQL condition (`` WHERE …`` or nothing) and its parameters. ``no_language``: the value
        that stands for "no language" where NULL cannot (the change tallies' key), else IS NULL."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.status != "all":
            clauses.append("status = ?")
            params.append(self.status)
        if self.kind != "all":
            clauses.append("kind = ?")
            params.append(self.kind)
        for column in ("file", "field", "user", "object_id", "source"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.language is not None:
            if self.language in NO_LANGUAGE_VALUES and no_language is not None:
                clauses.append("language = ?")
                params.append(no_language)
            elif self.language in NO_LANGUAGE_VALUES:
                clauses.append("language IS NULL")
            else:
                clauses.append("language = ?")
                params.append(self.language)
        if self.since is not None:
            clauses.append("timestamp >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append("timestamp < ?")
            params.append(self.until)
        if self.not_exported:
            clauses.append("exported_at IS NULL")
        if self.retraction_due:
            clauses.append("exported_at IS NOT NULL AND status != 'accepted'")
        if self.ids is not None:
            clauses.append(f"id IN ({','.join('?' * len(self.ids))})" if self.ids else "1 = 0")
            params.extend(self.ids)
        if self.collections is not None:
            names = list(self.collections)
            clauses.append(f"collection IN ({','.join('?' * len(names))})" if names else "1 = 0")
            params.extend(names)
        if self.editor == "new":
            clauses.append(f"({NEW_EDITOR_SQL} OR {UNREGISTERED_SQL})")
        elif self.editor == "established":
            clauses.append(f"NOT ({NEW_EDITOR_SQL} OR {UNREGISTERED_SQL})")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def parse_since(value: str) -> str:
    """`--since DATE`: a date or a date and time (UTC unless it says otherwise), as a contract time."""
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"not a date or date and time: {value!r} (e.g. 2026-03-01 or 2026-03-01T07:30)"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def list_changes(
    db: Store,
    selection: ChangeFilter,
    *,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[ChangeRecord]:
    where, params = selection.where()
    order = "DESC" if newest_first else "ASC"
    sql = f"SELECT {RECORD_COLUMNS} FROM changes{where} ORDER BY timestamp {order}, id {order}"
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    return [ChangeRecord.from_row(row) for row in await db.fetchall(sql, params)]


async def count_changes(db: Store, selection: ChangeFilter) -> int:
    where, params = selection.where()
    return int(await db.scalar(f"SELECT count(*) FROM changes{where}", params))


async def queue_counts(db: Store) -> dict[str, int]:
    counts: dict[str, int] = {status: 0 for status in STATUSES}
    for row in await db.fetchall("SELECT status, count(*) FROM changes GROUP BY status"):
        counts[row[0]] = row[1]
    return counts


async def set_status(
    db: Store, ids: Sequence[int], status: Status, *, reviewer: str | None = None, note: str | None = None
) -> list[int]:
    """Set records' status as a review event (see watcher.store.reviews); returns the ids that exist."""
    outcome = await reviews.review(db, ids, reviews.ACTION_FOR_STATUS[status], actor=reviewer, note=note)
    return outcome.found


async def mark_exported(db: Store, ids: Sequence[int], *, retracted: Sequence[int] = ()) -> str:
    """Mark records as sent to the collection system (the routine export only); returns the stamp.

    ``retracted`` are the changes the same export told the system to take back: no longer exported
    (accepted again, they go out again), with when and which export they retract kept.
    """
    stamp = utcnow()
    async with db.transaction() as conn:
        for chunk in _chunks(ids):
            await conn.execute(
                f"UPDATE changes SET exported_at = ? WHERE id IN ({','.join('?' * len(chunk))})",
                [stamp, *chunk],
            )
        for chunk in _chunks(retracted):
            await conn.execute(
                "UPDATE changes SET retracted_export = exported_at, exported_at = NULL, retracted_at = ?"
                f" WHERE exported_at IS NOT NULL AND id IN ({','.join('?' * len(chunk))})",
                [stamp, *chunk],
            )
    return stamp


async def unmark_exported(
    db: Store, ids: Sequence[int], stamp: str, *, retracted: Sequence[int] = ()
) -> None:
    """Undo :func:`mark_exported` of ``stamp`` (the download it marked never reached its end)."""
    async with db.transaction() as conn:
        for chunk in _chunks(ids):
            await conn.execute(
                "UPDATE changes SET exported_at = NULL"
                f" WHERE exported_at = ? AND id IN ({','.join('?' * len(chunk))})",
                [stamp, *chunk],
            )
        for chunk in _chunks(retracted):
            await conn.execute(
                "UPDATE changes SET exported_at = retracted_export, retracted_at = NULL,"
                " retracted_export = NULL"
                f" WHERE retracted_at = ? AND id IN ({','.join('?' * len(chunk))})",
                [stamp, *chunk],
            )


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])
