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
from watcher.cli.options import config_option, load_or_exit, log_option, open_database, run_async
from watcher.config import Config
from watcher.export.tracked_files import TRACKED_FORMATS, TrackedFormat, TrackedRow, summary_lines, write_rows
from watcher.mediawiki.client import ActionApi, ApiError
from watcher.service.logs import setup_logging
from watcher.store import tracked as store
from watcher.store.tracked import TrackedFile, TrackedSummary
from watcher.tracking.objectids import look_up_object_ids, requests_needed, rule_label, rule_number

# Until [[collection]] exists every file is in the one collection a [tracking] table makes (contract:
# "one collection named default"). `--collection NAME` comes with it: an option here, each row's own
# collection and that collection's [[collection.object_id]] rules, and a filter on TrackedRow.collection.
DEFAULT_COLLECTION = "default"


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


async def _listing(config: Config, stored: bool) -> _Listing:
    rules = config.tracking.object_id
    async with open_database(config) as db:
        files = await store.tracked_files(db)
        failure = None
        if not stored and files and rules:
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
            files = await store.tracked_files(db)
        return _Listing(files, await store.tracked_summary(db), failure)


def tracked_rows(files: Sequence[TrackedFile], config: Config) -> list[TrackedRow]:
    rules = config.tracking.object_id
    return [
        TrackedRow(
            collection=DEFAULT_COLLECTION,
            file=f.title,
            pageid=f.pageid,
            reasons=f.reasons,
            object_id=f.object_id,
            object_id_rule=rule_number(rules, f.object_id_rule) if f.object_id is not None else None,
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
@raw_option
@log_option("warning")
def tracked(
    config_path: str | None, fmt: TrackedFormat, stored: bool, raw: bool, log_level: LogLevel
) -> None:
    """List the tracked files: why each is tracked, its object id and which rule found it.

    The object ids are read from each file's current page (one Action API request per 50 files) unless
    --stored. The table ends with counts per reason and per rule; for jsonl and csv they go to stderr.
    """
    setup_logging(log_level)
    config = load_or_exit(config_path, check_files=False)
    listing = run_async(_listing(config, stored))
    for chunk in write_rows(tracked_rows(listing.files, config), fmt, formula_guard=not raw):
        sys.stdout.write(chunk)
    labels = [rule_label(rule) for rule in config.tracking.object_id]
    summary = "\n".join(summary_lines(listing.summary, labels))
    if fmt == "table":
        click.echo("\n" + summary)
    else:
        click.echo(summary, err=True)
    if listing.failure:
        click.echo(f"error: {listing.failure}; the object ids shown are the last ones stored", err=True)
        sys.exit(1)
