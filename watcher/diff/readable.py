"""The one entry point for words instead of Wikimedia internals: a record's field, values and summary
as a curator reads them, and the entity ids whose labels would improve those words.

Everything here is pure: labels come from the caller (``labels``: entity id, Q… or P…, → label in the
reader's language, from the label cache); a missing label never fails, it leaves the id. The record
keeps the raw values (``old``/``new``); these are the words shown beside them.

- statements: ``watcher.diff.wikibase_words`` (items "Crassula (Q17199752)", times at their precision,
  quantities with units, coordinates with a map link, licences by name)
- wikitext fields: ``watcher.diff.plaintext`` (links as their text, common templates as displayed)
- categories: the name; captions and structured descriptions: the text as it is (not wikitext)
- file: a new version of the file (the record's value is the upload's SHA-1)
- summaries: ``watcher.diff.summaries``
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from watcher.diff.plaintext import licence_words, tidy, to_text
from watcher.diff.summaries import summary_entity_ids as summary_entity_ids
from watcher.diff.summaries import summary_words as _summary_words
from watcher.diff.wikibase_words import (
    SNAK_WORDS,
    coordinates,
    is_time,
    map_link,
    property_name,
    statement_entity_ids,
    statement_words,
)
from watcher.diff.wikitext import LOCATION_TEMPLATES

# Fields whose name is not already the words for it.
FIELD_WORDS: Mapping[str, str] = {
    "text": "page text",
    "file": "file",
    "structured description": "structured description",
}
# Values that are plain text, never wikitext (MediaInfo terms).
PLAIN_TEXT_FIELDS = frozenset({"caption", "structured description"})
COORDINATE_FIELDS = frozenset(LOCATION_TEMPLATES.values())
NEW_FILE_VERSION = "a new version of the file"


@dataclass(frozen=True)
class Readable:
    text: str  # what a curator reads (plain text, may contain "\n")
    link: str | None = None  # where one click shows more: a map for coordinates, Wikidata for an item


def field_words(
    field: str, property: str | None, template: str | None, labels: Mapping[str, str] = {}
) -> str:
    """The field's name in words: "depicts" for statement P180 (a label in ``labels`` wins over the
    built-in name), "camera location" for {{Location}}, "template Uncategorized", else the field."""
    if field == "statement" and property:
        return property_name(property, labels)
    if field == "location" and (template is None or template.casefold() in LOCATION_TEMPLATES):
        return "camera location"  # {{Location}} is where the camera stood; Artwork's |location= is not
    if field == "template" and template:
        return f"template {template}"
    return FIELD_WORDS.get(field, field)


def value_words(
    field: str, property: str | None, value: str | None, labels: Mapping[str, str] = {}
) -> Readable | None:
    """A record's value in words; None for None. A time statement carrying its precision (see
    :func:`statement_value`) is read at that precision, one without at an inferred one."""
    if value is None:
        return None
    try:
        return _value_words(field, property, value, labels)
    except Exception:  # never let an odd value fail an export or a message: show it tidied
        return Readable(tidy(value))


def _value_words(field: str, property: str | None, value: str, labels: Mapping[str, str]) -> Readable:
    if field == "statement":
        text, link = statement_words(property, value, labels)
        return Readable(text, link)
    if field == "file":
        return Readable(NEW_FILE_VERSION)
    if field == "category":
        return Readable(tidy(value))
    if field in PLAIN_TEXT_FIELDS:
        return Readable(tidy(value))
    if field == "licence":
        return Readable(licence_words(value))
    if field in COORDINATE_FIELDS:
        point = coordinates(value)
        if point is not None:
            return Readable(f"{point[0]}, {point[1]}", map_link(*point))
    return Readable(to_text(value))


def summary_words(comment: str | None, labels: Mapping[str, str] = {}) -> str | None:
    """The edit summary in words; None where there is none."""
    return _summary_words(comment, labels)


def entity_ids(field: str, property: str | None, *values: str | None) -> list[str]:
    """The Q/P ids whose labels would improve the words of these values (the property, item values,
    quantity units); empty for fields that are not statements."""
    if field != "statement":
        return []
    return statement_entity_ids(property, *(v for v in values if v not in SNAK_WORDS))


# -- helpers for callers that hold a record's detail --------------------------------------------


def statement_value(
    value: str | None, detail: Mapping[str, Any] | None, side: Literal["old", "new"]
) -> str | None:
    """A statement value with its time precision from the record's detail, in QuickStatements'
    ``/N`` notation (``+1904-01-01T00:00:00Z/9``), so :func:`value_words` reads it at that precision.

    A changed statement's detail describes the new value; ``old_value_detail`` the old one where it
    differed. Other values come back unchanged.
    """
    if value is None or not detail or not is_time(value) or "/" in value:
        return value
    extra = detail.get("old_value_detail") if side == "old" and "old_value_detail" in detail else None
    if extra is None:
        extra = detail.get("value_detail")
    precision = extra.get("precision") if isinstance(extra, Mapping) else None
    return f"{value}/{precision}" if isinstance(precision, str | int) and str(precision).isdigit() else value


def qualifier_words(qualifiers: Mapping[str, Any] | None, labels: Mapping[str, str] = {}) -> str:
    """A statement's qualifiers (``detail["qualifiers"]``: property → values) in one line:
    "object has role: photographer (Q33231); author name string: Zeisterre"."""
    if not isinstance(qualifiers, Mapping):
        return ""
    parts: list[str] = []
    for prop, values in qualifiers.items():
        shown = (
            [statement_words(str(prop), str(v), labels)[0] for v in values if isinstance(v, str | int)]
            if isinstance(values, list)
            else []
        )
        if shown:
            parts.append(f"{property_name(str(prop), labels)}: {', '.join(shown)}")
    return "; ".join(parts)


def detail_entity_ids(detail: Mapping[str, Any] | None) -> list[str]:
    """The ids in a statement's qualifiers (``qualifiers``/``old_qualifiers``) worth a label."""
    if not detail:
        return []
    ids: list[str] = []
    for name in ("qualifiers", "old_qualifiers"):
        qualifiers = detail.get(name)
        if isinstance(qualifiers, Mapping):
            for prop, values in qualifiers.items():
                strings = [v for v in values if isinstance(v, str)] if isinstance(values, list) else []
                ids.extend(statement_entity_ids(str(prop), *strings))
    return list(dict.fromkeys(ids))
