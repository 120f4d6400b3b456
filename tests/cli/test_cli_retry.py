"""`watcher retry [--all | ID…]`: fetch work set aside goes back to pending, due now, with its
attempts reset; what it did is said file by file (tests/pipeline/test_long_outage.py runs it beside a
working worker)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner

from tests.support.cli import CliShell
from tests.support.config import USER_AGENT
from tests.support.core import edit
from watcher.cli.main import main
from watcher.store import Database
from watcher.store import state as store_state
from watcher.store.db import DatabaseMissing


def add_work(shell: CliShell, title: str, revision: int, error: str | None) -> int:
    """One edit's inbox item; set aside with ``error`` unless it is None. Returns its id."""

    async def body() -> int:
        async with Database.open(shell.database) as db:
            async with db.transaction() as conn:
                key = f"k{revision}"
                await store_state.enqueue(conn, key, "edit", title, edit(title, revision - 1, revision))
                item_id = int(await db.scalar("SELECT id FROM inbox WHERE event_key = ?", (key,)))
                if error is not None:
                    await store_state.finish_item(conn, item_id, error=error)
            return item_id

    return asyncio.run(body())


def states(shell: CliShell) -> dict[int, tuple[str, int, bool]]:
    """id → (state, attempts, due at once)."""
    rows = shell.sql("SELECT id, state, attempts, next_attempt_at, done_at FROM inbox ORDER BY id")
    return {r["id"]: (r["state"], r["attempts"], r["next_attempt_at"] is not None) for r in rows}


def test_retry_all_puts_every_item_set_aside_back(tmp_path: Path) -> None:
    shell = CliShell(tmp_path)
    a = add_work(shell, "File:A.jpg", 12, "cannot fetch revisions: HTTP 503")
    b = add_work(shell, "File:B.jpg", 20, "internal error: KeyError('x')")
    c = add_work(shell, "File:C.jpg", 30, None)
    shell.sql("UPDATE inbox SET attempts = 340 WHERE id IN (?, ?)", (a, b))
    result = shell.run("retry", "--all")
    assert result.stdout.splitlines() == [
        "put back to pending 2 item(s); the daemon's worker takes them within 30 s:",
        f"  File:A.jpg r12 (inbox item {a}), 340 attempt(s): cannot fetch revisions: HTTP 503",
        f"  File:B.jpg r20 (inbox item {b}), 340 attempt(s): internal error: KeyError('x')",
    ]
    assert states(shell) == {a: ("pending", 0, True), b: ("pending", 0, True), c: ("pending", 0, False)}
    done_at = shell.sql("SELECT done_at FROM inbox WHERE id IN (?, ?)", (a, b))
    assert [r["done_at"] for r in done_at] == [None, None]
    again = shell.run("retry", "--all")
    assert again.stdout == "nothing to retry: no fetch work is set aside\n"


def test_retry_by_id_takes_only_those_and_names_the_rest(tmp_path: Path) -> None:
    shell = CliShell(tmp_path)
    a = add_work(shell, "File:A.jpg", 12, "HTTP 503")
    b = add_work(shell, "File:B.jpg", 20, "HTTP 503")
    c = add_work(shell, "File:C.jpg", 30, None)
    result = shell.run("retry", str(b), str(c))
    assert result.stdout.splitlines()[1:] == [f"  File:B.jpg r20 (inbox item {b}), 0 attempt(s): HTTP 503"]
    assert result.stderr == (
        f"not set aside, left as it is (already waiting for the worker): File:C.jpg r30 (inbox item {c})\n"
    )
    assert states(shell)[a][0] == "failed" and states(shell)[b][0] == "pending"
    missing = shell.run("retry", str(a), "999", code=1)
    assert f"inbox item {a}" in missing.stdout
    assert missing.stderr == "no such inbox item: 999\n"
    assert states(shell)[a][0] == "pending"


def test_retry_without_arguments_lists_what_is_set_aside(tmp_path: Path) -> None:
    shell = CliShell(tmp_path)
    assert shell.run("retry").stdout == "nothing to retry: no fetch work is set aside\n"
    a = add_work(shell, "File:\x1b[31mRed\u202e.jpg", 12, "HTTP 503\x1b]0;owned\x07 from the API")
    result = shell.run("retry", code=2)
    assert result.stdout.splitlines() == [
        "1 item(s) set aside:",
        f"  File:Red.jpg r12 (inbox item {a}), 0 attempt(s): HTTP 503 from the API",
    ]
    assert "nothing retried: pass --all, or the inbox item IDs to retry" in result.stderr
    assert states(shell)[a][0] == "failed"  # listing changes nothing
    both = shell.run("retry", "--all", str(a), code=2)
    assert "give either --all or inbox item IDs, not both" in both.stderr
    assert states(shell)[a][0] == "failed"


def test_retry_on_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[watcher]\nuser_agent = "{USER_AGENT}"\ndatabase = "state/w.sqlite3"\n'
        '[tracking]\ncategories = ["Category:X"]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["retry", "--all", "-c", str(config)])
    assert result.exit_code == DatabaseMissing.exit_code == 66
    assert result.stderr.startswith("error: no database at ")
    assert not (tmp_path / "state").exists()
