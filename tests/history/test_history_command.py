"""`watcher history` on the command line: its summary, its argument checks, its progress bar."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from click.testing import CliRunner, Result

from tests.support.history import Collection, write_config
from watcher.cli.history import TerminalProgress, describe, history
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.history.progress import ensure_tables, open_run
from watcher.history.run import HistoryReport
from watcher.store import Database


async def _invoke(*args: str) -> Result:
    """The command runs its own event loop, so it runs in a thread while the stand-in serves here."""
    return await asyncio.to_thread(CliRunner().invoke, history, list(args))


async def test_a_run_from_an_empty_database_resolves_the_tracked_set_and_summarises(
    peer: ActionApiPeer, collection: Collection, tmp_path: Path
) -> None:
    _, config_path = write_config(tmp_path, peer.url)
    result = await _invoke("-c", str(config_path))
    assert result.exit_code == 0, result.output
    changed = len(collection.changed())
    assert (
        f"history run #1: {len(collection.stories)} files: {changed} with community changes" in result.output
    )
    assert "current revision is the museum's" in result.output and "per file" in result.output
    assert "requests resolving the tracked set" in result.output
    async with Database.open(tmp_path / "w.sqlite3") as db:
        assert await db.scalar("SELECT count(DISTINCT file) FROM changes WHERE source = 'history'") == changed
    again = await _invoke("-c", str(config_path), "--files", "File:Example Museum object 00000.jpg")
    assert again.exit_code == 0, again.output
    assert "history run #2: 1 file: 0 with community changes" in again.output  # covered by run 1


async def test_arguments_are_checked_before_anything_runs(peer: ActionApiPeer, tmp_path: Path) -> None:
    _, config_path = write_config(tmp_path, peer.url)
    loose = await _invoke("-c", str(config_path), "File:A.jpg")
    assert loose.exit_code == 2 and "after --files" in loose.output
    empty = await _invoke("-c", str(config_path), "--files")
    assert empty.exit_code == 2 and "at least one" in empty.output
    bad = await _invoke("-c", str(config_path), "--since", "last tuesday")
    assert bad.exit_code == 2 and "not a date" in bad.output
    assert peer.requests == []


async def test_an_unfinished_run_with_other_options_is_reported(
    peer: ActionApiPeer, collection: Collection, tmp_path: Path
) -> None:
    _, config_path = write_config(tmp_path, peer.url)
    async with Database.open(tmp_path / "w.sqlite3") as db:
        await ensure_tables(db)
        await open_run(db, '{"since": "2020-01-01T00:00:00Z"}')
    result = await _invoke("-c", str(config_path))
    assert result.exit_code == 1 and "--since 2020-01-01T00:00:00Z" in result.output
    assert "--restart" in result.output
    restarted = await _invoke("-c", str(config_path), "--restart")
    assert restarted.exit_code == 0, restarted.output


def test_the_progress_line_shows_counts_and_an_eta_on_a_terminal_only() -> None:
    screen = io.StringIO()
    bar = TerminalProgress(screen, enabled=True)
    bar.phase("walking back to the baselines", 40)
    bar.advance(10)
    line = bar.line()
    assert line.startswith("walking back to the baselines: 10/40 [######") and " 25% ETA " in line
    bar.phase("diffing", 2)
    bar.advance(2)
    assert "2/2" in bar.line() and "100%" in bar.line() and " in 0:" in bar.line()
    bar.close()
    assert screen.getvalue().startswith("\r") and screen.getvalue().endswith("\n")
    quiet = io.StringIO()  # not a terminal: a journal or a pipe gets no progress bar
    silent = TerminalProgress(quiet)
    silent.phase("diffing", 3)
    silent.advance(3)
    silent.close()
    assert quiet.getvalue() == ""


def test_the_summary_names_every_outcome() -> None:
    report = HistoryReport(
        run_id=4, resumed=True, files=10, records=7, requests=3, resolve_requests=0, seconds=1.25, finished=True,
        outcomes={"done": 2, "skipped:own": 5, "skipped:quiet": 1, "skipped:covered": 1, "walked": 1},
    )  # fmt: skip
    text = describe(report)
    assert text.startswith("history run #4 (resumed): 10 files: 2 with community changes (7 records queued)")
    assert "5 current revision is the museum's; 1 only bots or ignored users" in text
    assert "1 already reported by the live path; 1 walked" in text
    assert "3 API requests (0.300 per file)" in text
