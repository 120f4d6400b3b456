"""Slack webhooks and json:// through a loopback HTTP sink: 429/Retry-After, 500s, isolation, cutting."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from datetime import UTC, datetime

from tests.support.notify import HttpSink, add_change, statuses, wait_for_state, wait_until
from watcher.config import Config
from watcher.notify.alerts import AlertWatcher
from watcher.notify.channels import Channel, build_channels
from watcher.notify.outbox import Outbox, RetryPolicy
from watcher.store import Database

FAST = RetryPolicy(base=0.2, cap=1.0)
SLACK_URL = "slack://T1ABCDEFG/B2ABCDEFG/C3abcdefghijklmnopqrstuv"
SLACK_PATH = "/slack/T1ABCDEFG/B2ABCDEFG/C3abcdefghijklmnopqrstuv"


def _channels(make_config: Callable[[str], Config], *tables: tuple[str, str]) -> tuple[Config, list[Channel]]:
    text = '[web]\nlisten = "127.0.0.1:8750"\npublic_url = "https://review.example"\n'
    for name, url in tables:
        text += f'\n[[notify]]\nname = "{name}"\nurls = ["{url}"]\nmode = "immediate"\ncoalesce_seconds = 0\n'
    config = make_config(text)
    channels, problems = build_channels(config)
    assert problems == []
    return config, channels


def _now() -> datetime:
    return datetime.now(UTC)


async def _alert(db: Database, config: Config, channel: Channel) -> int:
    watcher = AlertWatcher(db, config, channel, clock=_now, on_queued=lambda: None)
    after = await watcher.cursor()
    await add_change(db, new="<!channel> look *here*", user="<@U0BOSS>")
    return (await watcher.flush(after))[1]


async def _row(db: Database, channel: str) -> dict[str, object]:
    row = await db.fetchone("SELECT * FROM notify_outbox WHERE channel = ?", (channel,))
    assert row is not None
    return dict(row)


async def test_slack_429_retry_after_is_honoured_then_delivered(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config, (channel,) = _channels(make_config, ("chat", SLACK_URL))
    assert await _alert(db, config, channel) == 1
    http_sink.script[SLACK_PATH] = [(429, {"Retry-After": "1"})]
    outbox = Outbox(db, [channel], policy=FAST)
    runner = asyncio.create_task(outbox.run())
    try:
        await wait_until(lambda: len(http_sink.ok(SLACK_PATH)) == 1)
        await wait_for_state(db, "chat", "sent")
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    posts = [p for p in http_sink.posts if p.path == SLACK_PATH]
    assert statuses(posts) == [429, 200]
    assert posts[1].at - posts[0].at >= 0.9  # waited as Retry-After asked, not FAST's 0.2 s back-off
    row = await _row(db, "chat")
    assert row["state"] == "sent" and row["attempts"] == 2
    text = posts[1].body["attachments"][0]["text"]
    assert "<!channel>" not in text and "<@U0BOSS>" not in text and "&lt;!channel&gt;" in text


async def test_500s_back_off_and_a_failing_channel_does_not_block_another(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config, (failing, healthy) = _channels(
        make_config,
        ("broken", http_sink.url("/broken").replace("http://", "json://")),
        ("fine", http_sink.url("/fine").replace("http://", "json://")),
    )
    await _alert(db, config, failing)
    await _alert(db, config, healthy)
    http_sink.script["/broken"] = [(500, {})] * 3
    outbox = Outbox(db, [failing, healthy], policy=FAST)
    runner = asyncio.create_task(outbox.run())
    try:
        await wait_until(lambda: len(http_sink.ok("/fine")) == 1)
        # The healthy channel went through while the broken one was still failing.
        assert http_sink.ok("/broken") == []
        await wait_until(lambda: len(http_sink.ok("/broken")) == 1)
        await wait_for_state(db, "broken", "sent")
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    broken = [p for p in http_sink.posts if p.path == "/broken"]
    assert statuses(broken) == [500, 500, 500, 200]
    gaps = [b.at - a.at for a, b in itertools.pairwise(broken)]
    # Exponential back-off from 0.2 s (jitter takes up to a fifth off): lower bounds only.
    assert [gap >= 0.8 * 0.2 * 2**n for n, gap in enumerate(gaps)] == [True, True, True]
    row = await _row(db, "broken")
    assert row["state"] == "sent" and row["attempts"] == 4
    assert len(http_sink.ok("/fine")) == 1  # sent once, never repeated


async def test_long_alert_is_cut_to_slack_size_with_a_more_line(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config, (channel,) = _channels(make_config, ("chat", SLACK_URL))
    watcher = AlertWatcher(db, config, channel, clock=_now, on_queued=lambda: None)
    after = await watcher.cursor()
    for n in range(120):
        await add_change(db, file=f"File:Object {n}.jpg", new=f"A long new description number {n} " * 4)
    assert (await watcher.flush(after))[1] == 120
    assert await Outbox(db, [channel], policy=FAST).deliver_due() == 1
    (post,) = http_sink.ok(SLACK_PATH)
    text = post.body["attachments"][0]["text"]
    assert 1000 < len(text) <= 4000
    shown = text.count("File:Object ")
    more = int(text.split("… and ")[1].split(" more")[0])
    assert shown + more == 120 and more > 0
    assert "<https://review.example/|review page>" in text
