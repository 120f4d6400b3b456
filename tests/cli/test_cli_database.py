"""Issue 13, items 4 and 7: a command never creates a database at a mistyped path, and a damaged
database is one clear line with the way to restore it, from `watcher run` and `watcher status` alike."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.support.config import USER_AGENT
from tests.support.damage import make_database, not_a_database, scribble_over
from tests.support.harness import DaemonProcess, config_text
from tests.support.ports import free_port
from watcher.cli.main import main
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.demo.standins.eventstreams import EventStreamsStandIn
from watcher.store.db import DatabaseDamaged, DatabaseMissing

RESTORE = "restore it from a backup, or salvage what is left with `sqlite3"


def write_config(folder: Path, database: str = "state/w.sqlite3") -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[watcher]\nuser_agent = "{USER_AGENT}"\ndatabase = "{database}"\n'
        '[tracking]\ncategories = ["Category:X"]\n\n'
        '[[notify]]\nname = "daily"\nurls = ["json://127.0.0.1:9/digest"]\nmode = "digest"\n',
        encoding="utf-8",
    )
    return config


def invoke(config: Path, *args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(main, [args[0], *args[1:], "-c", str(config)], input=stdin)
    # Handled: a clean exit, never an exception escaping the command.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


# -- a missing database -----------------------------------------------------------------------------

READ_ONLY_COMMANDS = [
    ("status",),
    ("status", "--format", "json"),
    ("changes",),
    ("changes", "--format", "jsonl"),
    ("accept", "1"),
    ("reject", "1", "--note", "no"),
    ("digest",),
    ("digest", "--send", "--wait", "0"),
    ("user", "list"),
    ("user", "remove", "anna"),
    ("serve", "--listen", "127.0.0.1:0"),
]


@pytest.mark.parametrize("args", READ_ONLY_COMMANDS, ids=" ".join)
def test_a_command_on_a_missing_database_creates_nothing(tmp_path: Path, args: tuple[str, ...]) -> None:
    config = write_config(tmp_path)
    database = tmp_path / "state" / "w.sqlite3"
    result = invoke(config, *args)
    assert result.exit_code == DatabaseMissing.exit_code == 66, (result.stdout, result.stderr)
    assert error_lines(result) == [
        f"error: no database at {database.absolute()}: run `watcher run` first (or check -c/--config)"
    ]
    assert result.stdout == ""
    assert not database.parent.exists()  # not even the folder


def test_user_add_may_make_the_database_before_the_first_run(tmp_path: Path) -> None:
    """A reviewer account can be set up before the daemon ever ran: `user add` creates the database."""
    config = write_config(tmp_path)
    added = invoke(config, "user", "add", "anna", "--password-stdin", stdin="a long password\n")
    assert added.exit_code == 0, added.output
    assert (tmp_path / "state" / "w.sqlite3").exists()
    listed = invoke(config, "user", "list")
    assert listed.exit_code == 0 and listed.stdout.startswith("anna\treviewer\t")
    # And now the read-only commands find it.
    assert invoke(config, "status").exit_code == 0


# -- a damaged database ------------------------------------------------------------------------------


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """A real watcher database whose `state` table's root page is garbage."""
    database = tmp_path / "state" / "w.sqlite3"
    asyncio.run(make_database(database))
    scribble_over(database, "state")
    return database


def test_status_on_a_damaged_database_says_how_to_restore_it(tmp_path: Path, damaged: Path) -> None:
    config = write_config(tmp_path)
    for args in (("status",), ("status", "--format", "json")):
        result = invoke(config, *args)
        assert result.exit_code == DatabaseDamaged.exit_code == 65, (result.stdout, result.stderr)
        lines = error_lines(result)
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"error: the database {damaged.absolute()} is damaged (")
        assert RESTORE in lines[0] and ".recover" in lines[0]
        assert result.stdout == ""


def test_status_on_a_file_that_is_no_database(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    database = tmp_path / "state" / "w.sqlite3"
    not_a_database(database)
    before = database.read_bytes()
    result = invoke(config, "status")
    assert result.exit_code == 65, result.stderr
    lines = error_lines(result)
    assert len(lines) == 1, lines
    assert "is not a usable SQLite database" in lines[0] and RESTORE in lines[0]
    assert database.read_bytes() == before  # left exactly as it was, for the restore


async def test_watcher_run_on_a_damaged_database_stops_at_start(
    tmp_path: Path, damaged: Path, daemons: Callable[[Path, Path], DaemonProcess]
) -> None:
    config = tmp_path / "run.toml"
    async with ActionApiPeer() as api, EventStreamsStandIn([]) as stream:
        more = f'[web]\nlisten = "127.0.0.1:{free_port()}"'
        config.write_text(config_text(api.url, stream.url, damaged, more=more))
        daemon = daemons(config, tmp_path / "daemon.log")
        await daemon.start()
        assert daemon.proc is not None
        code = await asyncio.wait_for(daemon.proc.wait(), timeout=60)
        assert stream.connections == 0  # nothing started: no stream, no API, no page
        assert not api.requests
    said = [line for line in daemon.log_text().splitlines() if line.strip() and not line.startswith("-----")]
    assert code == 65, said
    assert len(said) == 1, said  # one line: no traceback, no restart loop
    assert said[0].startswith(f"error: the database {damaged.absolute()} is damaged (")
    assert RESTORE in said[0]
