"""Writing change records out: the terminal table, JSONL and RFC 4180 CSV for collection systems."""

from __future__ import annotations

import csv
import json
import shutil
import sys
from collections.abc import Sequence
from typing import TextIO

from watcher.config import Config
from watcher.store.queue import ChangeRecord

EXPORT_COLUMNS = (
    "object_id", "file", "field", "template", "property", "language", "action", "old", "new", "user",
    "timestamp", "revision", "diff_url", "status", "reviewer", "reviewed_at", "note",
)  # fmt: skip


def index_url(config: Config) -> str:
    """index.php beside api.php, for diff links."""
    base = config.wiki.api_url.rsplit("/", 1)[0]
    return f"{base}/index.php"


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


def write_records(records: Sequence[ChangeRecord], fmt: str, out: TextIO, config: Config) -> None:
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record.as_contract(index_url(config)), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([*EXPORT_COLUMNS, "id"])
        for record in records:
            row = record.as_contract(index_url(config))
            writer.writerow([*("" if row.get(c) is None else row[c] for c in EXPORT_COLUMNS), record.id])
    else:
        out.write(_render_table(records) + "\n" if records else "no changes\n")
