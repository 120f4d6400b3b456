"""`--layout wide`: one row per object, one column per field, in the museum's own column names.

The long layout (one row per change) keeps the full provenance of every change; the wide layout is
what a collection system imports: each object's fields as they should be now. Pure functions over
change records and ``[export.columns]``; the writers (``profiles``) turn a :class:`WideTable` into a
file.

**Rows.** One per ``object_id``; records without one get a row of their own per file. An object with
several files on Commons is one row, its files joined in ``file``. Where the config has several
collections, one row per collection and object (a file in two collections has a row in each, with
each collection's object id), in config order, and a ``collection`` column after all the others.

**Cells.** A cell's key is ``FIELD`` or ``FIELD/LANGUAGE`` (``description/sv``), ``statement/P180`` for
structured-data statements, ``file/sha1`` for a new file version (``file`` is the title column).
``[export.columns]`` maps a key to the museum's column name; an unmapped key is its own column name.
``FIELD`` alone matches the field without a language only.

- *Unchanged stays blank.* A blank cell means "no change": leave the field as it is. Only the changes
  in the export make cells.
- *The latest edit wins.* Where several changes hit one cell, the one with the latest edit
  (timestamp, then revision, then queue id) gives the value.
- *A removal is not a blank.* Where the latest change removed the value, the cell stays empty and its
  column is named in ``cleared``: "set this field empty". No marker goes into the cell, because an
  importer would write the marker into the field.
- *Categories and statements are sets.* ``category`` lists the categories added, ``category/removed``
  those removed (``statement/P180`` and ``statement/P180/removed`` likewise), joined with ``"; "``;
  a value added and removed again in the same export cancels out. Statement values are as in the
  change record (``Q…`` for items).
- *Statuses.* Accepted changes fill cells (pending ones too where the caller selected them). A
  retraction — the routine export's row for a change it sent whose decision then moved away from
  accepted, or any exported change that is no longer accepted — sets the cell back to its value
  before that change, and ``retracted`` names the column and revision. Other rejected and withdrawn
  changes are left out.

**Columns.** ``object_id``, ``file``, the mapped field columns in the order of ``[export.columns]``
(always there, so an importer's mapping by column position keeps working, a set's ``…/removed``
column right after it), the unmapped ones that occur, sorted, then the provenance a registrar needs:
``cleared``, ``retracted``, ``editors`` (distinct Commons users, in edit order), ``reviewers``,
``revisions``, ``diff_urls``, ``last_edit``, ``ids`` (queue ids, for `watcher accept`/`reject`). Fixed
and provenance columns may be renamed through ``[export.columns]`` as well (``"object_id" = "idno"``).
A name used twice gets `` (2)``. With several collections a field called ``collection`` is the
``collection (field)`` column, as ``ids`` is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from watcher.config import Config
from watcher.export.csvfile import COLLECTION_COLUMN
from watcher.export.shared import index_url
from watcher.store.queue import ChangeRecord

JOIN = "; "
REMOVED = "/removed"
OBJECT_ID, FILE = "object_id", "file"
FIXED = (OBJECT_ID, FILE)
COLLECTION = COLLECTION_COLUMN  # the last column of a table by collection, named as in the long CSV
PROVENANCE = ("cleared", "retracted", "editors", "reviewers", "revisions", "diff_urls", "last_edit", "ids")
RESERVED = frozenset((*FIXED, *PROVENANCE))
SETS = frozenset({"category", "statement"})  # fields with many values: added and removed, not latest wins
FILLS_CELLS = frozenset({"accepted", "pending"})  # a pending one only where the caller selected it


def is_retraction(record: ChangeRecord) -> bool:
    """A change the collection system was sent whose decision moved away from accepted (the routine
    export's retraction rows, and any exported change no longer accepted: the store's definition)."""
    return record.retracts is not None or (record.exported_at is not None and record.status != "accepted")


def cell_key(record: ChangeRecord, reserved: frozenset[str] = RESERVED) -> str:
    """The key of the cell a record fills: ``FIELD``, ``FIELD/LANGUAGE``, ``statement/P…``, ``file/sha1``."""
    if record.field == "statement":
        return f"statement/{record.property or ''}"
    if record.field == FILE:
        return "file/sha1"
    key = f"{record.field}/{record.language}" if record.language else record.field
    return f"{key} (field)" if key in reserved else key  # a parameter called "ids" is not the ids column


def is_set_key(key: str) -> bool:
    return key.split("/", 1)[0] in SETS and not key.endswith(REMOVED)


@dataclass(slots=True)
class WideRow:
    """One object: its cells by key and the provenance of the changes behind them."""

    object_id: str | None
    collection: str | None = None  # where the table is by collection
    files: list[str] = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)
    cleared: list[str] = field(default_factory=list)  # keys
    retracted: list[tuple[str, int]] = field(default_factory=list)  # (key, revision)
    editors: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    revisions: list[int] = field(default_factory=list)
    diff_urls: list[str] = field(default_factory=list)
    last_edit: str = ""
    ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WideTable:
    """The rows and the columns of a wide export; ``names`` maps each key to its column name."""

    keys: tuple[str, ...]  # the field columns, in order
    names: Mapping[str, str]  # every key (fixed, field, provenance) → its column name
    rows: tuple[WideRow, ...]
    by_collection: bool = False  # a row per collection and object, and the collection column last

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column's key, in order."""
        return (*FIXED, *self.keys, *PROVENANCE, *((COLLECTION,) if self.by_collection else ()))

    @property
    def ids(self) -> list[int]:
        """The queue ids of every change the table holds (what an export of it wrote)."""
        return sorted(i for row in self.rows for i in row.ids)

    def header(self) -> list[str]:
        return [self.names[k] for k in self.columns]

    def cells(self, row: WideRow, separator: str = JOIN) -> list[str]:
        """A row's cells, aligned with :meth:`header`."""
        names = self.names
        provenance = {
            "cleared": separator.join(names[k] for k in self.keys if k in row.cleared),  # column order
            "retracted": separator.join(f"{names[k]} (revision {rev})" for k, rev in row.retracted),
            "editors": separator.join(row.editors),
            "reviewers": separator.join(row.reviewers),
            "revisions": separator.join(str(r) for r in sorted(row.revisions)),
            "diff_urls": separator.join(row.diff_urls),
            "last_edit": row.last_edit,
            "ids": separator.join(str(i) for i in sorted(row.ids)),
        }
        return [
            row.object_id or "",
            separator.join(row.files),
            *(row.cells.get(k, "") for k in self.keys),
            *(provenance[k] for k in PROVENANCE),
            *((row.collection or "",) if self.by_collection else ()),
        ]

    def lists(self, separator: str = JOIN) -> list[list[str]]:
        """The header, then every row's cells."""
        return [self.header(), *(self.cells(r, separator) for r in self.rows)]

    def dicts(self, separator: str = JOIN) -> list[dict[str, str]]:
        """Every row as {column name: cell}."""
        header = self.header()
        return [dict(zip(header, self.cells(r, separator), strict=True)) for r in self.rows]


