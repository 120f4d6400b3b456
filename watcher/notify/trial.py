"""``watcher notify test``: a short message to every URL of the channels, now, and what became of it.

Sent directly (:func:`watcher.notify.outbox.send_once`), not through the outbox: a test is not
retried and leaves nothing in the database, so it works before the first ``watcher run`` and beside
a running daemon. Every URL is tried at once, each with its own time limit.
"""

from __future__ import annotations

import asyncio
import html
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from watcher.base.values import BodyFormat
from watcher.notify.channels import Channel, Target
from watcher.notify.outbox import send_once
from watcher.notify.render import md

TITLE = "Commons Watcher: test message"


@dataclass(frozen=True)
class TrialResult:
    channel: str
    url: str  # masked
    delivered: bool
    error: str = ""


def _body(channel: Channel, fmt: BodyFormat) -> str:
    host = socket.gethostname()
    mode = channel.config.mode
    if fmt == "html":
        return (
            f"<p>This is a test message from Commons Watcher on {html.escape(host)}, sent by "
            f"<code>watcher notify test</code> to the channel <b>{html.escape(channel.name)}</b> "
            f"(mode {html.escape(mode)}).</p><p>Alerts and digests of this channel will arrive like this "
            "one. Nothing needs doing.</p>"
        )
    if fmt == "markdown":
        return (
            f"This is a test message from Commons Watcher on {md(host)}, sent by `watcher notify test` "
            f"to the channel **{md(channel.name)}** (mode {md(mode)}).\n\nAlerts and digests of this "
            "channel will arrive like this one. Nothing needs doing."
        )
    return (
        f"This is a test message from Commons Watcher on {host}, sent by `watcher notify test` to the "
        f"channel {channel.name} (mode {mode}).\n\nAlerts and digests of this channel will arrive like "
        "this one. Nothing needs doing."
    )


async def _try(channel: Channel, target: Target, limit: float) -> TrialResult:
    def render(fmt: BodyFormat) -> str:
        return _body(channel, fmt)

    try:
        delivered, error = await asyncio.wait_for(
            send_once(target, TITLE, render, limit=limit), timeout=limit + 5
        )
    except TimeoutError:
        delivered, error = False, f"no answer within {limit:g} s"
    return TrialResult(channel.name, target.shown, delivered, error)


async def send_test_messages(channels: Sequence[Channel], *, limit: float = 30.0) -> list[TrialResult]:
    """Send the test message to every target of ``channels`` at once, each given ``limit`` seconds;
    one result per target, in order."""
    return list(await asyncio.gather(*(_try(c, t, limit) for c in channels for t in c.targets)))
