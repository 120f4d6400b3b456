"""Writing change records out in a registered format (``formats``): to a stream, or as chunks for a
streamed download. The names the callers used before the registry (``FORMATS``, the CSV columns,
``index_url``...) stay importable from here.

CSV and JSON lines add the field and values in words after every existing column (``field_text``,
``old_text``, ``new_text``: ``watcher.export.words``); ``labels`` are the labels for those words, read
by the caller with :func:`labels_for` (without them, the labels the records carry).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from watcher.base.values import ExportLayout
from watcher.config import Config
from watcher.export import profiles
from watcher.export.csvfile import BOM as BOM
from watcher.export.csvfile import CSV_HEADER as CSV_HEADER
from watcher.export.csvfile import EXPORT_COLUMNS as EXPORT_COLUMNS
from watcher.export.csvfile import LABEL_COLUMNS as LABEL_COLUMNS
from watcher.export.csvfile import csv_row as csv_row
from watcher.export.csvfile import guard_formula as guard_formula
from watcher.export.formats import BY_NAME, DEFAULT_LISTING, EXPORT_FORMATS, ExportFormat, Writer
from watcher.export.shared import CHUNK_ROWS as CHUNK_ROWS
from watcher.export.shared import index_url as index_url
from watcher.export.words import TEXT_COLUMNS as TEXT_COLUMNS
from watcher.export.words import labels_for as labels_for
from watcher.store.queue import ChangeRecord

FORMATS = EXPORT_FORMATS  # the old name: the formats `watcher export` offers


def content_type(fmt: str) -> str:
    return BY_NAME[fmt].content_type


def export_filename(fmt: str, moment: datetime | None = None, *, extension: str | None = None) -> str:
    stamp = (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    extension = extension or (BY_NAME[fmt].extension if fmt in BY_NAME else fmt)
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
    labels: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """The export as text chunks of up to CHUNK_ROWS records (for streaming a large download).

    CSV cells that a spreadsheet would run as formulas are guarded unless ``formula_guard=False``.
    """
    yield from export_format(fmt).write(records, config, bom=bom, formula_guard=formula_guard, labels=labels)


def write_records(
    records: Sequence[ChangeRecord],
    fmt: str,
    out: TextIO,
    config: Config,
    *,
    bom: bool = False,
    formula_guard: bool = True,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Write ``records`` in the format ``fmt`` (an unknown name: the terminal table); CSV guarded."""
    spec = BY_NAME.get(fmt) or BY_NAME[DEFAULT_LISTING]
    for chunk in spec.write(records, config, bom=bom, formula_guard=formula_guard, labels=labels):
        out.write(chunk)


@dataclass(frozen=True)
class Rendered:
    """An export ready to write: its text chunks, and a profile's companion (a starter mapping)."""

    chunks: Iterator[str]
    companion: str | None = None
    companion_suffix: str = ""
    extension: str = "csv"
    content_type: str = "text/csv"


def render_export(
    records: Sequence[ChangeRecord],
    config: Config,
    *,
    fmt: str,
    layout: ExportLayout = "long",
    profile: str | None = None,
    bom: bool = False,
    formula_guard: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Rendered:
    """The one way `watcher export` and the page's download turn records into a file.

    ``profile`` (an import-ready column set, CSV only) brings its own layout, encoding and guard; the
    caller's ``formula_guard=False`` (``--raw``) and ``bom=True`` still apply. ``layout="wide"`` is
    one row per object, as CSV (the generic profile's file) or JSON lines. ValueError where the
    combination makes no file (a profile or the wide layout in a format that has neither).
    ``labels``: for the words beside the values of the long CSV and JSON lines (:func:`labels_for`).
    """
    if profile is not None:
        spec = profiles.get_profile(profile)
        if fmt != "csv":
            raise ValueError(f"the {spec.name} profile is a CSV file: leave out --format {fmt} (or use csv)")
        table = profiles.profile_table(records, spec, config)
        guard = False if not formula_guard else None  # None: the profile's own choice
        chunks = profiles.iter_table(table, spec, bom=bom or None, formula_guard=guard)
        return Rendered(
            chunks,
            profiles.companion_text(table, spec),
            spec.companion_suffix,
            spec.extension,
            spec.content_type,
        )
    if layout == "wide":
        writer = WIDE_WRITERS.get(fmt)
        if writer is None:
            raise ValueError(f"--layout wide is written as {' or '.join(WIDE_WRITERS)}, not {fmt}")
        spec_format = export_format(fmt)
        return Rendered(
            writer(records, config, bom=bom, formula_guard=formula_guard),
            extension=spec_format.extension,
            content_type=spec_format.content_type,
        )
    spec_format = export_format(fmt)
    return Rendered(
        spec_format.write(records, config, bom=bom, formula_guard=formula_guard, labels=labels),
        extension=spec_format.extension,
        content_type=spec_format.content_type,
    )


# `--layout wide`: one row per object, in the formats that can hold a table.
WIDE_WRITERS: dict[str, Writer] = {"csv": profiles.write_wide_csv, "jsonl": profiles.write_wide_jsonl}
