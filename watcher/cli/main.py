"""The `watcher` command line: run, check, changes, accept, reject, status (export: ``cli.export``)."""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

import click

from watcher import __version__
from watcher.base.text import plural
from watcher.base.values import KindChoice, LogLevel, StatusChoice
from watcher.cli.db import db
from watcher.cli.demo import demo
from watcher.cli.export import export, file_option, raw_option, since_option
from watcher.cli.history import history
from watcher.cli.inbox import retry
from watcher.cli.notify import digest, notify
from watcher.cli.options import (
    CHECK_AGAIN,
    check_channels_or_exit,
    collection_option,
    collections_or_exit,
    config_option,
    kind_option,
    listing_format_option,
    load_or_exit,
    log_option,
    open_database,
    run_async,
    status_option,
)
from watcher.cli.review import REVIEW_COMMANDS
from watcher.cli.summary import summary
from watcher.cli.tracked import tracked
from watcher.cli.web import serve, user
from watcher.config import DEFAULT_COLLECTION, CollectionSection
from watcher.export.formats import DEFAULT_LISTING
from watcher.export.writers import labels_for, write_records
from watcher.service.logs import setup_logging
from watcher.service.status import collect_status, render_status_text
from watcher.service.wiring import run_daemon
from watcher.store import queue as store_queue
from watcher.store.open import location_text
from watcher.store.queue import ChangeFilter, ChangeRecord
from watcher.tracking.objectids import rule_label


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="watcher")
def main() -> None:
    """Commons Watcher: community edits of a museum's Wikimedia Commons files, back to the museum."""


@main.command()
@config_option
@log_option()
def run(config_path: str | None, log_level: LogLevel) -> None:
    """Follow the stream, diff, queue and notify (the daemon)."""
    # Until the daemon's loop takes over the signals, a stop request during start-up is a clean exit.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))
    setup_logging(log_level)
    config = load_or_exit(config_path)
    check_channels_or_exit(config)
    sys.exit(run_async(run_daemon(config)))


@main.command()
@config_option
def check(config_path: str | None) -> None:
    """Validate the config; list every problem with its line. Exits non-zero where it is wrong."""
    config = load_or_exit(config_path, verdict=CHECK_AGAIN)
    check_channels_or_exit(config, verdict=CHECK_AGAIN)
    click.echo(f"{config.path}: OK")
    if len(config.collections) > 1:
        click.echo(f"collections: {len(config.collections)}")
        for collection in config.collections:
            click.echo(f"collection {collection.name} ({collection.title}):")
            for line in collection_summary(collection, "[[collection.object_id]]"):
                click.echo(f"  {line}")
    elif config.tracking.name == config.tracking.title == DEFAULT_COLLECTION:  # the [tracking] form
        for line in collection_summary(config.tracking, "[[tracking.object_id]]"):
            click.echo(line)
    else:
        click.echo(f"collection: {config.tracking.name} ({config.tracking.title})")
        for line in collection_summary(config.tracking, "[[collection.object_id]]"):
            click.echo(line)
    click.echo(f"database: {location_text(config.store_location)}")
    click.echo(f"stream: {config.stream.url} (wiki {config.wiki.name})")
    click.echo(
        f"notify channels: {len(config.notify)}; review page: {config.web.listen if config.web else 'off'}"
    )
    if len(config.collections) > 1:
        for channel in config.notify:
            click.echo(f"  {channel.name}: {', '.join(channel.collections) or 'every collection'}")


def collection_summary(t: CollectionSection, rules_table: str) -> list[str]:
    """`watcher check`'s lines on one collection: what it tracks, and its object id rules in order."""
    sources = [
        f"{plural(len(t.categories), 'category', 'categories')} (depth {t.category_depth})"
        if t.categories
        else "",
        plural(len(t.uploaders), "uploader") if t.uploaders else "",
        plural(len(t.templates), "template") if t.templates else "",
        plural(len(t.files), "file") if t.files else "",
        f"files from {t.files_from}" if t.files_from else "",
    ]
    lines = ["tracking: " + ", ".join(s for s in sources if s)]
    if not t.object_id:
        return [*lines, f"object id rules: none (records will have no object_id; see {rules_table})"]
    lines.append("object id rules (the first that matches wins; `watcher tracked` shows what each finds):")
    return [*lines, *(f"  {number}. {rule_label(rule)}" for number, rule in enumerate(t.object_id, 1))]


@main.command()
@config_option
@status_option("pending")
@kind_option("content")
@listing_format_option(DEFAULT_LISTING)
@file_option
@since_option
@collection_option
@click.option("--limit", type=int, default=None, help="At most this many records.")
@raw_option
def changes(
    config_path: str | None, status: StatusChoice, kind: KindChoice, fmt: str, file_title: str | None,
    since: str | None, collection_names: tuple[str, ...], limit: int | None, raw: bool,
) -> None:  # fmt: skip
    """List queued changes (safe while the daemon runs).

    The table strips escape sequences and control characters from values; CSV is formula-guarded
    unless --raw; JSON lines are as stored.
    """
    config = load_or_exit(config_path, check_files=False)
    collections = collections_or_exit(config, collection_names)
    selection = ChangeFilter(status=status, kind=kind, file=file_title, since=since, collections=collections)

    async def body() -> tuple[list[ChangeRecord], dict[str, str]]:
        async with open_database(config) as db:
            records = await store_queue.list_changes(db, selection, limit=limit)
            return records, await labels_for(db, records, config.labels.languages)

    records, labels = run_async(body())
    write_records(records, fmt, sys.stdout, config, formula_guard=not raw, labels=labels)


@main.command()
@config_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@collection_option
def status(config_path: str | None, fmt: str, collection_names: tuple[str, ...]) -> None:
    """The daemon's state from the database (safe while it runs); --collection narrows the queue
    counts per collection to those named."""
    config = load_or_exit(config_path, check_files=False)
    collections = collections_or_exit(config, collection_names)

    async def body() -> dict[str, Any]:
        async with open_database(config) as db:
            return await collect_status(db, config, collections=collections)

    report = run_async(body())
    click.echo(
        json.dumps(report, indent=2, ensure_ascii=False) if fmt == "json" else render_status_text(report)
    )


for command in (
    *REVIEW_COMMANDS,
    digest,
    export,
    history,
    notify,
    retry,
    serve,
    summary,
    tracked,
    user,
    demo,
    db,
):
    main.add_command(command)

if __name__ == "__main__":
    main()
