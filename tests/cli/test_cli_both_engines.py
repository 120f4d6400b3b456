"""The same commands on either engine (issue 20): a config whose `[watcher] database` is a PostgreSQL
URL runs them as one with a SQLite file does, with the same answers."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from click.testing import CliRunner, Result

from tests.support import postgres as pg
from tests.support.config import USER_AGENT
from tests.support.web import queue
from watcher.cli.main import main
from watcher.diff.model import FieldChange
from watcher.store import tracked as store_tracked
from watcher.store.open import open_store


class Shell:
    """`watcher COMMAND -c CONFIG …` against a store at ``location`` (a file or a URL)."""

    def __init__(self, folder: Path, location: str) -> None:
        self.location = location
        self.config = folder / "config.toml"
        self.config.write_text(
            f'[watcher]\nuser_agent = "{USER_AGENT}"\ndatabase = "{location}"\n'
            '[tracking]\ncategories = ["Category:X"]\n',
            encoding="utf-8",
        )

    def run(self, *args: str, code: int = 0, stdin: str | None = None) -> Result:
        head = 2 if args[0] in ("user", "db", "notify") else 1  # a group's -c goes after its command
        argv = [*args[:head], "-c", str(self.config), *args[head:]]
        result = CliRunner().invoke(main, argv, input=stdin)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return result

    def seed(self) -> list[int]:
        async def body() -> list[int]:
            async with open_store(self.location) as db:
                async with db.transaction() as conn:
                    await store_tracked.add_file(conn, "File:Vase.jpg", "category", "Category:X")
                first = await queue(db, file="File:Vase.jpg", revision=11, object_id="EXM-1", changes=[
                    FieldChange("description", "changed", "vas", "vas av glas", "Information", None, "sv"),
                    FieldChange("date", "changed", "1890", "1891", "Information"),
                ])  # fmt: skip
                second = await queue(db, file="File:Vase.jpg", revision=12, object_id="EXM-1")
                return first + second

        return asyncio.run(body())


@pytest.fixture(params=["sqlite", "postgresql"])
def shell(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shell]:
    if request.param == "sqlite":
        yield Shell(tmp_path, str(tmp_path / "w.sqlite3"))
        return
    server: pg.PostgresServer = request.getfixturevalue("postgres")
    name = f"cli_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f"CREATE DATABASE {name} TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"))
    try:
        yield Shell(tmp_path, server.dsn(name))
    finally:
        asyncio.run(_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def _admin(server: pg.PostgresServer, statement: str) -> None:
    """One statement on the server's own database (the commands under test run their own loops)."""
    conn = await asyncpg.connect(server.dsn())
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def jsonl(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_every_command_answers_the_same_on_either_engine(shell: Shell) -> None:
    assert "database:" in shell.run("check").stdout
    ids = shell.seed()
    listed = jsonl(shell.run("changes", "--format", "jsonl"))
    assert [(r["id"], r["field"], r["object_id"]) for r in listed] == [
        (ids[0], "description", "EXM-1"), (ids[1], "date", "EXM-1"), (ids[2], "description", "EXM-1"),
    ]  # fmt: skip
    shell.run("accept", str(ids[0]), str(ids[1]), "--reviewer", "anna")
    shell.run("reject", str(ids[2]), "--note", "vandalism")
    shell.run("undo", str(ids[1]))
    exported = jsonl(shell.run("export", "--format", "jsonl"))
    assert [r["id"] for r in exported] == [ids[0]]
    again = shell.run("export", "--format", "jsonl")
    assert again.stdout == "" and "nothing new since" in again.stderr
    status = json.loads(shell.run("status", "--format", "json").stdout)
    assert status["queue"] == {"pending": 1, "accepted": 1, "rejected": 1, "withdrawn": 0}
    assert status["tracked_files"] == 1
    tracked = jsonl(shell.run("tracked", "--stored", "--format", "jsonl"))
    assert [t["file"] for t in tracked] == ["File:Vase.jpg"]
    summary = json.loads(shell.run("summary", "--month", "2026-03", "--format", "json").stdout)
    (month,) = summary["collections"]
    assert (month["changes"], month["tracked_files"]) == (3, 1)
    preview = shell.run("digest", "--since", "2026-01-01").stdout
    assert "File:Vase.jpg" in preview
    shell.run("user", "add", "Anna", "--password-stdin", stdin="a long enough password\n")
    assert "Anna" in shell.run("user", "list").stdout
    shell.run("user", "add", "anna", "--password-stdin", stdin="another long password\n", code=1)
