"""`watcher serve` (the review page alone) and `watcher user add|list|remove` (who may sign in, and to
which collections)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import replace

import click

from watcher.base.values import LogLevel, Role
from watcher.cli.options import config_option, load_or_exit, log_option, open_database, role_option, run_async
from watcher.config import EX_CONFIG, Config, WebSection
from watcher.service.logs import setup_logging
from watcher.web import auth
from watcher.web.app import PortUnavailable, bind_or_explain, run_web


def _load(config_path: str | None) -> Config:
    return load_or_exit(config_path)


@click.command()
@config_option
@click.option(
    "--listen", default=None, help="host:port to listen on (default: [web] listen, else 127.0.0.1:8750)."
)
@log_option()
def serve(config_path: str | None, listen: str | None, log_level: LogLevel) -> None:
    """Serve the review page alone, without following the stream."""
    setup_logging(log_level)
    config = _load(config_path)
    web_section = config.web or WebSection()
    if listen:
        web_section = replace(web_section, listen=listen)
        try:
            web_section.port  # noqa: B018 - validates host:port
        except (ValueError, IndexError):
            raise click.BadParameter(
                "must be host:port, e.g. 127.0.0.1:8750", param_hint="--listen"
            ) from None
    config = replace(config, web=web_section)
    try:  # the port first, as `watcher run` does: one line and exit 78 where it cannot be had
        sockets = bind_or_explain(web_section, listen=False)
    except PortUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EX_CONFIG)
    try:
        run_async(_serve(config, sockets))
    finally:
        for sock in sockets:
            sock.close()
    sys.exit(0)


async def _serve(config: Config, sockets: list[socket.socket]) -> None:
    loop = asyncio.get_running_loop()
    async with open_database(config) as db:  # the page has nothing to show before `watcher run`
        task = asyncio.create_task(run_web(db, config, sockets=sockets))
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task


@click.group()
def user() -> None:
    """Who may sign in to the review page."""


def check_collections(config: Config, named: Sequence[str]) -> tuple[str, ...] | None:
    """`--collection` names as given, each one the config has (else a usage error, exit 2); None
    where none is given: the account sees every collection."""
    known = config.collection_names
    for name in named:
        if name not in known:
            raise click.BadParameter(
                f"no collection {name!r} in this config (the collections: {', '.join(known)})",
                param_hint="--collection",
            )
    return tuple(dict.fromkeys(named)) or None


def collections_words(collections: Sequence[str] | None) -> str:
    """What `user list` and `user add` say an account sees: "all", or the names."""
    return ", ".join(collections) if collections else "all"


@user.command("add")
@config_option
@click.argument("name")
@role_option("reviewer")
@click.option(
    "--collection",
    "collections",
    multiple=True,
    metavar="NAME",
    help="Limit the account to this collection (repeat for several; default: every collection).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option(
    "--update",
    is_flag=True,
    help="Set a new password, role and collections for an existing user (ends their sessions); "
    "without --collection the account sees every collection again.",
)
def user_add(
    config_path: str | None,
    name: str,
    role: Role,
    collections: tuple[str, ...],
    password_stdin: bool,
    update: bool,
) -> None:
    """Add a reviewer (or a read-only account) who may sign in."""
    config = _load(config_path)
    limit = check_collections(config, collections)  # before the password prompt: a typo costs nothing
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    try:
        auth.check_password_rules(password)
    except auth.UserError as exc:
        raise click.ClickException(str(exc)) from None

    async def body() -> None:
        # An account may be made before the first `watcher run`: this one creates the database.
        async with open_database(config, create=True) as db:
            await auth.add_user(db, name, password, role, update=update, collections=limit)

    try:
        run_async(body())
    except auth.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{'updated' if update else 'added'} {role} {name!r} (collections: {collections_words(limit)})"
    )


@user.command("list")
@config_option
def user_list(config_path: str | None) -> None:
    """List who may sign in, with their role and the collections they see."""
    config = _load(config_path)

    async def body() -> list[auth.User]:
        async with open_database(config) as db:
            return await auth.list_users(db)

    users = run_async(body())
    if not users:
        click.echo("no users: add one with `watcher user add NAME`")
    for account in users:
        click.echo(
            f"{account.name}\t{account.role}\tsince {account.created_at}"
            f"\tcollections: {collections_words(account.collections)}"
        )


@user.command("remove")
@config_option
@click.argument("name")
def user_remove(config_path: str | None, name: str) -> None:
    """Remove a user; their open sessions end at once."""
    config = _load(config_path)

    async def body() -> bool:
        async with open_database(config) as db:
            return await auth.remove_user(db, name)

    if not run_async(body()):
        raise click.ClickException(f"no user {name!r}")
    click.echo(f"removed {name!r}")
