"""Shared bits of the diff tests: the real samples and a compact view of change records."""

from __future__ import annotations

import json
from typing import Any

from tests.support.fixtures import MEDIAINFO, WIKITEXT, mediainfo
from watcher.diff import DiffSettings, FieldChange, RevisionContent, diff_revisions

Row = tuple[str, str, str | None, str | None, str | None, str | None, str | None, str]


def entity(name: str) -> dict[str, Any]:
    """The entity itself, unwrapped from a wbgetentities response where needed."""
    data: dict[str, Any] = json.loads(mediainfo(name))
    if "entities" in data:
        return dict(next(iter(data["entities"].values())))
    return data


def all_wikitext_samples() -> list[str]:
    return sorted(p.name for p in WIKITEXT.glob("*.wikitext"))


def all_mediainfo_samples() -> list[str]:
    return sorted(p.name for p in MEDIAINFO.glob("*.json"))


def row(c: FieldChange) -> Row:
    """What a curator sees of a record: (field, action, old, new, template, property, language, kind)."""
    return (c.field, c.action, c.old, c.new, c.template, c.property, c.language, c.kind)


def rows(changes: list[FieldChange]) -> list[Row]:
    return [row(c) for c in changes]


def diff_text(old: str, new: str, settings: DiffSettings | None = None) -> list[FieldChange]:
    return diff_revisions(RevisionContent(old), RevisionContent(new), settings or DiffSettings())


def diff_sdc(old: Any, new: Any, settings: DiffSettings | None = None) -> list[FieldChange]:
    return diff_revisions(RevisionContent("", old), RevisionContent("", new), settings or DiffSettings())
