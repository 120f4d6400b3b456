"""What the watcher tracks, per collection: `[tracking]` (one collection, ``default``) or `[[collection]]`.

One deployment may serve several collections or institutions (issue 19, the contract's "Many
collections in one deployment"). Each ``[[collection]]`` table holds every key ``[tracking]`` has, plus
a ``name`` and a ``title``; a config with ``[tracking]`` alone is one collection named ``default``. The
two forms are not mixed: which table would the museum's own edits, its object ids and its curators
belong to?

config.py owns the TOML reading (types, paths, line numbers); this module says what a collection is
and what makes one wrong, through the :class:`TableReader` that config.py hands it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

# The collection a `[tracking]` table describes; also its title.
DEFAULT_COLLECTION = "default"
# Names appear in the CLI (`--collection NAME`) and in URLs: nothing that needs quoting.
COLLECTION_NAME = re.compile(r"[A-Za-z0-9_-]+")
SOURCES_HINT = "set at least one of categories, uploaders, templates, files or files_from"

KeyPath = tuple[str | int, ...]


class TableReader(Protocol):
    """config.py's reader: it reports a problem at a key path (with its line) and builds a table."""

    def problem(self, path: KeyPath, message: str) -> None: ...

    def build(self, cls: type[Any], raw: Any, path: KeyPath) -> Any: ...

    def line(self, path: KeyPath) -> int | None: ...


@dataclass(frozen=True)
class ObjectIdRule:
    template: str | None = None
    param: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class TrackingSection:
    categories: tuple[str, ...] = ()
    category_depth: int = 0
    uploaders: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    files_from: Path | None = None
    own_accounts: tuple[str, ...] = ()
    object_id: tuple[ObjectIdRule, ...] = ()
    # How often the tracked set is resolved again through the Action API, in hours.
    refresh_hours: float = 24.0

    @property
    def museum_accounts(self) -> tuple[str, ...]:
        return self.own_accounts or self.uploaders

    @property
    def has_source(self) -> bool:
        """Whether anything at all is tracked (a config without a source tracks nothing, silently)."""
        return bool(self.categories or self.uploaders or self.templates or self.files or self.files_from)


@dataclass(frozen=True)
class CollectionSection(TrackingSection):
    """One collection: its tracking keys (so it goes wherever a :class:`TrackingSection` goes), a name
    for the CLI, URLs and records, and a title for curators (after parsing: never empty)."""

    name: str = ""
    title: str = ""


