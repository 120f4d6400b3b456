"""JSON lines: one change record a line, UTF-8 as is: the contract's keys, then the field and values
in words (``field_text``, ``old_text``, ``new_text``: ``watcher.export.words``)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from watcher.config import Config
from watcher.export.shared import CHUNK_ROWS, index_url
from watcher.export.words import text_columns
from watcher.store.queue import ChangeRecord


def record_object(
    record: ChangeRecord, index: str, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One line's object: the contract's keys as stored, the words after them."""
    return {**record.as_contract(index), **text_columns(record, labels)}


def write(
    records: Sequence[ChangeRecord],
    config: Config,
    *,
    bom: bool = False,
    formula_guard: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """The records as text chunks of up to CHUNK_ROWS lines (``bom`` and ``formula_guard``: CSV only;
    ``labels`` for the words, as ``watcher.export.words.labels_for`` gives them)."""
    index = index_url(config)
    for start in range(0, len(records), CHUNK_ROWS):
        yield "".join(
            json.dumps(record_object(record, index, labels), ensure_ascii=False) + "\n"
            for record in records[start : start + CHUNK_ROWS]
        )
