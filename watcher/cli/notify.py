"""``watcher digest [--send] [--since DATE] [--collection NAME]`` and ``watcher notify test [--channel NAME]``.

``watcher digest`` previews, per digest channel, the digest ``--send`` would compose now (or, where
none is due, the next one so far) and prints which digest and window it is; ``--send`` composes each
digest channel's due digest unless the ledger already has it (so a systemd timer and the daemon can
both run it: the period goes out once) and prints the same window. ``--send --since DATE`` sends now,
as an extra digest, exactly what ``watcher digest --since DATE`` shows. ``--collection`` narrows each
channel to those of its collections (the preview, and ``--send --since``; a scheduled digest always
covers all of a channel's collections, once a day). Then the outbox rows of those
channels are delivered, retrying for up to ``--wait`` seconds; exit 75 (EX_TEMPFAIL) when a digest is
still unsent then (the daemon or the next run retries it).

``watcher notify test`` sends a short message to every URL of every (or one) channel and says, per
URL, whether it was delivered: exit 0 when all were, 1 when one was not, 78 when a URL cannot be used
at all (what ``watcher check`` reports).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import click

from watcher.base.values import BODY_FORMATS, BodyFormat
from watcher.cli.options import (
    EX_TEMPFAIL,
    collection_option,
    collections_or_exit,
    config_option,
    load_or_exit,
    open_database,
    run_async,
)
from watcher.config import EX_CONFIG, Config, NotifyChannel
from watcher.notify.channels import Channel, build_channels
from watcher.notify.digest import (
    DigestOutcome,
    compose,
    period_label,
    plan_window,
    send_digest_since,
    send_due_digests,
)
from watcher.notify.filters import narrowed
from watcher.notify.outbox import Outbox
from watcher.notify.preview import DigestPreview, digest_channels, preview_digests
from watcher.notify.render import Presenter
from watcher.notify.trial import send_test_messages
from watcher.store.db import iso_utc
from watcher.store.engine import Store
from watcher.store.queue import parse_since


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(parse_since(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc


def _report(outcome: DigestOutcome, extra: bool) -> None:
    if outcome.content is not None and outcome.messages:
        click.echo(outcome.content.render("text"))
    what = "extra digest" if extra else f"digest for {outcome.period}"
    click.echo(
        f"{outcome.channel}: {what} composed: {outcome.changes} change(s), {outcome.messages} message(s)"
        + (f", catching up {outcome.missed} missed" if outcome.missed else "")
        + f" ({outcome.window})",
        err=True,
    )


async def _nothing_due(db: Store, config: Config, channel: Channel, now: datetime) -> str:
    """Why ``--send`` composed nothing for ``channel``, when the next digest goes, and how to send now."""
    timing = channel.digest_time
    presenter = Presenter(config, timing.zone)
    async with db.reading() as conn:
        plan = await plan_window(conn, channel.name, timing, now)
        content = await compose(conn, config, channel.config, presenter, plan.start, plan.end, db=db)
    fire = plan.fire.astimezone(timing.zone).strftime("%Y-%m-%d %H:%M")
    upcoming = (
        f"goes out {fire} with the {content.total} change(s) queued so far ({plan.text(timing.zone)}); "
        f"`watcher digest --send --since {iso_utc(plan.start)}` sends them now"
    )
    if plan.composed is not None:
        return (
            f"{channel.name}: the digest for {plan.composed} was composed before; not again. "
            f"The next, for {period_label(plan.period)}, {upcoming}"
        )
    return f"{channel.name}: no digest is due yet. The first, for {period_label(plan.period)}, {upcoming}"


async def _send(
    config: Config, names: list[str], since: datetime | None, wait: float, collections: Sequence[str] | None
) -> int:
    channels, problems = build_channels(config)
    if problems:
        for problem in problems:
            click.echo(f"{config.path}: {problem}", err=True)
        return EX_CONFIG
    selected = [c for c in channels if c.name in names]
    if collections is not None:  # only with --since: an extra digest of those collections
        narrow = {c.name: narrowed(c.config, collections) for c in selected}
        selected = [replace(c, config=found) for c in selected if (found := narrow[c.name]) is not None]
    now = datetime.now(UTC)
    async with open_database(config) as db:
        if since is not None:
            for channel in selected:
                _report(await send_digest_since(db, config, channel, since, now), extra=True)
        else:
            outcomes = await send_due_digests(db, config, selected, now)
            for outcome in outcomes:
                _report(outcome, extra=False)
            done = {o.channel for o in outcomes}
            for channel in selected:
                if channel.name not in done:
                    click.echo(await _nothing_due(db, config, channel, now), err=True)
        outbox = Outbox(db, channels, owner=f"cli:{os.getpid()}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        marks = ",".join("?" * len(selected))
        while True:
            sent = await outbox.deliver_due([c.name for c in selected])
            if sent:
                click.echo(f"sent {sent} message(s)", err=True)
            pending = int(
                await db.scalar(
                    f"SELECT count(*) FROM notify_outbox WHERE state = 'pending' AND kind = 'digest' "
                    f"AND channel IN ({marks})",
                    [c.name for c in selected],
                )
            )
            due = await db.scalar(
                f"SELECT min(next_attempt_at) FROM notify_outbox WHERE state = 'pending' AND channel IN ({marks})",
                [c.name for c in selected],
            )
            if not pending:
                return 0
            pause = max(0.5, float(due or 0) - datetime.now(UTC).timestamp())
            if loop.time() + pause > deadline:
                click.echo(
                    f"{pending} digest message(s) not sent yet; the daemon or the next `watcher digest --send` "
                    "retries them",
                    err=True,
                )
                return EX_TEMPFAIL
            await asyncio.sleep(pause)


def _channel(config: Config, name: str | None) -> NotifyChannel | None:
    """The ``--channel`` named, or None without one; an unknown name is a usage error listing them."""
    if name is None:
        return None
    found = next((c for c in config.notify if c.name == name), None)
    if found is None:
        known = ", ".join(c.name for c in config.notify) or "none configured"
        raise click.BadParameter(f"no [[notify]] channel {name!r} ({known})", param_hint="--channel")
    return found


@click.command()
@config_option
@click.option(
    "--send", is_flag=True,
    help="Send the due digest to every digest channel (once per period); with --since, send that now.",
)  # fmt: skip
@click.option(
    "--since", default=None, metavar="DATE",
    help="Everything queued from DATE (UTC) until now, instead of the scheduled digest's window.",
)  # fmt: skip
@click.option("--channel", "channel_name", default=None, help="Only this [[notify]] channel (its filters).")
@collection_option
@click.option(
    "--format", "fmt", type=click.Choice(BODY_FORMATS), default="text", show_default=True,
    help="Preview format (without --send).",
)  # fmt: skip
@click.option(
    "--wait", type=float, default=60.0, show_default=True,
    help="With --send: seconds to keep retrying a digest that did not go through.",
)  # fmt: skip
def digest(
    config_path: str | None,
    send: bool,
    since: str | None,
    channel_name: str | None,
    collection_names: tuple[str, ...],
    fmt: BodyFormat,
    wait: float,
) -> None:
    """Show the digest --send would send now (or the next one so far), and its window; --send sends it."""
    config = load_or_exit(config_path)
    since_at = _since(since)
    channel = _channel(config, channel_name)
    collections = collections_or_exit(config, collection_names)
    if send and since_at is None and collections is not None:
        raise click.BadParameter(
            "a scheduled digest covers all of a channel's collections, once a day; "
            "to send some collections' changes now, add --since DATE",
            param_hint="--collection",
        )
    for left_out in digest_channels(config, channel):
        if narrowed(left_out, collections) is None:
            click.echo(
                f"{left_out.name}: takes none of {', '.join(collections or ())} "
                f"(its collections: {', '.join(left_out.collections)}); left out",
                err=True,
            )
    if not send:

        async def preview() -> list[DigestPreview]:
            # The preview reads through a connection of its own; this one refuses a missing database
            # (instead of the preview creating an empty one) and puts SQLite errors in plain words.
            async with open_database(config):
                return await preview_digests(config, channel, since_at, collections=collections)

        for number, shown in enumerate(run_async(preview())):
            click.echo(shown.heading, err=True)
            sys.stdout.write(("\n" if number else "") + shown.content.render(fmt))
            sys.stdout.flush()
        return
    names = [
        c.name for c in config.notify if c.mode in ("digest", "both") and (channel is None or c is channel)
    ]
    if not names:
        click.echo("no [[notify]] channel has mode digest or both: nothing to send", err=True)
        return
    sys.exit(run_async(_send(config, names, since_at, wait, collections)))


@click.group()
def notify() -> None:
    """The [[notify]] channels: try them before the first alert is due."""


@notify.command("test")
@config_option
@click.option("--channel", "channel_name", default=None, help="Only this [[notify]] channel.")
@click.option(
    "--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for each URL's answer."
)
def notify_test(config_path: str | None, channel_name: str | None, timeout: float) -> None:
    """Send a short test message to every (or one) channel; say per URL whether it was delivered."""
    config = load_or_exit(config_path)
    channel = _channel(config, channel_name)
    if not config.notify:
        click.echo(f"{config.path}: no [[notify]] channel configured: nothing to test", err=True)
        sys.exit(EX_CONFIG)
    if channel is not None:
        config = replace(config, notify=(channel,))
    channels, problems = build_channels(config)
    for problem in problems:
        click.echo(f"{config.path}: {problem}", err=True)
    results = asyncio.run(send_test_messages(channels, limit=timeout))
    for result in results:
        outcome = "delivered" if result.delivered else f"NOT delivered: {result.error}"
        click.echo(f"{result.channel}: {result.url}: {outcome}")
    failed = sum(not r.delivered for r in results)
    click.echo(
        f"{len(results) - failed} of {len(results)} URL(s) took the test message"
        + (f"; {len(problems)} problem(s) with [[notify]]" if problems else ""),
        err=True,
    )
    sys.exit(1 if failed else EX_CONFIG if problems else 0)
