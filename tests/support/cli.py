"""A `watcher` command line against a config and a database in a temporary folder (click's CliRunner).

For tests that queue their own records (``queue``, with the review page tests' helper) and then run
commands on them as a user would.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from tests.support.config import USER_AGENT
from tests.support.web import queue as queue_edit
from watcher.cli.main import main
from watcher.store import Database


class CliShell:
    """``run("export", "--all")`` is ``watcher export -c CONFIG --all``; the database exists (empty)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database = folder / "state" / "w.sqlite3"
        self.config = folder / "config.toml"
        self.config.write_text(
            f'[watcher]\nuser_agent = "{USER_AGENT}"\ndatabase = "state/w.sqlite3"\n'
            '[tracking]\ncategories = ["Category:X"]\n',
            encoding="utf-8",
        )
        asyncio.run(self._create())

    async def _create(self) -> None:
        async with Database.open(self.database, create=True):
            pass

    def run(self, *args: str, code: int | None = 0) -> Result:
        result = CliRunner().invoke(main, [args[0], "-c", str(self.config), *args[1:]])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        if code is not None:
            assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    def queue(self, **edit: Any) -> list[int]:
        """Queue one edit's changes (``tests.support.web.queue``'s arguments); returns their ids."""

        async def body() -> list[int]:
            async with Database.open(self.database) as db:
                return await queue_edit(db, **edit)

        return asyncio.run(body())

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with sqlite3.connect(self.database) as conn:
            conn.row_factory = sqlite3.Row
            return list(conn.execute(statement, params))

    def exported(self) -> dict[int, str | None]:
        """Each change's exported_at."""
        return {int(row["id"]): row["exported_at"] for row in self.sql("SELECT id, exported_at FROM changes")}
