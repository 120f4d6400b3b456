"""Options and helpers every command shares, defined once: ``--config``, ``--log-level``, loading the
config (every problem listed, exit 78), running a coroutine with database errors as one clean line.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from watcher.config import EX_CONFIG, Config, ConfigError, load_config
from watcher.notify.channels import check_channels
from watcher.service.logs import LEVELS
from watcher.store import DatabaseError

EX_TEMPFAIL = 75  # sysexits.h: run again later

T = TypeVar("T")


def config_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-c", "--config", "config_path", type=click.Path(dir_okay=False), default=None,
        help="Config file (default: $WATCHER_CONFIG, then ./config.toml).",
    )(f)  # fmt: skip


def log_option(default: str = "info") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--log-level``: the daemon and the page log at info, one-off commands at warning."""
    return click.option(
        "--log-level", type=click.Choice(LEVELS), default=default, show_default=True, help="How much to log."
    )


def check_channels_or_exit(config: Config) -> None:
    """Bad notification URLs are reported at start, not at 3 a.m."""
    problems = check_channels(config)
    for problem in problems:
        click.echo(f"{config.path}: {problem}", err=True)
    if problems:
        click.echo(
            f"{config.path}: {len(problems)} problem(s) with [[notify]]; nothing was started.", err=True
        )
        sys.exit(EX_CONFIG)


def load_or_exit(config_path: str | None, *, check_files: bool = True) -> Config:
    try:
        return load_config(config_path, check_files=check_files)
    except ConfigError as exc:
        for problem in sorted(exc.problems, key=lambda p: p.line or 0):
            click.echo(f"{exc.source}: {problem}", err=True)
        click.echo(f"{exc.source}: {len(exc.problems)} problem(s); nothing was started.", err=True)
        sys.exit(EX_CONFIG)


def run_async(body: Awaitable[T]) -> T:
    try:
        return asyncio.run(body)  # type: ignore[arg-type]
    except DatabaseError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