def wide_table(
    records: Sequence[ChangeRecord], config: Config, *, columns: Mapping[str, str] | None = None
) -> WideTable:
    """The wide layout of ``records`` with ``[export.columns]`` (or ``columns``) as the column names."""
    rows = wide_rows(records, index_url(config), collections=row_collections(config))
    return arrange(rows, config.export.columns if columns is None else columns)


def row_collections(config: Config) -> tuple[str, ...] | None:
    """The collections a wide table has rows by, in config order; None with one (rows by object)."""
    return config.collection_names if len(config.collections) > 1 else None


def wide_rows(
    records: Sequence[ChangeRecord],
    index: str,
    *,
    separator: str = JOIN,
    collections: Sequence[str] | None = None,
) -> list[WideRow]:
    """The rows: one per object (or file without one), cells by the latest edit; objects first. With
    ``collections`` (:func:`row_collections`), one per collection and object, collections in that order."""
    ordered = sorted(records, key=lambda r: (r.timestamp, r.revision, r.id))
    rank = {name: number for number, name in enumerate(collections or ())}
    groups: dict[tuple[int, str, int, str], list[ChangeRecord]] = {}
    for record in ordered:
        if record.status in FILLS_CELLS or is_retraction(record):
            where = (rank.get(record.collection, len(rank)), record.collection) if collections else (0, "")
            key = (*where, 0, record.object_id) if record.object_id else (*where, 1, record.file)
            groups.setdefault(key, []).append(record)
    by_collection = collections is not None
    return [
        _row(group, index, separator, by_collection)
        for _, group in sorted(groups.items(), key=lambda kv: kv[0])
    ]


