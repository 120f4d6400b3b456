"""`watcher tracked`: every tracked file, why it is tracked, and its object id (and which rule found it).

By default the object ids are looked up from each file's current page first (one Action API request
per 50 files whose id a template rule may hold; :mod:`watcher.tracking.objectids` says why) and
stored, so `watcher status` can summarise them; ``--stored`` lists the last answers without a request.
The table ends with the summary lines; with ``--format jsonl|csv`` stdout holds the rows only and the
summary goes to stderr. Exit 1 where the look-up failed (the listing still shows what is known).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
import click

from watcher.base.text import plural
from watcher.base.values import LogLevel
from watcher.cli.export import raw_option
from watcher.cli.options import (
    collection_option,
    collections_or_exit,
    config_option,
    load_or_exit,
    log_option,
    open_database,
    run_async,
)
from watcher.config import Config, ObjectIdRule
from watcher.export.tracked_files import TRACKED_FORMATS, TrackedFormat, TrackedRow, summary_lines, write_rows
from watcher.mediawiki.client import ActionApi, ApiError
from watcher.service.logs import setup_logging
from watcher.store import tracked as store
from watcher.store.engine import Store
from watcher.store.tracked import TrackedFile, TrackedSummary
from watcher.tracking.objectids import look_up_object_ids, requests_needed, rule_label, rule_number


@dataclass
class _Listing:
    files: list[TrackedFile]
    summary: TrackedSummary
    failure: str | None = None


class _Meter:
    """``looking up object ids: 150/1,280 files`` on a terminal; silent in a pipe or the journal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.enabled:
            sys.stderr.write(f"\rlooking up object ids: {done:,}/{total:,} files")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _rules(config: Config) -> dict[str, Sequence[ObjectIdRule]]:
    return {c.name: c.object_id for c in config.collections}


async def _listing(config: Config, stored: bool, collections: Sequence[str] | None) -> _Listing:
    """The files of the collections named (None: every one), their object ids looked up unless ``stored``."""
    rules = _rules(config)
    async with open_database(config) as db:
        files = await _files(db, collections)
        failure = None
        if not stored and files and any(rules.values()):
            needed = requests_needed(files, rules)
            if needed:
                click.echo(
                    f"looking up the object ids of {plural(len(files), 'file')} from their current pages: "
                    f"about {plural(needed, 'Action API request')}, one per 50 files (--stored lists the last "
                    "answers without asking)",
                    err=True,
                )
            meter = _Meter()
            api = ActionApi(config.wiki.api_url, config.user_agent)
            try:
                await look_up_object_ids(db, api, rules, files, progress=meter)
            except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
                failure = f"the Action API failed while looking up object ids ({exc})"
            finally:
                meter.close()
                await api.close()
            files = await _files(db, collections)
        return _Listing(files, await store.tracked_summary(db, collections), failure)


async def _files(db: Store, collections: Sequence[str] | None) -> list[TrackedFile]:
    files = await store.tracked_files(db)
    return [f for f in files if collections is None or f.collection in collections]


def tracked_rows(files: Sequence[TrackedFile], config: Config) -> list[TrackedRow]:
    rules = _rules(config)
    return [
        TrackedRow(
            collection=f.collection,
            file=f.title,
            pageid=f.pageid,
            reasons=f.reasons,
            object_id=f.object_id,
            object_id_rule=(
                rule_number(rules.get(f.collection, ()), f.object_id_rule)
                if f.object_id is not None
                else None
            ),
            object_id_rule_text=f.object_id_rule,
            object_id_revision=f.object_id_revision,
            object_id_checked_at=f.object_id_checked_at,
        )
        for f in files
    ]


@click.command()
@config_option
@click.option("--format", "fmt", type=click.Choice(TRACKED_FORMATS), default="table", show_default=True)
@click.option(
    "--stored",
    is_flag=True,
    help="List the object ids as last looked up (as `watcher status` counts them), without asking the API.",
)
@collection_option
@raw_option
@log_option("warning")
def tracked(
    config_path: str | None,
    fmt: TrackedFormat,
    stored: bool,
    collection_names: tuple[str, ...],
    raw: bool,
    log_level: LogLevel,
) -> None:
    """List the tracked files: each with its collection, why it is tracked, its object id and which
    rule found it (a file in two collections is listed once in each).

    The object ids are read from each file's current page (one Action API request per 50 files) unless
    --stored. The table ends with counts per reason and per rule; for jsonl and csv they go to stderr.
    """
    setup_logging(log_level)
    config = load_or_exit(config_path, check_files=False)
    collections = collections_or_exit(config, collection_names)
    listing = run_async(_listing(config, stored, collections))
    for chunk in write_rows(tracked_rows(listing.files, config), fmt, formula_guard=not raw):
        sys.stdout.write(chunk)
    shown = [c for c in config.collections if collections is None or c.name in collections]
    labels = list(dict.fromkeys(rule_label(rule) for c in shown for rule in c.object_id))
    summary = "\n".join(summary_lines(listing.summary, labels))
    if fmt == "table":
        click.echo("\n" + summary)
    else:
        click.echo(summary, err=True)
    if listing.failure:
        click.echo(f"error: {listing.failure}; the object ids shown are the last ones stored", err=True)
        sys.exit(1)
