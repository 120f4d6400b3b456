"""JSON lines: one change record (the contract's keys) a line, UTF-8 as is."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from watcher.config import Config
from watcher.export.shared import CHUNK_ROWS, index_url
from watcher.store.queue import ChangeRecord


def write(
    records: Sequence[ChangeRecord], config: Config, *, bom: bool = False, formula_guard: bool = True
) -> Iterator[str]:
    """The records as text chunks of up to CHUNK_ROWS lines (``bom`` and ``formula_guard``: CSV only)."""
    index = index_url(config)
    for start in range(0, len(records), CHUNK_ROWS):
        yield "".join(
            json.dumps(record.as_contract(index), ensure_ascii=False) + "\n"
            for record in records[start : start + CHUNK_ROWS]
        )
