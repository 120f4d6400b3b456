"""`watcher summary`: the monthly summary an agency forwards, per collection or for all of them."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from watcher.base.values import SUMMARY_FORMATS, SummaryFormat
from watcher.cli.options import (
    collection_option,
    collections_or_exit,
    config_option,
    load_or_exit,
    open_database,
    run_async,
)
from watcher.config import Config
from watcher.export.links import WikiLinks
from watcher.export.overview import Month, MonthError, Overview, build_overview
from watcher.export.summary import summary_html, summary_text


def _month(ctx: click.Context, param: click.Parameter, value: str | None) -> Month:
    """``--month YYYY-MM``; without it the last whole month (a summary sent on the 1st is of the month before)."""
    if value is None:
        return Month.of(datetime.now(UTC)).previous()
    try:
        return Month.parse(value)
    except MonthError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@config_option
@click.option(
    "--month", callback=_month, metavar="YYYY-MM", help="The month (default: the last whole month)."
)
@collection_option
@click.option("--format", "fmt", type=click.Choice(SUMMARY_FORMATS), default="html", show_default=True)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Write to FILE instead of stdout.",
)  # fmt: skip
def summary(
    config_path: str | None, month: Month, collection_names: tuple[str, ...], fmt: SummaryFormat,
    output: Path | None,
) -> None:  # fmt: skip
    """Each collection's month: tracked files, changes, decisions, last export, a chart of changes per
    week by kind and the busiest files; html (default) is one self-contained page to forward."""
    config = load_or_exit(config_path, check_files=False)
    collections = collections_or_exit(config, collection_names) or config.collection_names

    async def body() -> Overview:
        async with open_database(config) as db:
            return await build_overview(db, config, collections, month=month)

    text = render_summary(run_async(body()), fmt, config)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        click.echo(f"error: cannot write {output}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    click.echo(f"summary of {month.label} written to {output}", err=True)


def render_summary(overview: Overview, fmt: SummaryFormat, config: Config) -> str:
    if fmt == "json":
        return json.dumps(overview.as_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "text":
        return summary_text(overview)
    return summary_html(overview, WikiLinks(config))