class SeveralCollections(RuntimeError):
    """``config.tracking`` asked of a config with several collections: the code asking was written for
    one and must go through ``config.collections``, rather than quietly track only the first."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        super().__init__(
            f"config.tracking is the tracking section of a config with one collection; this config has "
            f"{len(self.names)} ({', '.join(self.names)}): this code must go through config.collections"
        )


def collection_names_by_index(raw: Any) -> dict[int, str]:
    """The names of the ``[[collection]]`` tables as written, by index, to tell whose a problem is;
    a table without a name, or with one an earlier table has, is not in it."""
    names: dict[int, str] = {}
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name and name.lower() not in {n.lower() for n in names.values()}:
            names[i] = name
    return names


def read_collections(
    reader: TableReader, raw: dict[str, Any], *, check_files: bool
) -> tuple[CollectionSection, ...]:
    """The collections of a whole parsed file (``raw``), every problem reported through ``reader``.

    Without problems the answer holds at least one collection.
    """
    if "collection" in raw:
        collections = _read_tables(reader, raw["collection"], check_files)
        if "tracking" in raw:
            first = reader.line(("collection", 0))
            at = f" (the first at line {first})" if first else ""
            reader.problem(
                ("tracking",),
                f"can't be used together with [[collection]] tables{at}: with [[collection]] every "
                "collection holds its own tracking keys; move these into a [[collection]] table "
                f'(name = "{DEFAULT_COLLECTION}" keeps the name the [tracking] form has)',
            )
        return collections
    if "tracking" not in raw:
        reader.problem(
            ("tracking",),
            f"no [tracking] table and no [[collection]] tables: say what to track ({SOURCES_HINT})",
        )
        return (CollectionSection(name=DEFAULT_COLLECTION, title=DEFAULT_COLLECTION),)
    tracking: TrackingSection = reader.build(TrackingSection, raw["tracking"], ("tracking",))
    if not tracking.has_source:
        reader.problem(("tracking",), f"names no tracking source: {SOURCES_HINT}")
    _check_tracking(reader, tracking, ("tracking",), check_files)
    keys = {f.name: getattr(tracking, f.name) for f in fields(TrackingSection)}
    return (CollectionSection(**keys, name=DEFAULT_COLLECTION, title=DEFAULT_COLLECTION),)


def _read_tables(reader: TableReader, raw: Any, check_files: bool) -> tuple[CollectionSection, ...]:
    if not isinstance(raw, list):
        reader.problem(("collection",), "must be an array of tables ([[collection]], two brackets)")
        return ()
    if not raw:
        reader.problem(("collection",), "holds no collection: write one [[collection]] table per collection")
        return ()
    collections: list[CollectionSection] = []
    seen: dict[str, tuple[int, str]] = {}  # the name folded to lower case → (index, name as written)
    for i, item in enumerate(raw):
        where: KeyPath = ("collection", i)
        collection: CollectionSection = reader.build(CollectionSection, item, where)
        name = collection.name
        label = f"collection {name!r}" if name else f"collection[{i}]"
        if not name:
            if isinstance(item, dict) and "name" not in item:
                reader.problem(where, 'needs a name (letters, digits, - and _), e.g. name = "hallwyl"')
            elif isinstance(item, dict) and isinstance(item["name"], str):  # else: "must be a string"
                reader.problem((*where, "name"), "must not be empty (letters, digits, - and _)")
        elif not COLLECTION_NAME.fullmatch(name):
            reader.problem(
                (*where, "name"),
                f"must be letters, digits, - and _ only (it appears in the command line and in URLs), "
                f"not {name!r}",
            )
        elif name.lower() in seen:
            index, other = seen[name.lower()]
            same = "is also" if other == name else f"differs only in case from {other!r},"
            reader.problem(
                (*where, "name"),
                f"{name!r} {same} the name of collection[{index}] (line {reader.line(('collection', index))}): "
                "every collection needs a name of its own",
            )
        else:
            seen[name.lower()] = (i, name)
        if not collection.has_source:
            reader.problem(where, f"{label} names no tracking source: {SOURCES_HINT}")
        _check_tracking(reader, collection, where, check_files)
        title = collection.title.strip() or name
        collections.append(CollectionSection(**{**_keys(collection), "title": title}))
    return tuple(collections)


def _keys(collection: CollectionSection) -> dict[str, Any]:
    """The fields of a collection, unconverted (``dataclasses.asdict`` would turn the rules into dicts)."""
    return {f.name: getattr(collection, f.name) for f in fields(collection)}


def _check_tracking(reader: TableReader, t: TrackingSection, where: KeyPath, check_files: bool) -> None:
    """The checks a `[tracking]` table and a `[[collection]]` table share, at ``where``."""
    problem = reader.problem
    if t.category_depth < 0:
        problem((*where, "category_depth"), "must be 0 or more")
    if t.refresh_hours <= 0:
        problem((*where, "refresh_hours"), "must be greater than 0")
    if check_files and t.files_from is not None and not t.files_from.is_file():
        problem((*where, "files_from"), f"file not found: {t.files_from}")
    for i, rule in enumerate(t.object_id):
        at: KeyPath = (*where, "object_id", i)
        if rule.pattern is not None:
            if rule.template or rule.param:
                problem(at, "a rule has either pattern, or template and param, not both")
            try:
                compiled = re.compile(rule.pattern)
            except re.error as exc:
                problem((*at, "pattern"), f"is not a valid regular expression: {exc}")
            else:
                if compiled.groups < 1:
                    problem((*at, "pattern"), "needs one group ( ... ) holding the object id")
        elif not (rule.template and rule.param):
            problem(at, "needs template and param, or pattern")


def check_channel_collections(
    reader: TableReader, where: KeyPath, channel: str, named: Sequence[str], known: Sequence[str]
) -> None:
    """`[[notify]] collections = [...]` (at ``where``) names only collections there are."""
    for j, name in enumerate(named):
        if name not in known:
            reader.problem(
                (*where, "collections", j),
                f"channel {channel!r} names the unknown collection {name!r} "
                f"(the collections: {', '.join(k for k in known if k) or 'none'})",  # not the nameless
            )
