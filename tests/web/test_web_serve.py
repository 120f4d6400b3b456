"""Serving on a real port (run_web, `watcher serve`) and the `watcher user` commands."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner, Result

from tests.support.ports import free_port
from tests.support.web import COLLECTIONS_CONFIG_TEXT, CONFIG_TEXT
from watcher.cli.web import user
from watcher.config import Config, WebSection
from watcher.store.db import Database
from watcher.web import auth
from watcher.web.app import run_web

REPO = Path(__file__).resolve().parents[2]


async def test_run_web_serves_until_cancelled_then_lets_go_of_the_port(db: Database, config: Config) -> None:
    port = free_port()
    config = replace(config, web=WebSection(listen=f"127.0.0.1:{port}"))
    task = asyncio.create_task(run_web(db, config))
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with session.get(f"http://127.0.0.1:{port}/login") as response:
                    assert response.status == 200
                    assert "Sign in" in await response.text()
                    break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the review page never answered")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.get(f"http://127.0.0.1:{port}/login"):
                pass
    with (
        socket.socket() as sock
    ):  # the port is free again for a restart (which sets SO_REUSEADDR, as aiohttp does)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()


def write_config(folder: Path, port: int) -> Path:
    path = folder / "config.toml"
    path.write_text(CONFIG_TEXT.replace("127.0.0.1:0", f"127.0.0.1:{port}"), encoding="utf-8")
    return path


def test_serve_command_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config_path = write_config(tmp_path, port)
    # `serve` reads a database and never creates one: the first `watcher run` does.
    missing = subprocess.run(
        [sys.executable, "-m", "watcher", "serve", "-c", str(config_path)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert missing.returncode == 66 and "no database at" in missing.stderr
    assert not (tmp_path / "w.sqlite3").exists()

    async def create() -> None:
        async with Database.open(tmp_path / "w.sqlite3"):
            pass

    asyncio.run(create())
    process = subprocess.Popen(
        [sys.executable, "-c", "from watcher.cli.web import serve; serve()", "-c", str(config_path)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, process.communicate()[0]
            time.sleep(0.05)
        else:
            pytest.fail("watcher serve never listened")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "review page at http://127.0.0.1:" in output
    assert "watcher user add" in output  # nobody can sign in yet: it says how to fix that


def test_user_commands(tmp_path: Path) -> None:
    config_path = str(write_config(tmp_path, 8750))
    runner = CliRunner()
    added = runner.invoke(user, ["add", "anna", "-c", config_path], input="long password\nlong password\n")
    assert added.exit_code == 0, added.output
    assert "added reviewer 'anna'" in added.output
    piped = runner.invoke(
        user,
        ["add", "otto", "--role", "readonly", "--password-stdin", "-c", config_path],
        input="s3cret-pass\n",
    )
    assert piped.exit_code == 0, piped.output
    again = runner.invoke(
        user, ["add", "Anna", "--password-stdin", "-c", config_path], input="other password\n"
    )
    assert again.exit_code == 1 and "exists already" in again.output
    short = runner.invoke(user, ["add", "bea", "--password-stdin", "-c", config_path], input="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output
    listed = runner.invoke(user, ["list", "-c", config_path])
    assert listed.exit_code == 0
    assert [line.split("\t")[:2] for line in listed.output.splitlines()] == [
        ["anna", "reviewer"],
        ["otto", "readonly"],
    ]
    removed = runner.invoke(user, ["remove", "otto", "-c", config_path])
    assert removed.exit_code == 0 and "removed" in removed.output
    assert runner.invoke(user, ["remove", "otto", "-c", config_path]).exit_code == 1

    async def check() -> None:
        async with Database.open(tmp_path / "w.sqlite3") as db:
            assert await auth.authenticate(db, "anna", "long password") is not None
            assert await auth.authenticate(db, "anna", "s3cret-pass") is None
            assert [u.name for u in await auth.list_users(db)] == ["anna"]

    asyncio.run(check())


def test_user_add_limits_an_account_to_collections(tmp_path: Path) -> None:
    config_path = tmp_path / "config.toml"
    config_path.write_text(COLLECTIONS_CONFIG_TEXT, encoding="utf-8")
    runner = CliRunner()

    def add(*args: str) -> Result:
        return runner.invoke(
            user, ["add", *args, "--password-stdin", "-c", str(config_path)], input="long password\n"
        )

    def listed() -> dict[str, str]:
        result = runner.invoke(user, ["list", "-c", str(config_path)])
        assert result.exit_code == 0, result.output
        return {line.split("\t")[0]: line.split("\t")[3] for line in result.output.splitlines()}

    hanna = add("hanna", "--collection", "hallwyl")
    assert hanna.exit_code == 0, hanna.output
    assert "added reviewer 'hanna' (collections: hallwyl)" in hanna.output
    assert add("bo", "--collection", "skokloster", "--collection", "hallwyl").exit_code == 0
    assert add("anna").exit_code == 0
    # A name the config does not have (names are exact): a usage error before any password is asked.
    for args in (("eve", "--collection", "Hallwyl"), ("hanna", "--update", "--collection", "nowhere")):
        typo = runner.invoke(user, ["add", *args, "-c", str(config_path)])
        assert typo.exit_code == 2, typo.output
        assert (
            f"no collection {args[-1]!r} in this config (the collections: hallwyl, skokloster)" in typo.output
        )
        assert "Password" not in typo.output
    assert listed() == {
        "anna": "collections: all",
        "bo": "collections: hallwyl, skokloster",
        "hanna": "collections: hallwyl",
    }
    # --update replaces the list; without --collection the account sees every collection again.
    assert add("hanna", "--update", "--collection", "skokloster").exit_code == 0
    assert listed()["hanna"] == "collections: skokloster"
    assert add("bo", "--update").exit_code == 0
    assert listed()["bo"] == "collections: all"
    assert runner.invoke(user, ["remove", "hanna", "-c", str(config_path)]).exit_code == 0

    async def check() -> None:
        async with Database.open(tmp_path / "w.sqlite3") as db:
            assert await db.fetchall("SELECT user, collection FROM web_user_collections") == []
            assert "eve" not in [u.name for u in await auth.list_users(db)]

    asyncio.run(check())
