"""Words beside the raw values: what the CSV and JSON lines exports add (``field_text``, ``old_text``,
``new_text``) and what the messages show, from ``watcher.diff.readable``, with the labels they need.

Labels come from the cache (``watcher.store.labels.cached_labels``: read only, never the network), in
the museum's ``[labels] languages``; where the cache has none, the labels the pipeline attached to the
record when it was queued (``detail["old_label"]``/``["new_label"]``); where neither has one, the words
name the id ("Q17199752"). A label that cannot be read never fails an export or a message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from watcher.diff.readable import (
    Readable,
    detail_entity_ids,
    entity_ids,
    field_words,
    qualifier_words,
    statement_value,
    summary_entity_ids,
    summary_words,
    value_words,
)
from watcher.store.engine import STORE_ERRORS, Store
from watcher.store.labels import cached_labels
from watcher.store.queue import ChangeRecord

log = logging.getLogger("watcher.export")

# Added after every existing column or key, in this order.
TEXT_COLUMNS = ("field_text", "old_text", "new_text")


def record_entity_ids(record: ChangeRecord) -> list[str]:
    """The ids whose labels improve this record's words: its property and values, its qualifiers,
    and the entities its edit summary links."""
    ids = entity_ids(record.field, record.property, record.old, record.new)
    if record.field == "statement":
        ids += detail_entity_ids(record.detail)
    return [*ids, *summary_entity_ids(record.comment)]


def queued_labels(record: ChangeRecord) -> dict[str, str]:
    """The labels the pipeline attached when the record was queued: value id → label."""
    detail = record.detail or {}
    found: dict[str, str] = {}
    for side, value in (("old", record.old), ("new", record.new)):
        label = detail.get(f"{side}_label")
        if value and isinstance(label, str) and label:
            found[value.strip()] = label
    return found


async def labels_for(db: Store, records: Iterable[ChangeRecord], languages: Sequence[str]) -> dict[str, str]:
    """id → label for everything ``records`` name: the cache first, the records' own labels beside it.
    A cache that cannot be read (an old database, a damaged one) gives the records' own labels."""
    records = list(records)
    found: dict[str, str] = {}
    for record in records:
        found.update(queued_labels(record))
    wanted = list(dict.fromkeys(i for r in records for i in record_entity_ids(r)))
    if not wanted or not languages:
        return found
    try:
        found.update(await cached_labels(db, wanted, languages))
    except STORE_ERRORS as exc:
        log.warning("labels not read from the cache (%s): the words name ids instead", exc)
    return found


@dataclass(frozen=True)
class RecordWords:
    """One record in words: its field, its values (with a link where one click shows more), the
    qualifiers of a statement and the edit summary."""

    field: str
    old: Readable | None
    new: Readable | None
    qualifiers: str
    summary: str | None


def record_words(record: ChangeRecord, labels: Mapping[str, str] | None = None) -> RecordWords:
    """The words of one record. ``labels`` as from :func:`labels_for`; without them, the record's own."""
    merged = {**queued_labels(record), **(labels or {})}
    detail = record.detail or {}
    return RecordWords(
        field=field_words(record.field, record.property, record.template, merged),
        old=value_words(record.field, record.property, _value(record, "old"), merged),
        new=value_words(record.field, record.property, _value(record, "new"), merged),
        qualifiers=qualifier_words(detail.get("qualifiers"), merged) if record.field == "statement" else "",
        summary=summary_words(record.comment, merged),
    )


def text_columns(record: ChangeRecord, labels: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """``field_text``, ``old_text``, ``new_text`` of one record: the words a curator reads (null where
    the value is null)."""
    words = record_words(record, labels)
    return {
        "field_text": words.field,
        "old_text": words.old.text if words.old is not None else None,
        "new_text": words.new.text if words.new is not None else None,
    }


def _value(record: ChangeRecord, side: str) -> str | None:
    value = record.old if side == "old" else record.new
    if record.field != "statement":
        return value
    return statement_value(value, record.detail, "old" if side == "old" else "new")
