"""The `watcher demo` command."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from watcher.cli.options import log_option
from watcher.demo.run import READ_TIMEOUT, run_demo
from watcher.service.logs import setup_logging


@click.command()
@click.option("--stop-after-replay", is_flag=True, help="Exit after printing the results (for CI).")
@click.option("--port", type=int, default=8750, show_default=True, help="Port of the demo's review page.")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo's config and database in this new or empty folder, to try the other commands "
    "on after it stops (default: a temporary folder, removed when it stops).",
)
@click.option("--read-timeout", type=click.FloatRange(min=0.1), default=READ_TIMEOUT, hidden=True)
@log_option("warning")
def demo(
    stop_after_replay: bool, port: int, folder: Path | None, read_timeout: float, log_level: str
) -> None:
    """Show the whole loop offline: stand-ins, a recorded session, the real daemon.

    It prints where its config and database are, so that the other commands can be tried on it
    (`watcher changes -c …/config.toml`) while it runs, or afterwards with --folder.
    """
    if folder is not None and folder.is_dir() and any(folder.iterdir()):
        raise click.BadParameter(
            f"{folder.absolute()} is not empty: the demo starts a new database, give it a new or empty folder",
            param_hint="--folder",
        )
    setup_logging(log_level)
    sys.exit(
        asyncio.run(
            run_demo(
                stop_after_replay=stop_after_replay, web_port=port, folder=folder, read_timeout=read_timeout
            )
        )
    )
