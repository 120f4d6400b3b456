"""Writing change records out: the terminal table, JSONL and RFC 4180 CSV for collection systems.

CSV is RFC 4180: comma-separated, CRLF line ends, fields with a comma, quote or line break in double
quotes (quotes doubled), UTF-8; an empty field means null. ``bom`` starts the file with a UTF-8 byte
order mark so that spreadsheet programs read it as UTF-8. ``formula_guard`` prefixes cells that begin
with ``= + - @`` (or a tab or carriage return) with an apostrophe, so that a spreadsheet does not run a
value written on Commons as a formula; it changes the data, so it is for spreadsheets, not for imports.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from watcher.config import Config
from watcher.store.queue import ChangeRecord

EXPORT_COLUMNS = (
    "object_id", "file", "field", "template", "property", "language", "action", "old", "new", "user",
    "timestamp", "revision", "diff_url", "status", "reviewer", "reviewed_at", "note",
)  # fmt: skip
# The CSV header: the export columns, Wikidata labels of item values, then the queue id (for
# `watcher accept`/`reject` round trips).
LABEL_COLUMNS = ("old_label", "new_label")
CSV_HEADER = (*EXPORT_COLUMNS, *LABEL_COLUMNS, "id")
FORMATS = ("csv", "jsonl")
BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 500


def index_url(config: Config) -> str:
    """index.php beside api.php, for diff links."""
    base = config.wiki.api_url.rsplit("/", 1)[0]
    return f"{base}/index.php"


def content_type(fmt: str) -> str:
    return {"csv": "text/csv", "jsonl": "application/x-ndjson"}[fmt]


def export_filename(fmt: str, moment: datetime | None = None) -> str:
    stamp = (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"watcher-export-{stamp}.{fmt}"


def guard_formula(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def csv_row(record: ChangeRecord, index: str, *, formula_guard: bool = False) -> list[Any]:
    row = record.as_contract(index)
    cells: list[Any] = ["" if row.get(c) is None else row[c] for c in (*EXPORT_COLUMNS, *LABEL_COLUMNS)]
    if formula_guard:
        cells = [guard_formula(c) if isinstance(c, str) else c for c in cells]
    return [*cells, record.id]


def iter_export(
    records: Sequence[ChangeRecord],
    fmt: str,
    config: Config,
    *,
    bom: bool = False,
    formula_guard: bool = False,
) -> Iterator[str]:
    """The export as text chunks of up to CHUNK_ROWS records (for streaming a large download)."""
    index = index_url(config)
    if fmt == "jsonl":
        for start in range(0, len(records), CHUNK_ROWS):
            yield "".join(
                json.dumps(record.as_contract(index), ensure_ascii=False) + "\n"
                for record in records[start : start + CHUNK_ROWS]
            )
        return
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if bom:
        buffer.write(BOM)
    writer.writerow(CSV_HEADER)
    for start in range(0, len(records), CHUNK_ROWS):
        for record in records[start : start + CHUNK_ROWS]:
            writer.writerow(csv_row(record, index, formula_guard=formula_guard))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _render_table(records: Sequence[ChangeRecord]) -> str:
    width = shutil.get_terminal_size((160, 24)).columns
    rows = [("id", "time", "file", "object", "field", "lang", "action", "change", "user")]
    for r in records:
        field = (
            r.field + (f" ({r.property})" if r.property else "") + (f" [{r.template}]" if r.template else "")
        )
        old, new = _short(r.old), _short(r.new)
        text = {"added": f"+ {new}", "removed": f"- {old}", "tagged": f"tagged {new}"}.get(
            r.action, f"{old} → {new}"
        )
        rows.append(
            (str(r.id), r.timestamp[:16].replace("T", " "), r.file.removeprefix("File:"), r.object_id or "",
             field, r.language or "", r.action, text, r.user or "")
        )  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    caps = [8, 16, 40, 14, 30, 6, 8, 60, 20]
    widths = [min(w, c) for w, c in zip(widths, caps, strict=True)]
    lines = [
        "  ".join(_cut(cell, w).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(line[:width] if sys.stdout.isatty() else line for line in lines)


def _short(value: str | None) -> str:
    return "∅" if value is None else " ".join(value.split())


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def write_records(
    records: Sequence[ChangeRecord],
    fmt: str,
    out: TextIO,
    config: Config,
    *,
    bom: bool = False,
    formula_guard: bool = False,
) -> None:
    """Write ``records`` as ``csv``, ``jsonl`` or (anything else) the terminal table."""
    if fmt in FORMATS:
        for chunk in iter_export(records, fmt, config, bom=bom, formula_guard=formula_guard):
            out.write(chunk)
    else:
        out.write(_render_table(records) + "\n" if records else "no changes\n")
