"""The registry of output formats: each one written once, with its name, file extension, content type
and writer; `watcher changes --format`, `watcher export --format` and the review page's download form
all read their choices from here.

Adding a format: a module with a ``write(records, config, *, bom, formula_guard, labels)`` that yields text
chunks, and one ``ExportFormat`` line in ``REGISTRY`` below. ``formula_guard`` (on unless `--raw`) is
for formats a spreadsheet opens; the others ignore it, and ``bom``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from watcher.base.values import STATUS_CHOICES, Status, StatusChoice
from watcher.config import Config
from watcher.export import annotations as web_annotations
from watcher.export import csvfile, jsonl, table
from watcher.store.queue import ChangeRecord


class Writer(Protocol):
    """``labels`` (entity id → label, ``watcher.export.words.labels_for``) are for the formats that
    write words beside the values (CSV, JSON lines); the others take and ignore them."""

    def __call__(
        self,
        records: Sequence[ChangeRecord],
        config: Config,
        *,
        bom: bool = ...,
        formula_guard: bool = ...,
        labels: Mapping[str, str] | None = ...,
    ) -> Iterator[str]: ...


@dataclass(frozen=True, slots=True)
class ExportFormat:
    name: str  # the --format value and the download form's
    label: str  # what the download form shows
    extension: str  # of a downloaded file
    content_type: str  # of a download (served with "; charset=utf-8")
    write: Writer
    export: bool = True  # offered by `watcher export` and the download form; False: `watcher changes` only
    # Writes every record it is given, retractions included. A format that leaves some out (the
    # annotations state accepted values only) never marks: its routine export would mark what it
    # did not write, and the collection system would never get it.
    complete: bool = True


# In the order `watcher changes --format` lists them.
REGISTRY: tuple[ExportFormat, ...] = (
    ExportFormat("table", "Table", "txt", "text/plain", table.write, export=False),
    ExportFormat("jsonl", "JSON lines", "jsonl", "application/x-ndjson", jsonl.write),
    ExportFormat("csv", "CSV", "csv", "text/csv", csvfile.write),
    # One JSON-LD document (an AnnotationCollection) of the accepted changes only: docs/handing-back.md.
    ExportFormat(
        "annotations",
        "Web Annotations",
        "jsonld",
        "application/ld+json",
        web_annotations.write,
        complete=False,
    ),
)
BY_NAME: dict[str, ExportFormat] = {f.name: f for f in REGISTRY}

DEFAULT_LISTING = "table"  # `watcher changes`
DEFAULT_EXPORT = "csv"  # `watcher export` without --format, and the download form's first choice
DEFAULT_EXPORT_STATUS: Status = "accepted"  # what `watcher export` and the download form export by default

# Every format, for `watcher changes --format`.
LISTING_FORMATS: tuple[str, ...] = tuple(f.name for f in REGISTRY)
# The export formats, the default first: `watcher export --format` and the download form.
EXPORTS: tuple[ExportFormat, ...] = tuple(
    sorted((f for f in REGISTRY if f.export), key=lambda f: f.name != DEFAULT_EXPORT)
)
EXPORT_FORMATS: tuple[str, ...] = tuple(f.name for f in EXPORTS)
# The statuses an export may select, its default first (the download form's status choice).
EXPORT_STATUS_CHOICES: tuple[StatusChoice, ...] = (
    DEFAULT_EXPORT_STATUS,
    *(s for s in STATUS_CHOICES if s != DEFAULT_EXPORT_STATUS),
)


def get_format(name: str) -> ExportFormat:
    """The format called ``name``; KeyError where there is none."""
    return BY_NAME[name]