def present_keys(rows: Iterable[WideRow]) -> set[str]:
    """Every field key the rows use: a cell, a cleared field or a retraction."""
    keys: set[str] = set()
    for row in rows:
        keys.update(row.cells, row.cleared, (k for k, _ in row.retracted))
    return keys


def arrange(rows: Sequence[WideRow], columns: Mapping[str, str], *, by_collection: bool = False) -> WideTable:
    """The table of ``rows``: its field columns in order and every column's name from ``columns``;
    ``by_collection``: rows of :func:`wide_rows` with ``collections``, and the collection column last."""
    reserved = _reserved(by_collection)
    keys = _column_keys(columns, present_keys(rows), reserved)
    extra = (COLLECTION,) if by_collection else ()
    return WideTable(keys, _names(keys, columns, extra), tuple(rows), by_collection)


def _reserved(by_collection: bool) -> frozenset[str]:
    return RESERVED | {COLLECTION} if by_collection else RESERVED


def _row(records: list[ChangeRecord], index: str, separator: str, by_collection: bool) -> WideRow:
    """One object's row from its records, oldest edit first."""
    first = records[0]
    row = WideRow(object_id=first.object_id, collection=first.collection if by_collection else None)
    reserved = _reserved(by_collection)
    singles: dict[str, tuple[str | None, ChangeRecord]] = {}  # key → (value now, the record deciding it)
    sets: dict[str, dict[str, tuple[bool, bool]]] = {}  # key → value → (there before, there now)
    for record in records:
        key = cell_key(record, reserved)
        retraction = is_retraction(record)
        old, new = (record.new, record.old) if retraction else (record.old, record.new)
        if retraction:
            row.retracted.append((key, record.revision))
        if is_set_key(key):
            values = sets.setdefault(key, {})
            for value, now in ((old, False), (new, True)):
                if value is not None:
                    before = values[value][0] if value in values else not now
                    values[value] = (before, now)
        else:
            removed = new is None or (record.action == "removed" and not retraction)
            singles[key] = (None if removed else new, record)
        _add_provenance(row, record, index)
    for key, (value, _) in singles.items():
        if value is None:
            row.cleared.append(key)
        else:
            row.cells[key] = value
    for key, values in sets.items():
        added = [v for v, (before, now) in values.items() if now and not before]
        gone = [v for v, (before, now) in values.items() if before and not now]
        if added:
            row.cells[key] = separator.join(added)
        if gone:
            row.cells[key + REMOVED] = separator.join(gone)
    return row


def _add_provenance(row: WideRow, record: ChangeRecord, index: str) -> None:
    _append_new(row.files, record.file)
    if record.user:
        _append_new(row.editors, record.user)
    if record.reviewer:
        _append_new(row.reviewers, record.reviewer)
    if record.revision not in row.revisions:
        row.revisions.append(record.revision)
    _append_new(row.diff_urls, record.diff_url(index))
    row.last_edit = max(row.last_edit, record.timestamp)
    row.ids.append(record.id)


def _append_new(values: list[str], value: str) -> None:
    if value not in values:
        values.append(value)


def _column_keys(
    columns: Mapping[str, str], present: Iterable[str], reserved: frozenset[str] = RESERVED
) -> tuple[str, ...]:
    """Mapped field keys in config order (a set's ``/removed`` right after it), then the rest sorted."""
    keys: list[str] = []
    for key in columns:
        if key in reserved or key in keys:
            continue
        keys.append(key)
        if is_set_key(key) and key + REMOVED not in columns:
            keys.append(key + REMOVED)
    keys += sorted(set(present) - set(keys))
    return tuple(keys)


def _names(keys: Sequence[str], columns: Mapping[str, str], extra: Sequence[str] = ()) -> dict[str, str]:
    """Each key's column name: the mapping's, a set's ``… (removed)`` after its own, else the key; unique."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for key in (*FIXED, *keys, *PROVENANCE, *extra):
        if key in columns:
            name = columns[key]
        elif key.endswith(REMOVED) and key.removesuffix(REMOVED) in columns:
            name = f"{columns[key.removesuffix(REMOVED)]} (removed)"
        else:
            name = key
        unique, n = name, 1
        while unique in used:
            n += 1
            unique = f"{name} ({n})"
        used.add(unique)
        names[key] = unique
    return names
