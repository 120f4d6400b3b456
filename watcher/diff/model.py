"""The semantic change model shared by the diff engine, the store and everything downstream.

A :class:`FieldChange` is what the diff of two revisions yields: one field of one page changed.
The pipeline adds provenance (who, when, which revision, which file) to make a change record
(``watcher.store``), whose columns are the contract's change record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from watcher.base.values import Action, Kind
from watcher.config import DiffSection


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One semantic change of one field between two revisions of a page."""

    field: str
    action: Action
    old: str | None
    new: str | None
    template: str | None = None
    property: str | None = None
    language: str | None = None
    kind: Kind = "content"
    # Extra, structured detail for display (qualifiers of a statement, a line diff of unparsed text...).
    detail: dict[str, Any] | None = None

    def key(self) -> tuple[str, str | None, str | None, str | None, str, str | None, str | None]:
        """The part of the contract's uniqueness key that belongs to the change itself."""
        return (self.field, self.template, self.property, self.language, self.action, self.old, self.new)

    def detail_json(self) -> str | None:
        return None if self.detail is None else json.dumps(self.detail, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True, slots=True)
class RevisionContent:
    """The two slots of one revision, as the Action API returns them.

    ``mediainfo`` is the raw JSON text of the ``mediainfo`` slot (or an already-parsed dict);
    ``None`` where the revision has no structured data yet.
    """

    wikitext: str | None
    mediainfo: str | dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class DiffSettings:
    """What the diff needs from the configuration; pure data so the diff stays free of I/O."""

    # Institution templates that stand in for {{Information}}, e.g. "LSH artwork", "BArch-image".
    info_templates: tuple[str, ...] = ()
    # Extra maintenance templates and category patterns (fnmatch style, case-insensitive on the
    # first letter), added to the built-in defaults.
    maintenance_templates: tuple[str, ...] = ()
    maintenance_categories: tuple[str, ...] = ()
    # Numeric tolerance for coordinates, in decimal degrees.
    coordinate_tolerance: float = 1e-5
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_section(cls, section: DiffSection) -> DiffSettings:
        """The ``[diff]`` table of config.toml as the diff engine reads it."""
        return cls(
            info_templates=section.info_templates,
            maintenance_templates=section.maintenance_templates,
            maintenance_categories=section.maintenance_categories,
        )
