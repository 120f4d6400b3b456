"""Options and helpers every command shares, defined once: ``--config``, ``--log-level``,
``--collection``, the choices read from the value lists (``watcher.base.values``) and the format
registry (``watcher.export.formats``), loading the config (every problem listed, exit 78), opening the config's database
(:func:`open_database`: never creates one unless asked) and running a coroutine with database errors
as one clean line and their own exit code (:func:`run_async`).

The choice options pass their value to the command as the list's ``Literal`` type: ``click.Choice`` has
checked it, so a command may annotate its parameter with that type.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import asyncpg
import click

from watcher.base.text import plural
from watcher.base.values import (
    KIND_CHOICES,
    LOG_LEVELS,
    ROLES,
    STATUS_CHOICES,
    KindChoice,
    LogLevel,
    Role,
    StatusChoice,
)
from watcher.config import EX_CONFIG, Config, ConfigError, load_config
from watcher.export.formats import LISTING_FORMATS
from watcher.notify.channels import check_channels
from watcher.store.db import DatabaseError, explain_sqlite_error
from watcher.store.engine import Store
from watcher.store.open import location_text, open_store, store_settings

EX_TEMPFAIL = 75  # sysexits.h: run again later

T = TypeVar("T")
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def config_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-c", "--config", "config_path", type=click.Path(dir_okay=False), default=None,
        help="Config file (default: $WATCHER_CONFIG, then ./config.toml).",
    )(f)  # fmt: skip


def log_option(default: LogLevel = "info") -> Decorator:
    """``--log-level``: the daemon and the page log at info, one-off commands at warning."""
    return click.option(
        "--log-level",
        type=click.Choice(LOG_LEVELS),
        default=default,
        show_default=True,
        help="How much to log.",
    )


def status_option(default: StatusChoice) -> Decorator:
    """``--status pending|accepted|rejected|all``."""
    return click.option("--status", type=click.Choice(STATUS_CHOICES), default=default)


def kind_option(default: KindChoice = "content") -> Decorator:
    """``--kind content|maintenance|all``."""
    return click.option("--kind", type=click.Choice(KIND_CHOICES), default=default)


def listing_format_option(default: str) -> Decorator:
    """``--format`` of a listing: every registered format (``watcher changes``)."""
    return click.option("--format", "fmt", type=click.Choice(LISTING_FORMATS), default=default)


def role_option(default: Role = "reviewer") -> Decorator:
    """``--role reviewer|readonly`` of a review-page account."""
    return click.option("--role", type=click.Choice(ROLES), default=default, show_default=True)


def collection_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--collection NAME`` (repeatable): only those collections' changes; default every collection.
    The names are checked against the config by :func:`collections_or_exit` once it is loaded."""
    return click.option(
        "--collection", "collection_names", metavar="NAME", multiple=True,
        help="Only the changes of this collection (repeat for several; default: every collection).",
    )(f)  # fmt: skip


def collections_or_exit(config: Config, names: Sequence[str]) -> tuple[str, ...] | None:
    """The ``--collection`` names as a ``ChangeFilter.collections``: None (every collection) where
    none is given; a name the config does not have is a usage error (exit 2) naming those it has."""
    if not names:
        return None
    unknown = [name for name in dict.fromkeys(names) if config.collection(name) is None]
    if unknown:
        which = ("collection " if len(unknown) == 1 else "collections ") + ", ".join(map(repr, unknown))
        raise click.BadParameter(
            f"no {which} in the config; it has {', '.join(config.collection_names)}",
            param_hint="--collection",
        )
    return tuple(dict.fromkeys(names))


NOTHING_STARTED = "nothing was started"
CHECK_AGAIN = "correct the config and run `watcher check` again"  # check starts nothing anyway


def check_channels_or_exit(config: Config, *, verdict: str = NOTHING_STARTED) -> None:
    """Bad notification URLs are reported at start, not at 3 a.m."""
    problems = check_channels(config)
    for problem in problems:
        click.echo(f"{config.path}: {problem}", err=True)
    if problems:
        click.echo(f"{config.path}: {plural(len(problems), 'problem')} with [[notify]]; {verdict}.", err=True)
        sys.exit(EX_CONFIG)


def load_or_exit(
    config_path: str | None, *, check_files: bool = True, verdict: str = NOTHING_STARTED
) -> Config:
    try:
        return load_config(config_path, check_files=check_files)
    except ConfigError as exc:
        for line in exc.listing():  # by line; each collection's under a line naming it
            click.echo(f"{exc.source}: {line}", err=True)
        click.echo(f"{exc.source}: {plural(len(exc.problems), 'problem')}; {verdict}.", err=True)
        sys.exit(EX_CONFIG)


@contextlib.asynccontextmanager
async def open_database(config: Config, *, create: bool = False) -> AsyncIterator[Store]:
    """The config's store for a command (every one but `run` and `history`, which open their own): the
    SQLite file, or the PostgreSQL database of a ``postgresql://`` URL.

    Without ``create`` a missing file (a PostgreSQL database never migrated) is
    :class:`~watcher.store.db.DatabaseMissing` ("no database at …: run `watcher run` first"), not a new
    empty one at a mistyped path. An SQLite error while it is open becomes a
    :class:`~watcher.store.db.DatabaseError` in plain words (a damaged file: how to restore it), and a
    PostgreSQL error one naming the server, which :func:`run_async` prints as one line.
    """
    try:
        async with open_store(config.store_location, create=create, settings=store_settings(config)) as db:
            yield db
    except sqlite3.Error as exc:
        raise explain_sqlite_error(config.database, exc) from exc
    except asyncpg.PostgresError as exc:
        where = location_text(config.store_location)
        raise DatabaseError(f"the database {where} refused a statement: {exc}") from exc


def database_exit(exc: DatabaseError) -> NoReturn:
    """One ``error:`` line and the error's exit code (75 locked, 66 missing, 65 damaged, 74 gone, else 1)."""
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


def run_async(body: Coroutine[Any, Any, T], *, database: Path | None = None) -> T:
    """Run a command's coroutine; a database problem ends it with :func:`database_exit`, no traceback.

    ``database`` names the file in the message for an SQLite error raised outside
    :func:`open_database` (code that opens its own connection, like history mode).
    """
    try:
        return asyncio.run(body)
    except DatabaseError as exc:
        database_exit(exc)
    except sqlite3.Error as exc:
        if database is not None:
            database_exit(explain_sqlite_error(database, exc))
        database_exit(DatabaseError(f"the database failed: {exc}"))
