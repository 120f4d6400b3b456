"""CSV for collection systems and spreadsheets (RFC 4180).

Comma-separated, CRLF line ends, fields with a comma, quote or line break in double quotes (quotes
doubled), UTF-8; an empty field means null. ``bom`` starts the file with a UTF-8 byte order mark so
that spreadsheet programs read it as UTF-8.

The formula guard is on unless a caller opts out (``formula_guard=False``: `--raw`, the page's "raw"
box): values are written on Commons by anyone, and a spreadsheet runs a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(...)``, ``-2+3+cmd``, DDE). Following OWASP's CSV
injection advice, every text cell that starts with one of those, a tab or a carriage return, or whose
first character after leading white space is one of them, gets a leading apostrophe (``'``), which
spreadsheets show as text. Numbers are no exception: ``-5`` is written ``'-5`` (a value from Commons
is text, and ``-2+3+cmd`` starts like a number). The guard changes the data: an importer that must
see the values as they are takes the raw file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from watcher.config import Config
from watcher.export.shared import CHUNK_ROWS, index_url
from watcher.export.words import TEXT_COLUMNS, text_columns
from watcher.store.queue import ChangeRecord

EXPORT_COLUMNS = (
    "object_id", "file", "field", "template", "property", "language", "action", "old", "new", "user",
    "timestamp", "revision", "diff_url", "status", "reviewer", "reviewed_at", "note", "retracts",
    "reverted_by", "superseded_by", "tags", "tools", "editor_edits", "editor_registered",
)  # fmt: skip
# The CSV header: the export columns, Wikidata labels of item values, the queue id (for
# `watcher accept`/`reject` round trips), the field and values in words (``watcher.export.words``),
# then the record's collection. New columns only ever go at the end: importers map them by position.
LABEL_COLUMNS = ("old_label", "new_label")
COLLECTION_COLUMN = "collection"
CSV_HEADER = (*EXPORT_COLUMNS, *LABEL_COLUMNS, "id", *TEXT_COLUMNS, COLLECTION_COLUMN)
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list


def needs_guard(value: str) -> bool:
    """Would a spreadsheet take this cell for a formula (or a tab/CR-led one, after trimming)?"""
    return value.startswith(FORMULA_STARTS) or value.lstrip().startswith(FORMULA_STARTS)


def guard_formula(value: str) -> str:
    """The cell as a spreadsheet shows it as text: a leading ``'`` where :func:`needs_guard`."""
    return "'" + value if needs_guard(value) else value


def cell(value: Any) -> Any:
    """A contract value as a CSV cell: null empty, a list (tags, tools) joined with "; "."""
    if value is None:
        return ""
    return "; ".join(str(v) for v in value) if isinstance(value, list) else value


def csv_row(
    record: ChangeRecord, index: str, *, formula_guard: bool = True, labels: Mapping[str, str] | None = None
) -> list[Any]:
    row = record.as_contract(index)
    cells: list[Any] = [cell(row.get(c)) for c in (*EXPORT_COLUMNS, *LABEL_COLUMNS)]
    words = text_columns(record, labels)
    after_id: list[Any] = [*(cell(words[c]) for c in TEXT_COLUMNS), record.collection]
    if formula_guard:  # the words come from Commons too: "=cmd" in a description stays "=cmd"
        cells = [guard_formula(c) if isinstance(c, str) else c for c in cells]
        after_id = [guard_formula(c) if isinstance(c, str) else c for c in after_id]
    return [*cells, record.id, *after_id]


def write(
    records: Sequence[ChangeRecord],
    config: Config,
    *,
    bom: bool = False,
    formula_guard: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """The header, then the records as text chunks of up to CHUNK_ROWS rows (``labels``: for the
    words columns, as ``watcher.export.words.labels_for`` gives them)."""
    index = index_url(config)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if bom:
        buffer.write(BOM)
    writer.writerow(CSV_HEADER)
    for start in range(0, len(records), CHUNK_ROWS):
        for record in records[start : start + CHUNK_ROWS]:
            writer.writerow(csv_row(record, index, formula_guard=formula_guard, labels=labels))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
