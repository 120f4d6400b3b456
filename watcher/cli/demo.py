"""The `watcher demo` command."""

from __future__ import annotations

import asyncio
import sys

import click

from watcher.cli.options import log_option
from watcher.demo.run import run_demo
from watcher.service.logs import setup_logging


@click.command()
@click.option("--stop-after-replay", is_flag=True, help="Exit after printing the results (for CI).")
@click.option("--port", type=int, default=8750, show_default=True, help="Port of the demo's review page.")
@log_option("warning")
def demo(stop_after_replay: bool, port: int, log_level: str) -> None:
    """Show the whole loop offline: stand-ins, a recorded session, the real daemon."""
    setup_logging(log_level)
    sys.exit(asyncio.run(run_demo(stop_after_replay=stop_after_replay, web_port=port)))
