"""`watcher db copy`: move a deployment's store between SQLite and PostgreSQL (issue 20)."""

from __future__ import annotations

import sys

import click

from watcher.base.text import plural
from watcher.cli.options import config_option, load_or_exit, run_async
from watcher.store.copy import BATCH_ROWS, MAX_PROBLEMS_SHOWN, CopyReport, copy_database


@click.group()
def db() -> None:
    """The store itself: copy it between SQLite and PostgreSQL."""


@db.command("copy")
@config_option
@click.option(
    "--from", "source", metavar="PATH_OR_URL", default=None,
    help="The database to copy (default: the config's [watcher] database). Opened read-only.",
)  # fmt: skip
@click.option(
    "--to", "target", metavar="PATH_OR_URL", required=True,
    help="An empty PostgreSQL database (postgresql://user@host:port/dbname; the password from "
    "$PGPASSWORD or ~/.pgpass) or the path of a new SQLite file.",
)  # fmt: skip
@click.option(
    "--force", is_flag=True,
    help="Copy even while a watcher daemon runs on the source. The copy is then one consistent "
    "snapshot, but what the daemon writes after it is not in it: for a trial copy only.",
)  # fmt: skip
@click.option(
    "--batch", type=click.IntRange(1), default=BATCH_ROWS, show_default=True, help="Rows per write."
)
def copy(config_path: str | None, source: str | None, target: str, force: bool, batch: int) -> None:
    """Copy every table of the store into an empty database, ids kept, then compare the row counts.

    \b
      watcher db copy --to postgresql://watcher@db.example.org/watcher      (SQLite → PostgreSQL)
      watcher db copy --from postgresql://watcher@db/watcher --to new.sqlite3   (and back)

    The target is migrated to this watcher's schema first and filled in one transaction: on any
    failure it keeps no copied rows. Exits non-zero, naming the tables, where a count differs.

    Stop the daemon first. While the copy runs it holds the daemon's lock of both databases (the
    lock file beside a SQLite file, the leader's lock on PostgreSQL), so that no daemon starts on
    either, and it refuses to start while a daemon runs: the daemon's later writes would be missing
    from the copy, and a deployment moved that way loses them.
    """
    if source is None:
        source = str(load_or_exit(config_path).database)
    report = run_async(copy_database(source, target, force=force, batch=batch))
    show(report)
    sys.exit(0 if report.kept and not report.differing else 1)


def show(report: CopyReport) -> None:
    """The counts as a table, then the verdict (problems and differences on stderr)."""
    width = max([len("table"), *map(len, report.counts)])
    click.echo(f"{'table':<{width}}  {'source':>10}  {'target':>10}")
    for table, (source, target) in report.counts.items():
        mark = "" if source == target else "  differs"
        click.echo(f"{table:<{width}}  {source:>10}  {target:>10}{mark}")
    for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
        click.echo(f"error: {problem.describe()}", err=True)
    if len(report.problems) > MAX_PROBLEMS_SHOWN:
        click.echo(f"error: and {len(report.problems) - MAX_PROBLEMS_SHOWN} more values like these", err=True)
    if not report.kept:
        click.echo(
            f"error: {plural(len(report.problems), 'value')} could not be converted (their rows above); "
            f"the copy was rolled back, {report.target} holds no copied rows",
            err=True,
        )
    elif report.differing:
        click.echo(f"error: the row counts differ in {', '.join(report.differing)}", err=True)
    else:
        rate = report.rows / report.seconds if report.seconds > 0 else 0.0
        click.echo(
            f"copied {plural(report.rows, 'row')} of {plural(len(report.counts), 'table')} from "
            f"{report.source} to {report.target} in {report.seconds:.1f} s ({rate:,.0f} rows/s)"
        )
