"""``watcher digest [--send] [--since DATE]``: preview the digest, or send the due one (idempotently).

``--send`` composes each digest channel's latest due period unless the ledger already has it (so a
systemd timer and the daemon can both run it: the period goes out once), then delivers the outbox
rows of those channels, retrying for up to ``--wait`` seconds. Exit 75 (EX_TEMPFAIL) when a digest is
still unsent then; the daemon or the next run retries it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime

import click

from watcher.base.values import BODY_FORMATS, BodyFormat
from watcher.cli.options import EX_TEMPFAIL, config_option, load_or_exit, open_database, run_async
from watcher.config import EX_CONFIG, Config
from watcher.notify.channels import build_channels
from watcher.notify.digest import DigestOutcome, send_due_digests
from watcher.notify.outbox import Outbox
from watcher.notify.preview import preview_digest
from watcher.store.queue import parse_since


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(parse_since(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc


async def _send(config: Config, names: list[str], since: datetime | None, wait: float) -> int:
    channels, problems = build_channels(config)
    if problems:
        for problem in problems:
            click.echo(f"{config.path}: {problem}", err=True)
        return EX_CONFIG
    selected = [c for c in channels if c.name in names]
    now = datetime.now(UTC)
    async with open_database(config) as db:
        outcomes: list[DigestOutcome] = await send_due_digests(db, config, selected, now, since=since)
        done = {o.channel for o in outcomes}
        for outcome in outcomes:
            if outcome.content is not None and outcome.messages:
                click.echo(outcome.content.render("text"))
            click.echo(
                f"{outcome.channel}: digest for {outcome.period} composed: {outcome.changes} change(s), "
                f"{outcome.messages} message(s)"
                + (f", catching up {outcome.missed} missed" if outcome.missed else ""),
                err=True,
            )
        for channel in selected:
            if channel.name not in done:
                period, _ = channel.digest_time.latest_due(now)
                click.echo(
                    f"{channel.name}: the digest for {period} was composed before; not again", err=True
                )
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


@click.command()
@config_option
@click.option("--send", is_flag=True, help="Send the due digest to every digest channel (once per period).")
@click.option(
    "--since", default=None, metavar="DATE", help="Start at DATE (UTC) instead of the end of the last digest."
)
@click.option("--channel", "channel_name", default=None, help="Only this [[notify]] channel (its filters).")
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
    fmt: BodyFormat,
    wait: float,
) -> None:
    """Render the digest of changes since the last digest sent (or since DATE); --send sends it."""
    config = load_or_exit(config_path)
    since_at = _since(since)
    channel = next((c for c in config.notify if c.name == channel_name), None)
    if channel_name is not None and channel is None:
        known = ", ".join(c.name for c in config.notify) or "none configured"
        raise click.BadParameter(f"no [[notify]] channel {channel_name!r} ({known})", param_hint="--channel")
    if not send:

        async def preview() -> str:
            # The preview reads through a connection of its own; this one refuses a missing database
            # (instead of the preview creating an empty one) and puts SQLite errors in plain words.
            async with open_database(config):
                return await preview_digest(config, channel, since_at, fmt)

        sys.stdout.write(run_async(preview()))
        return
    names = [
        c.name for c in config.notify if c.mode in ("digest", "both") and (channel is None or c is channel)
    ]
    if not names:
        click.echo("no [[notify]] channel has mode digest or both: nothing to send", err=True)
        return
    sys.exit(run_async(_send(config, names, since_at, wait)))
