"""Writing change records out in a registered format (``formats``): to a stream, or as chunks for a
streamed download. The names the callers used before the registry (``FORMATS``, the CSV columns,
``index_url``...) stay importable from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TextIO

from watcher.config import Config
from watcher.export.csvfile import BOM as BOM
from watcher.export.csvfile import CSV_HEADER as CSV_HEADER
from watcher.export.csvfile import EXPORT_COLUMNS as EXPORT_COLUMNS
from watcher.export.csvfile import LABEL_COLUMNS as LABEL_COLUMNS
from watcher.export.csvfile import csv_row as csv_row
from watcher.export.csvfile import guard_formula as guard_formula
from watcher.export.formats import BY_NAME, DEFAULT_LISTING, EXPORT_FORMATS, ExportFormat
from watcher.export.shared import CHUNK_ROWS as CHUNK_ROWS
from watcher.export.shared import index_url as index_url
from watcher.store.queue import ChangeRecord

FORMATS = EXPORT_FORMATS  # the old name: the formats `watcher export` offers


def content_type(fmt: str) -> str:
    return BY_NAME[fmt].content_type


def export_filename(fmt: str, moment: datetime | None = None) -> str:
    stamp = (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    extension = BY_NAME[fmt].extension if fmt in BY_NAME else fmt
    return f"watcher-export-{stamp}.{extension}"


def export_format(fmt: str) -> ExportFormat:
    """The export format called ``fmt``; ValueError where there is none (or it is for listing only)."""
    spec = BY_NAME.get(fmt)
    if spec is None or not spec.export:
        raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")
    return spec


def iter_export(
    records: Sequence[ChangeRecord],
    fmt: str,
    config: Config,
    *,
    bom: bool = False,
    formula_guard: bool = True,
) -> Iterator[str]:
    """The export as text chunks of up to CHUNK_ROWS records (for streaming a large download).

    CSV cells that a spreadsheet would run as formulas are guarded unless ``formula_guard=False``.
    """
    yield from export_format(fmt).write(records, config, bom=bom, formula_guard=formula_guard)


def write_records(
    records: Sequence[ChangeRecord],
    fmt: str,
    out: TextIO,
    config: Config,
    *,
    bom: bool = False,
    formula_guard: bool = True,
) -> None:
    """Write ``records`` in the format ``fmt`` (an unknown name: the terminal table); CSV guarded."""
    spec = BY_NAME.get(fmt) or BY_NAME[DEFAULT_LISTING]
    for chunk in spec.write(records, config, bom=bom, formula_guard=formula_guard):
        out.write(chunk)
