"""`watcher tracked`: the tracked files as a terminal table, JSON lines or CSV, and the summary lines.

Not the change-record registry (:mod:`watcher.export.formats`): these rows are files, not changes. It
reuses what the registry's formats rely on: every table cell and summary line goes through
:func:`watcher.base.text.one_line` (titles and object ids are written on Commons by anyone), CSV
cells through the formula guard (:func:`watcher.export.csvfile.guard_formula`) unless ``--raw``, and
JSON lines stay as stored. The object-id rule is given by its number in today's config (1 = the first
``[[tracking.object_id]]``) and as text; a number of None means that rule is no longer configured.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from watcher.base.text import one_line, plural
from watcher.base.values import TRACKED_REASONS, TrackedReason
from watcher.export.csvfile import BOM, guard_formula
from watcher.store.tracked import TrackedSummary

TrackedFormat = Literal["table", "jsonl", "csv"]
TRACKED_FORMATS: tuple[TrackedFormat, ...] = get_args(TrackedFormat)
CSV_COLUMNS = (
    "collection", "file", "reasons", "object_id", "object_id_rule", "object_id_rule_text",
    "object_id_revision", "object_id_checked_at", "pageid",
)  # fmt: skip
REASON_WORDS: dict[TrackedReason, str] = {
    "category": "in a tracked category",
    "uploader": "uploaded by a tracked account",
    "template": "using a tracked template",
    "list": "named in the config's list (files, files_from)",
}


@dataclass(frozen=True, slots=True)
class TrackedRow:
    """One file as `watcher tracked` writes it (the JSON line's keys, in this order)."""

    collection: str
    file: str
    pageid: int | None
    reasons: tuple[tuple[TrackedReason, str], ...]
    object_id: str | None
    object_id_rule: int | None  # its number in today's config; None: none matched, or no longer configured
    object_id_rule_text: str | None
    object_id_revision: int | None
    object_id_checked_at: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "file": self.file,
            "pageid": self.pageid,
            "reasons": [{"reason": reason, "detail": detail} for reason, detail in self.reasons],
            "object_id": self.object_id,
            "object_id_rule": self.object_id_rule,
            "object_id_rule_text": self.object_id_rule_text,
            "object_id_revision": self.object_id_revision,
            "object_id_checked_at": self.object_id_checked_at,
        }


def reasons_text(reasons: Sequence[tuple[TrackedReason, str]]) -> str:
    """``category: Category:X; list: config`` — one cell."""
    return "; ".join(f"{reason}: {detail}" for reason, detail in reasons)


def write_rows(
    rows: Sequence[TrackedRow], fmt: TrackedFormat, *, formula_guard: bool = True, bom: bool = False
) -> Iterator[str]:
    """The rows as text chunks in ``fmt`` (the table: one chunk, or "no tracked files")."""
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row.as_json(), ensure_ascii=False) + "\n"
    elif fmt == "csv":
        yield from _csv(rows, formula_guard=formula_guard, bom=bom)
    else:
        yield render_table(rows) + "\n" if rows else "no tracked files\n"


def _csv(rows: Sequence[TrackedRow], *, formula_guard: bool, bom: bool) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if bom:
        buffer.write(BOM)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        cells: list[Any] = [
            row.collection, row.file, reasons_text(row.reasons), row.object_id, row.object_id_rule,
            row.object_id_rule_text, row.object_id_revision, row.object_id_checked_at, row.pageid,
        ]  # fmt: skip
        cells = ["" if c is None else c for c in cells]
        if formula_guard:
            cells = [guard_formula(c) if isinstance(c, str) else c for c in cells]
        writer.writerow(cells)
    yield buffer.getvalue()


def render_table(rows: Sequence[TrackedRow]) -> str:
    width = shutil.get_terminal_size((160, 24)).columns
    table: list[tuple[str, ...]] = [("file", "object id", "rule", "tracked because")]
    for row in rows:
        if row.object_id_checked_at is None:
            rule = "not looked up"
        elif row.object_id is None:
            rule = "none matched"
        else:
            rule = str(row.object_id_rule) if row.object_id_rule else "(rule gone)"
        cells = (row.file.removeprefix("File:"), row.object_id or "", rule, _reasons_cell(row.reasons))
        table.append(tuple(one_line(cell) for cell in cells))
    caps = [60, 24, 13, 80]
    widths = [min(max(len(r[i]) for r in table), caps[i]) for i in range(len(caps))]
    lines = [
        "  ".join(_cut(cell, w).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    return "\n".join(line[:width] if sys.stdout.isatty() else line for line in lines)


def _reasons_cell(reasons: Sequence[tuple[TrackedReason, str]]) -> str:
    """``category Media contributed by X; list`` — the table's short form (no namespace prefixes)."""
    return "; ".join(
        reason if reason == "list" else f"{reason} {detail.split(':', 1)[1] if ':' in detail else detail}"
        for reason, detail in reasons
    )


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_lines(summary: TrackedSummary, rule_labels: Sequence[str], *, thousands: str = ",") -> list[str]:
    """The summary: files per reason and per configured source, then object ids per rule.

    ``rule_labels`` are today's ``[[tracking.object_id]]`` rules as text, in order (rule 1 first).
    """

    def n(count: int, word: str, many: str | None = None) -> str:
        return plural(count, word, many, thousands=thousands)

    lines = [
        f"{n(summary.files, 'file')} tracked: "
        + ", ".join(
            f"{summary.by_reason.get(r, 0):,} by {r}".replace(",", thousands) for r in TRACKED_REASONS
        )
    ]
    for reason, detail, count in summary.by_detail:
        lines.append(f"  {reason} {one_line(detail)}: {n(count, 'file')}")
    when = ""
    if summary.newest_check:
        when = f", looked up {_day(summary.oldest_check)}"
        if _day(summary.oldest_check) != _day(summary.newest_check):
            when += f" to {_day(summary.newest_check)}"
    found = f"{summary.with_object_id:,}".replace(",", thousands)
    lines.append(f"object ids: {found} of {n(summary.files, 'file')}{when}")
    for number, label, count in rules_in_order(summary.by_rule, rule_labels):
        name = f"rule {number}" if number else "a rule no longer configured"
        lines.append(f"  {name} ({one_line(str(label))}): {n(count, 'file')}")
    if summary.without_object_id:
        lines.append(f"  no rule matched: {n(summary.without_object_id, 'file')}")
    if summary.never_checked:
        lines.append(
            f"  not looked up yet: {n(summary.never_checked, 'file')} (`watcher tracked` looks them up)"
        )
    if not rule_labels:
        lines.append("  no [[tracking.object_id]] rule is configured")
    return lines


def rules_in_order(by_rule: dict[str, int], rule_labels: Sequence[str]) -> list[tuple[int | None, str, int]]:
    """(number in today's config, rule text, files) in rule order; rules no longer configured last."""
    numbered = [(rule_labels.index(label) + 1 if label in rule_labels else None, label, count)
                for label, count in by_rule.items()]  # fmt: skip
    return sorted(numbered, key=lambda item: (item[0] is None, item[0] or 0, item[1]))


def _day(stamp: str | None) -> str:
    return "" if not stamp else stamp[:16].replace("T", " ") + " UTC"
