"""`watcher export`: the changes a collection system imports, and the options it shares with `changes`.

Which export marks what it wrote is decided in one place, :func:`watcher.export.routine.marks_exported`
(the review page's download asks the same function): only the routine selection, so that no other
selection makes the routine export skip a change. The database is opened without creating one
(``open_database``: ``Database.open(..., create=False)``): an export from a mistyped path or a deleted
database says so instead of exporting from an empty new one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from watcher.base.values import EXPORT_LAYOUTS, ExportLayout, StatusChoice
from watcher.cli.options import (
    collection_option,
    collections_or_exit,
    config_option,
    load_or_exit,
    open_database,
    run_async,
    status_option,
)
from watcher.config import Config
from watcher.export import routine as routine_export
from watcher.export.formats import DEFAULT_EXPORT, DEFAULT_EXPORT_STATUS, EXPORT_FORMATS
from watcher.export.profiles import PROFILE_NAMES
from watcher.export.profiles import REGISTRY as PROFILES
from watcher.export.routine import (
    NOT_MARKED,
    NOT_MARKED_FORMAT,
    last_export_time,
    marks_exported,
    nothing_new,
)
from watcher.export.writers import WIDE_WRITERS, Rendered, labels_for, render_export
from watcher.store import queue as store_queue
from watcher.store.queue import ChangeFilter
from watcher.tracking.resolver import canonical_title


def raw_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--raw``: CSV values as they are, without the formula guard (`export` and `changes`)."""
    return click.option(
        "--raw",
        is_flag=True,
        help="CSV values exactly as stored, without the formula guard (for importers). By default a cell "
        "starting with = + - @, a tab or a carriage return (numbers too, e.g. -5) gets a leading '.",
    )(f)


def _file_title(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    return canonical_title(value, "File") if value else None


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    try:
        return store_queue.parse_since(value) if value else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def file_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--file TITLE``: one file, its title with or without ``File:`` (as in URLs)."""
    return click.option(
        "--file", "file_title", metavar="TITLE", default=None, callback=_file_title,
        help="Only this file (title with or without File:).",
    )(f)  # fmt: skip


def since_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--since DATE``: edits at or after DATE (UTC unless it says otherwise)."""
    return click.option(
        "--since",
        metavar="DATE",
        default=None,
        callback=_since,
        help="Only edits at or after DATE (UTC), e.g. 2026-03-01.",
    )(f)


@click.command()
@config_option
@status_option(DEFAULT_EXPORT_STATUS)
@click.option("--all", "everything", is_flag=True, help="Every matching record, also those exported before.")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default=DEFAULT_EXPORT, show_default=True)
@file_option
@since_option
@collection_option
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Write to FILE instead of stdout (left alone where there is nothing new).",
)  # fmt: skip
@click.option("--bom", is_flag=True, help="Start the CSV with a UTF-8 BOM (for spreadsheet programs).")
@raw_option
@click.option(
    "--layout", type=click.Choice(EXPORT_LAYOUTS), default=None,
    help="long: a row per change (default, or [export] layout); wide: a row per object, a column per "
    "field in the museum's own names ([export.columns]).",
)  # fmt: skip
@click.option(
    "--profile", type=click.Choice(PROFILE_NAMES), default=None,
    help="An import-ready file for a collection system (wide, its columns and encoding; with -o also a "
    "starter mapping beside it): " + "; ".join(f"{p.name}: {p.label}" for p in PROFILES) + ".",
)  # fmt: skip
def export(
    config_path: str | None, status: StatusChoice, everything: bool, fmt: str, file_title: str | None,
    since: str | None, collection_names: tuple[str, ...], output: Path | None, bom: bool, raw: bool,
    layout: ExportLayout | None, profile: str | None,
) -> None:  # fmt: skip
    """Changes keyed by object id, for the collection management system.

    The routine export (no options): every accepted change not exported before, as CSV. It marks
    what it wrote, so that the next one holds only what is new; with nothing new it writes nothing
    (not even a header, and no -o file) and says since when. --all, --status other than accepted,
    --since, --file or --collection write what matches and mark nothing, so the routine export never
    skips a change.

    CSV cells starting with = + - @, a tab or a carriage return get a leading ' so that a spreadsheet
    shows them as text (OWASP's formula-injection guard, numbers such as -5 included); --raw writes
    the values as they are, for an importer that must see them unchanged.
    """
    config = load_or_exit(config_path, check_files=False)
    selection = ChangeFilter(
        status=status, kind="all", file=file_title, since=since, not_exported=not everything,
        collections=collections_or_exit(config, collection_names),
    )  # fmt: skip
    how = Shape(fmt, layout or config.export.layout, profile, bom=bom, formula_guard=not raw)
    if profile is not None and fmt != "csv":
        raise click.BadParameter(
            f"the {profile} profile is a CSV file; leave out --format", param_hint="--format"
        )
    if how.layout == "wide" and fmt not in WIDE_WRITERS:
        raise click.BadParameter(
            f"--layout wide is written as {' or '.join(WIDE_WRITERS)}", param_hint="--format"
        )
    click.echo(run_async(_export(config, selection, how, output)), err=True)


@dataclass(frozen=True)
class Shape:
    """How the export is written: format, layout, profile, BOM, formula guard."""

    fmt: str
    layout: ExportLayout
    profile: str | None
    bom: bool
    formula_guard: bool


async def _export(config: Config, selection: ChangeFilter, how: Shape, output: Path | None) -> str:
    """Select, write, and mark where the selection is the routine one; returns what to tell the user."""
    fmt = how.fmt
    routine = marks_exported(selection, fmt)
    async with open_database(config) as db:  # never creates one: a missing database is an error
        batch = await routine_export.select(db, selection, fmt)
        if routine and not batch.records:
            return nothing_new(await last_export_time(db))
        labels = await labels_for(db, batch.records, config.labels.languages)
        rendered = render_export(
            batch.records, config, fmt=fmt, layout=how.layout, profile=how.profile, bom=how.bom,
            formula_guard=how.formula_guard, labels=labels,
        )  # fmt: skip
        _deliver("".join(rendered.chunks), output, marks=routine)
        companion = _deliver_companion(rendered, output)
        await routine_export.mark(db, batch)
    target = f" to {output}" if output else ""
    if companion:
        target += f" (and {companion})"
    if not routine:
        why = NOT_MARKED if not marks_exported(selection) else NOT_MARKED_FORMAT
        return f"{len(batch.records)} change(s) written{target}; {why}"
    retractions = f", {len(batch.retracted)} of them retraction(s)" if batch.retracted else ""
    return f"exported {len(batch.records)} change(s){target}{retractions}"


def _deliver_companion(rendered: Rendered, output: Path | None) -> str:
    """A profile's starter mapping, beside the data file; what to tell the user about it."""
    if rendered.companion is None:
        return ""
    if output is None:
        return f"a starter mapping is written beside the file with -o FILE ({rendered.companion_suffix})"
    path = output.with_name(output.stem + rendered.companion_suffix)
    try:
        path.write_text(rendered.companion, encoding="utf-8", newline="")
    except OSError as exc:
        click.echo(f"warning: cannot write the starter mapping {path}: {exc.strerror or exc}", err=True)
        return ""
    return f"the starter mapping {path}"


def _deliver(text: str, output: Path | None, *, marks: bool) -> None:
    """Write the export out; a file that cannot be written is one clean error, and nothing is marked."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        consequence = "; nothing was marked exported" if marks else ""
        click.echo(f"error: cannot write {output}: {exc.strerror or exc}{consequence}", err=True)
        sys.exit(1)
