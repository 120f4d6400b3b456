"""The terminal table of `watcher changes` (a listing, not an export).

Every cell goes through :func:`watcher.base.text.one_line` (as the digest's values do): a value
written on Commons may hold escape sequences or bidi overrides that would recolour, retitle or clear
the curator's terminal or show a value reversed, and the table is only ever read by people (on a
terminal or through a pager), so it is made safe whether or not stdout is a terminal. CSV and JSON
lines stay byte-faithful. With several collections in the config, each row names its collection.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence

from watcher.base.text import one_line
from watcher.config import Config
from watcher.store.queue import ChangeRecord


def write(
    records: Sequence[ChangeRecord],
    config: Config,
    *,
    bom: bool = False,
    formula_guard: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """The table in one chunk, or "no changes"."""
    several = len(config.collections) > 1
    yield render_table(records, collections=several) + "\n" if records else "no changes\n"


def render_table(records: Sequence[ChangeRecord], *, collections: bool = False) -> str:
    """The rows, with a collection column after the time where ``collections``."""
    width = shutil.get_terminal_size((160, 24)).columns
    rows: list[tuple[str, ...]] = [
        ("id", "time", "file", "object", "field", "lang", "action", "change", "user")
    ]
    for r in records:
        field = (
            r.field + (f" ({r.property})" if r.property else "") + (f" [{r.template}]" if r.template else "")
        )
        old, new = _short(r.old), _short(r.new)
        text = {"added": f"+ {new}", "removed": f"- {old}", "tagged": f"tagged {new}"}.get(
            r.action, f"{old} → {new}"
        )
        cells = (str(r.id), r.timestamp[:16].replace("T", " "), r.file.removeprefix("File:"),
                 r.object_id or "", field, r.language or "", r.action, text, r.user or "")  # fmt: skip
        rows.append(tuple(one_line(cell) for cell in cells))
    caps = [8, 16, 40, 14, 30, 6, 8, 60, 20]
    if collections:
        names = ["collection", *(one_line(r.collection) for r in records)]
        rows = [(*row[:2], name, *row[2:]) for row, name in zip(rows, names, strict=True)]
        caps.insert(2, 16)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    widths = [min(w, c) for w, c in zip(widths, caps, strict=True)]
    lines = [
        "  ".join(_cut(cell, w).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(line[:width] if sys.stdout.isatty() else line for line in lines)


def _short(value: str | None) -> str:
    return "∅" if value is None else one_line(value)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
