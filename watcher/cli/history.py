"""The `watcher history` command and its progress bar (registered with ``main.add_command(history)``)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import click

from watcher.cli.options import (
    EX_TEMPFAIL,
    collection_option,
    collections_or_exit,
    config_option,
    load_or_exit,
    log_option,
    run_async,
)
from watcher.history.progress import HistoryConflict
from watcher.history.run import HistoryOptions, HistoryReport, run_history
from watcher.mediawiki.client import ApiError
from watcher.service.logs import setup_logging
from watcher.store import queue as store_queue

_OUTCOMES = {
    "skipped:own": "current revision is the museum's",
    "skipped:unchanged": "unchanged",
    "skipped:quiet": "only bots or ignored users",
    "skipped:nochange": "edited with no net change",
    "skipped:covered": "already reported by the live path",
    "skipped:missing": "missing on the wiki",
    "skipped:hidden": "content hidden",
    "skipped:gone": "revisions deleted meanwhile",
}


class TerminalProgress:
    """One self-rewriting status line with an ETA on stderr, drawn only when stderr is a terminal."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = ""
        self.total = 0
        self.done = 0
        self._started = time.monotonic()
        self._drawn = 0.0
        self._dirty = False

    def phase(self, label: str, total: int) -> None:
        if self._dirty:
            self._draw(force=True)
            self.stream.write("\n")
        self.label, self.total, self.done = label, total, 0
        self._started = time.monotonic()
        self._draw(force=True)

    def advance(self, count: int = 1) -> None:
        self.done += count
        self._draw()

    def close(self) -> None:
        if self._dirty:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
            self._dirty = False

    def line(self) -> str:
        total = max(self.total, self.done, 1)
        share = min(self.done / total, 1.0)
        bar = "#" * int(share * 24)
        eta = ""
        elapsed = time.monotonic() - self._started
        if 0 < self.done < total:
            eta = f" ETA {_clock(elapsed / self.done * (total - self.done))}"
        elif self.done >= total:
            eta = f" in {_clock(elapsed)}"
        return f"{self.label}: {self.done:,}/{self.total:,} [{bar:<24}] {share:4.0%}{eta}"

    def _draw(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn < 0.2:
            return
        self._drawn = now
        self.stream.write("\r" + self.line().ljust(78))
        self.stream.flush()
        self._dirty = True


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def describe(report: HistoryReport) -> str:
    """The summary printed when a run ends."""
    outcomes = dict(report.outcomes)
    parts = [f"{outcomes.pop('done', 0):,} with community changes ({report.records:,} records queued)"]
    for key, text in _OUTCOMES.items():
        if outcomes.get(key):
            parts.append(f"{outcomes.pop(key):,} {text}")
    parts += [f"{n:,} {state}" for state, n in sorted(outcomes.items()) if n]
    per_file = f"{report.requests_per_file:.3f}" if report.files else "0"
    text = (
        f"history run #{report.run_id}{' (resumed)' if report.resumed else ''}: "
        f"{report.files:,} file{'' if report.files == 1 else 's'}: "
        + "; ".join(parts)
        + f". {report.requests:,} API requests ({per_file} per file) in {report.seconds:.1f} s"
    )
    if report.resolve_requests:
        text += f", after {report.resolve_requests:,} requests resolving the tracked set"
    return text + "."


@click.command(name="history")
@config_option
@click.option(
    "--since", default=None, metavar="DATE", help="Report nothing before DATE (UTC), e.g. 2024-01-01."
)
@click.option(
    "--files", "only_files", is_flag=True, help="Only the files named as arguments, not every tracked file."
)
@click.option(
    "--restart", is_flag=True, help="Abandon an unfinished run with other options and start afresh."
)
@collection_option
@log_option("warning")
@click.argument("titles", nargs=-1, metavar="[TITLE]...")
def history(
    config_path: str | None,
    since: str | None,
    only_files: bool,
    restart: bool,
    collection_names: tuple[str, ...],
    log_level: str,
    titles: tuple[str, ...],
) -> None:
    """Queue what the community changed on tracked files since the museum's own last edit of each.

    The backlog on install day: everything since the museum's last revision of each file (or since
    DATE, where the museum never edited the file or edited it before DATE). With --files, only the
    files named after it. With --collection, only that collection's files, and records only for it (a
    file it shares with another collection gets none for the other; a later run without --collection
    queues those). Resumable: interrupted, the same command continues where it was. Safe while
    `watcher run` works on the same database.

    \b
    Examples:
      watcher history
      watcher history --collection hallwyl
      watcher history --since 2024-01-01 --files "File:A.jpg" "File:B.jpg"
    """
    if titles and not only_files:
        raise click.UsageError("file titles are given after --files, e.g. --files 'File:A.jpg' 'File:B.jpg'")
    if only_files and not titles:
        raise click.UsageError("--files needs at least one file title")
    setup_logging(log_level)
    config = load_or_exit(config_path)
    collections = collections_or_exit(config, collection_names) or ()
    try:
        since_at = store_queue.parse_since(since) if since else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    options = HistoryOptions(since=since_at, files=titles, restart=restart, collections=collections)
    progress = TerminalProgress()
    try:
        report = run_async(run_history(config, options, progress=progress), database=config.database)
    except KeyboardInterrupt:
        progress.close()
        click.echo("interrupted: run the same `watcher history` command again to continue", err=True)
        sys.exit(130)
    except HistoryConflict as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except ApiError as exc:
        click.echo(f"error: the Action API failed ({exc}); run the same command again to continue", err=True)
        sys.exit(1)
    click.echo(describe(report))
    if not report.finished:
        click.echo("some files are still being edited under the live path: run again to finish", err=True)
        sys.exit(EX_TEMPFAIL)


if __name__ == "__main__":
    history()
