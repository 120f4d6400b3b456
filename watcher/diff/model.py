"""The semantic change model shared by the diff engine, the store and everything downstream.

A :class:`FieldChange` is what the diff of two revisions yields: one field of one page changed.
The pipeline adds provenance (who, when, which revision, which file) to make a change record
(``watcher.store``), whose columns are the contract's change record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from watcher.base.values import Action, Kind
from watcher.config import DiffSection
from watcher.diff.redirects import TemplateRedirects


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
    """What the diff needs from the configuration; pure data so the diff stays free of I/O.

    ``template_redirects`` is the hook for the wiki's own redirect list: redirect → target, names with
    or without ``Template:`` (e.g. from ``list=allredirects&arnamespace=10`` or ``prop=redirects`` on
    the info, language, date and location templates). It extends the built-in offline table in
    ``watcher.diff.redirects`` and wins over it; :meth:`with_redirects` makes a copy that has them.
    """

    # Institution templates that stand in for {{Information}}, e.g. "LSH artwork", "BArch-image".
    info_templates: tuple[str, ...] = ()
    # Extra maintenance templates and category patterns (fnmatch style, case-insensitive on the
    # first letter), added to the built-in defaults.
    maintenance_templates: tuple[str, ...] = ()
    maintenance_categories: tuple[str, ...] = ()
    # Numeric tolerance for coordinates, in decimal degrees.
    coordinate_tolerance: float = 1e-5
    extra: dict[str, Any] = field(default_factory=dict)
    # Template redirects known at run time (from the wiki), on top of the built-in ones.
    template_redirects: Mapping[str, str] = field(default_factory=dict)
    # The resolved table (built-in + template_redirects), computed once per settings object.
    redirects: TemplateRedirects = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "redirects", TemplateRedirects.build(self.template_redirects))

    def with_redirects(self, redirects: Mapping[str, str]) -> DiffSettings:
        """These settings with the wiki's template redirects (replacing any given before)."""
        return replace(self, template_redirects=dict(redirects))

    @classmethod
    def from_section(cls, section: DiffSection) -> DiffSettings:
        """The ``[diff]`` table of config.toml as the diff engine reads it."""
        return cls(
            info_templates=section.info_templates,
            maintenance_templates=section.maintenance_templates,
            maintenance_categories=section.maintenance_categories,
        )
