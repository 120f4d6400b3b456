"""`watcher retry`: put fetch work that was set aside back to pending, for the worker to try again.

The fetch worker retries work the Action API cannot answer for as long as the stream's retention
(``[stream] retention_days``); past that, or after an internal error, an item is set aside
(``failed``) and the daemon logs an ERROR naming it. This command takes such items again: safe while
the daemon runs (one transaction; the daemon's worker looks at its inbox at least every 30 s and
takes them then), and without a daemon they wait for the next `watcher run`.
"""

from __future__ import annotations

import sys

import click

from watcher.base.text import one_line
from watcher.cli.options import config_option, load_or_exit, open_database, run_async
from watcher.store import state as store_state
from watcher.store.state import WorkState

_NOT_SET_ASIDE = {"pending": "already waiting for the worker", "done": "already done"}


def _line(item: WorkState) -> str:
    error = f": {one_line(item.last_error)}" if item.last_error else ""
    return f"  {one_line(item.describe())}, {item.attempts} attempt(s){error}"


@click.command()
@config_option
@click.option("--all", "everything", is_flag=True, help="Every item set aside.")
@click.argument("ids", nargs=-1, type=int)
def retry(config_path: str | None, everything: bool, ids: tuple[int, ...]) -> None:
    """Try fetch work set aside (failed) again: --all, or the inbox item IDs its ERROR named.

    Safe while the daemon runs: its worker takes the items within 30 s. Without arguments, lists
    what is set aside.
    """
    if everything and ids:
        raise click.UsageError("give either --all or inbox item IDs, not both")
    config = load_or_exit(config_path, check_files=False)

    if not everything and not ids:

        async def listing() -> list[WorkState]:
            async with open_database(config) as db:
                return await store_state.failed_items(db)

        failed = run_async(listing())
        if not failed:
            click.echo("nothing to retry: no fetch work is set aside")
            return
        click.echo(f"{len(failed)} item(s) set aside:")
        for item in failed:
            click.echo(_line(item))
        raise click.UsageError("nothing retried: pass --all, or the inbox item IDs to retry")

    async def body() -> tuple[list[WorkState], dict[int, WorkState]]:
        async with open_database(config) as db:
            taken = await store_state.requeue_failed(db, None if everything else ids)
            left = sorted(set(ids) - {item.id for item in taken})
            return taken, await store_state.work_states(db, left)

    taken, others = run_async(body())
    if taken:
        click.echo(f"put back to pending {len(taken)} item(s); the daemon's worker takes them within 30 s:")
        for item in taken:
            click.echo(_line(item))
    elif everything:
        click.echo("nothing to retry: no fetch work is set aside")
    code = 0
    for item_id in sorted(set(ids) - {item.id for item in taken}):
        other = others.get(item_id)
        if other is None:
            click.echo(f"no such inbox item: {item_id}", err=True)
            code = 1
        else:
            what = _NOT_SET_ASIDE.get(other.state, other.state)
            click.echo(f"not set aside, left as it is ({what}): {one_line(other.describe())}", err=True)
    sys.exit(code)
