"""The review page's reading of the queue: filters from the query string, counts, choices.

The filters are the store's :class:`ChangeFilter`; the pages grouped by file or edit are read by
:mod:`watcher.web.grouped`. Counts and choices come from the change tallies where the filter is one
they keep (watcher.store.tallies), so the status tabs cost the same at 1,000 changes and 1,000,000.

Every query is held to the signed-in account's collections (:class:`Scope`): :func:`parse_query`
cannot be called without one, and the look-ups by id take the same limit, so a change of another
collection reads as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal, TypeVar, get_args

from watcher.base.values import (
    EDITOR_CHOICES,
    KIND_CHOICES,
    SOURCES,
    STATUS_CHOICES,
    STATUSES,
    EditorChoice,
    StatusChoice,
    choice,
)
from watcher.store.engine import Store
from watcher.store.queue import RECORD_COLUMNS, ChangeFilter, ChangeRecord
from watcher.store.tallies import tallied_count, tallied_statuses, tallied_values

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
SOURCE_CHOICES = SOURCES  # the old name; the lists live in base.values
NO_LANGUAGE = "none"
# The query-string keys of the filters, in the order the form shows them.
FILTER_KEYS = (
    "collection", "status", "kind", "source", "field", "language", "user", "file", "object", "since",
    "until", "editor",
)  # fmt: skip
COLLECTION_KEY = "collection"
MAX_TEXT = 300
# The editor filter's choices as the form names them (watcher.store.editors says what "new" is).
EDITOR_LABELS: dict[EditorChoice, str] = {
    "new": "new accounts and IP editors only",
    "established": "no new accounts or IP editors",
}

# How the queue page groups its changes: by file (the default), or by edit (one revision, one editor).
Grouping = Literal["file", "edit"]
GROUPINGS: tuple[Grouping, ...] = get_args(Grouping)
GROUP_KEY = "group"

T = TypeVar("T", bound=str)


@dataclass(frozen=True)
class Scope:
    """The collections one account may see (``limit``, None for every one) among those the
    deployment has (``configured``, the config's order)."""

    limit: tuple[str, ...] | None
    configured: tuple[str, ...]

    @property
    def offered(self) -> tuple[str, ...]:
        """The collection filter's choices: the account's, in the config's order (a name the config
        no longer has last, its records still the account's)."""
        if self.limit is None:
            return self.configured
        return (
            *(n for n in self.configured if n in self.limit),
            *(n for n in self.limit if n not in self.configured),
        )

    @property
    def several(self) -> bool:
        """Whether the deployment has several collections: cards then say whose they are."""
        return len(self.configured) > 1


@dataclass(frozen=True)
class QueueQuery:
    """A parsed query string: the filter, the page, and the normalised parameters for links."""

    selection: ChangeFilter
    params: dict[str, str]
    page: int = 1
    per_page: int = DEFAULT_PAGE_SIZE
    problems: list[str] = field(default_factory=list)
    group: Grouping = "file"

    def link_params(self, **changes: Any) -> dict[str, str]:
        """The query string of this view with some keys changed (None drops a key)."""
        out = dict(self.params)
        if self.group != GROUPINGS[0]:
            out[GROUP_KEY] = self.group
        if self.per_page != DEFAULT_PAGE_SIZE:
            out["per_page"] = str(self.per_page)
        if self.page != 1:
            out["page"] = str(self.page)
        for key, value in changes.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = str(value)
        return out


def _date(value: str, key: str, problems: list[str]) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        problems.append(f"{key}: not a date (YYYY-MM-DD): {value[:40]!r}; ignored")
        return None


def parse_query(
    query: Mapping[str, str],
    scope: Scope,
    *,
    default_status: StatusChoice = "pending",
    defaults: Mapping[str, str] | None = None,
) -> QueueQuery:
    """Filters from a query string or form, held to ``scope``. Unknown values fall back to the
    default, with a note; a collection the account cannot see (or that there is not) selects
    nothing, with the same note for both."""
    problems: list[str] = []
    params: dict[str, str] = {}

    def given(key: str, default: str) -> str:
        return (query.get(key) or (defaults or {}).get(key) or default).strip()

    def pick(key: str, allowed: tuple[T, ...], default: T) -> T:
        value = given(key, default)
        try:
            picked = choice(value, allowed)
        except ValueError:
            problems.append(f"{key}: unknown value {value[:40]!r}; showing {default}")
            return default
        if picked != default:
            params[key] = picked
        return picked

    def pick_optional(key: str, allowed: tuple[T, ...]) -> T | None:
        """Like ``pick``, with "" (any) as the default."""
        value = given(key, "")
        if not value:
            return None
        try:
            picked = choice(value, allowed)
        except ValueError:
            problems.append(f"{key}: unknown value {value[:40]!r}; showing ")
            return None
        params[key] = picked
        return picked

    def text(key: str) -> str | None:
        value = (query.get(key) or "").strip()[:MAX_TEXT]
        if value:
            params[key] = value
        return value or None

    status = pick("status", STATUS_CHOICES, default_status)
    kind = pick("kind", KIND_CHOICES, "content")
    source = pick_optional("source", SOURCES)
    editor = pick_optional("editor", EDITOR_CHOICES)  # new accounts only, or none of them
    field_name = text("field")
    language = text("language")
    user = text("user")
    file_title = text("file")
    if file_title and not file_title.startswith("File:"):
        file_title = "File:" + file_title
    object_id = text("object")
    since = until = None
    if raw := text("since"):
        if (day := _date(raw, "since", problems)) is not None:
            since = f"{day.isoformat()}T00:00:00Z"
        else:
            params.pop("since")
    if raw := text("until"):
        if (day := _date(raw, "until", problems)) is not None:
            until = f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z"  # the whole day, inclusive
        else:
            params.pop("until")
    collections = scope.limit
    if wanted := text(COLLECTION_KEY):
        if wanted in scope.offered:
            collections = (wanted,)
        else:
            params.pop(COLLECTION_KEY)
            problems.append(f"{COLLECTION_KEY}: no collection {wanted[:40]!r} here; showing none")
            collections = ()
    selection = ChangeFilter(
        status=status,
        kind=kind,
        source=source,
        field=field_name,
        language=NO_LANGUAGE if language in ("none", "null", "-") else language,
        user=user,
        file=file_title,
        object_id=object_id,
        since=since,
        until=until,
        editor=editor,
        collections=collections,
    )
    per_page = _int(query.get("per_page"), DEFAULT_PAGE_SIZE)
    if per_page not in PAGE_SIZES:
        per_page = DEFAULT_PAGE_SIZE
    page = max(1, _int(query.get("page"), 1))
    group: Grouping = GROUPINGS[0]
    if (asked := (query.get(GROUP_KEY) or "").strip()) in GROUPINGS:
        group = choice(asked, GROUPINGS)
    return QueueQuery(
        selection=selection, params=params, page=page, per_page=per_page, problems=problems, group=group
    )


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


async def count(db: Store, selection: ChangeFilter) -> int:
    """How many changes ``selection`` matches: from the tallies where they can say, else counted."""
    if (tallied := await tallied_count(db, selection)) is not None:
        return tallied
    where, params = selection.where()
    return int(await db.scalar(f"SELECT count(*) FROM changes{where}", params))


EditKey = tuple[str, str, int]  # (collection, wiki, revision): one edit as one collection has it


def edit_key(record: ChangeRecord) -> EditKey:
    return (record.collection, record.wiki, record.revision)


async def pending_in_edits(
    db: Store, selection: ChangeFilter, records: list[ChangeRecord]
) -> dict[EditKey, list[int]]:
    """:func:`edit_key` → the pending changes of that edit that the view's other filters match, for
    the edits of ``records`` (the "accept all by this editor in this edit" button). A file in two
    collections has the edit in each: each collection's button decides its own records."""
    edits = sorted({edit_key(r) for r in records})
    found: dict[EditKey, list[int]] = {}
    if not edits:
        return found
    # Without the collections (each key names its own, and only the keys' rows are kept): see
    # watcher.web.grouped, whose look-ups of a page's groups do the same.
    where, params = replace(selection, status="pending", collections=None).where()
    also = " AND" if where else " WHERE"
    wanted = set(edits)
    for condition, values in edit_conditions((r.wiki, r.revision, r.file) for r in records):
        rows = await db.fetchall(
            f"SELECT collection, wiki, revision, id FROM changes{where}{also} {condition} ORDER BY id",
            [*params, *values],
        )
        for collection, row_wiki, revision, change_id in rows:
            if (key := (collection, row_wiki, int(revision))) in wanted:
                found.setdefault(key, []).append(int(change_id))
    return found


def edit_conditions(edits: Iterable[tuple[str, int, str]]) -> list[tuple[str, list[Any]]]:
    """SQL conditions, with their values, that find the changes of ``edits`` ((wiki, revision, file)
    each), :data:`IN_CHUNK` revisions at a time: ``wiki = ? AND revision IN (…) AND file IN (…)``. An
    edit is of one file: with the files, the (status, kind, file) index finds the edits' changes on
    either engine, however many others are pending."""
    files_of: dict[str, dict[int, str]] = {}
    for wiki, revision, file in edits:
        files_of.setdefault(wiki, {})[revision] = file
    conditions: list[tuple[str, list[Any]]] = []
    for wiki, file_of in files_of.items():
        revisions = sorted(file_of)
        for start in range(0, len(revisions), IN_CHUNK):
            chunk = revisions[start : start + IN_CHUNK]
            files = sorted({file_of[revision] for revision in chunk})
            conditions.append(
                (
                    f"wiki = ? AND revision IN ({','.join('?' * len(chunk))}) "
                    f"AND file IN ({','.join('?' * len(files))})",
                    [wiki, *chunk, *files],
                )
            )
    return conditions


IN_CHUNK = 400  # values in one IN (…), well under SQLite's variable limit


async def choices(db: Store, scope: Scope) -> dict[str, list[str]]:
    """The values the filter form offers: every field and language in the account's collections."""
    return {
        "field": await tallied_values(db, "field", scope.limit),
        "language": await tallied_values(db, "language", scope.limit),
    }


async def status_counts(db: Store, selection: ChangeFilter) -> dict[str, int]:
    """How many changes of each status match the other filters (for the status tabs)."""
    if (tallied := await tallied_statuses(db, selection)) is not None:
        return tallied
    where, params = replace(selection, status="all").where()
    counts: dict[str, int] = {status: 0 for status in STATUSES}
    for row in await db.fetchall(f"SELECT status, count(*) FROM changes{where} GROUP BY status", params):
        counts[row[0]] = int(row[1])
    return counts


async def get_change(db: Store, change_id: int, scope: Scope) -> ChangeRecord | None:
    """The change ``change_id``, or None where there is none in the account's collections."""
    where, params = ChangeFilter(status="all", kind="all", ids=[change_id], collections=scope.limit).where()
    row = await db.fetchone(f"SELECT {RECORD_COLUMNS} FROM changes{where}", params)
    return None if row is None else ChangeRecord.from_row(row)


async def visible_ids(db: Store, ids: list[int], scope: Scope) -> list[int]:
    """The ids among ``ids`` of changes the account may see (and decide on): the others are as
    unknown to it as ids that were never used. A change's collection never changes, so what this
    says still holds when the review is written."""
    if scope.limit is None or not ids:
        return ids
    seen: set[int] = set()
    for start in range(0, len(ids), IN_CHUNK):
        where, params = ChangeFilter(
            status="all", kind="all", ids=ids[start : start + IN_CHUNK], collections=scope.limit
        ).where()
        seen.update(int(row[0]) for row in await db.fetchall(f"SELECT id FROM changes{where}", params))
    return [i for i in ids if i in seen]


async def get_changes(db: Store, ids: list[int]) -> list[ChangeRecord]:
    """The changes of ``ids`` that exist, by id (at most a few hundred: what one review touched)."""
    records: list[ChangeRecord] = []
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        rows = await db.fetchall(
            f"SELECT {RECORD_COLUMNS} FROM changes WHERE id IN ({','.join('?' * len(chunk))}) ORDER BY id",
            chunk,
        )
        records += [ChangeRecord.from_row(r) for r in rows]
    return records


async def same_edit(db: Store, record: ChangeRecord) -> list[ChangeRecord]:
    """The other changes of ``record``'s edit in its collection (another collection's copies of
    the same edit are that collection's to decide)."""
    rows = await db.fetchall(
        f"SELECT {RECORD_COLUMNS} FROM changes WHERE wiki = ? AND revision = ? AND collection = ?"
        " AND id != ? ORDER BY id",
        (record.wiki, record.revision, record.collection, record.id),
    )
    return [ChangeRecord.from_row(r) for r in rows]


async def file_history(db: Store, record: ChangeRecord, limit: int = 20) -> list[ChangeRecord]:
    """The file's other edits, in ``record``'s collection."""
    rows = await db.fetchall(
        f"SELECT {RECORD_COLUMNS} FROM changes WHERE file = ? AND collection = ?"
        " AND revision != ? ORDER BY timestamp DESC, id DESC LIMIT ?",
        (record.file, record.collection, record.revision, limit),
    )
    return [ChangeRecord.from_row(r) for r in rows]
