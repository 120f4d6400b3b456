"""Trust in alerts and digests: the signals in words, the channels' editor filters, the quiet period.

Mail goes to a loopback SMTP server and webhooks to a loopback HTTP sink; the quiet period runs on a
hand-moved clock, and a change withdrawn meanwhile (as the revert detection withdraws it) never goes out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.clock import ManualClock
from tests.support.notify import HttpSink, SmtpSink, utc, wait_until
from tests.support.trust import NEWBIE, VETERAN, add_trusted_change, facts
from watcher.config import Config, ConfigError
from watcher.notify import run_notifier
from watcher.notify.alerts import AlertWatcher
from watcher.notify.channels import build_channels
from watcher.notify.digest import send_due_digests
from watcher.notify.outbox import Outbox, RetryPolicy
from watcher.store import Database
from watcher.store.reviews import review

FAST = RetryPolicy(base=0.2, cap=1.0, grace=3.0)
MONDAY_FIRE = utc(2026, 3, 2, 6, 30)  # 07:30 in Stockholm


def _json_channel(sink: HttpSink, mode: str, extra: str = "") -> str:
    url = sink.url("/desk").replace("http://", "json://")
    return f'[[notify]]\nname = "desk"\nurls = ["{url}"]\nmode = "{mode}"\ncoalesce_seconds = 0\n{extra}\n'


async def test_an_alert_mail_says_who_made_each_change(
    db: Database, make_config: Callable[[str], Config], smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    config = make_config(
        f'[[notify]]\nname = "mail"\nurls = ["mailto://127.0.0.1:{port}/?to=anna@museum.example'
        '&from=watcher@museum.example"]\nmode = "immediate"\ncoalesce_seconds = 0\n'
    )
    (channel,), problems = build_channels(config)
    assert problems == []
    watcher = AlertWatcher(db, config, channel, clock=lambda: datetime.now(UTC), on_queued=lambda: None)
    after = await watcher.cursor()
    await add_trusted_change(db, user="Newbie", editor=NEWBIE, tags=("mobile edit",), file="File:Vase.jpg")
    await add_trusted_change(db, user="Veteran", editor=VETERAN, tags=("OAuth CID: 1",), file="File:Bowl.jpg")
    await add_trusted_change(db, user="192.0.2.7", editor=None, file="File:Jug.jpg")
    _, alerted = await watcher.flush(after)
    assert alerted == 3 and await Outbox(db, [channel]).deliver_due() == 1
    (mail,) = sink.mails
    text, page = mail.part("text/plain"), mail.part("text/html")
    assert "by Newbie, " in text and "new account (3 days, 12 edits) · mobile edit" in text
    assert "long-standing editor (since 2011, 45,000 edits)" in text
    assert "IP address (no account)" in text
    assert '<small class="trust">new account (3 days, 12 edits) · mobile edit</small>' in page


async def test_the_digest_lists_signals_and_puts_what_commons_undid_in_one_line(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config = make_config(_json_channel(http_sink, "digest"))
    channels, _ = build_channels(config)
    queued = MONDAY_FIRE - timedelta(hours=2)
    kept = await add_trusted_change(db, user="Newbie", editor=NEWBIE, new="kept value", queued_at=queued)
    undone = [
        await add_trusted_change(
            db,
            user="Vandal",
            editor=facts("2026-03-02T09:00:00Z", 1),
            new=f"spam {n}",
            file=f"File:Spam {n}.jpg",
            queued_at=queued,
        )
        for n in range(3)
    ]
    await review(db, undone, "withdraw", actor="Commons")
    (outcome,) = await send_due_digests(db, config, channels, MONDAY_FIRE)
    assert outcome.content is not None and outcome.changes == 1  # the withdrawn are not counted
    text = outcome.content.render("text")
    assert "3 changes were undone on Commons before you saw them." in text
    assert "kept value" in text and "new account (3 days, 12 edits)" in text
    assert "spam" not in text and "File:Spam" not in text
    assert "3 changes were undone on Commons before you saw them." in outcome.content.render("html")
    assert "3 changes were undone on Commons before you saw them." in outcome.content.render("markdown")
    assert kept not in undone


async def test_channel_filters_on_editor_edits_and_on_what_was_reverted(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config = make_config(
        _json_channel(http_sink, "digest", "min_editor_edits = 100\nexclude_reverted = true")
    )
    channels, _ = build_channels(config)
    queued = MONDAY_FIRE - timedelta(hours=1)
    await add_trusted_change(db, user="Veteran", editor=VETERAN, new="veteran value", queued_at=queued)
    await add_trusted_change(db, user="Newbie", editor=NEWBIE, new="newbie value", queued_at=queued)
    await add_trusted_change(db, user="192.0.2.7", editor=None, new="ip value", queued_at=queued)
    reverted = await add_trusted_change(db, user="Veteran", editor=VETERAN, new="reverted value",
                                        file="File:Other.jpg", queued_at=queued)  # fmt: skip
    await review(db, [reverted], "accept", actor="anna")  # accepted, then Commons reverted it
    await db.write("UPDATE changes SET reverted_by = 99 WHERE id = ?", (reverted,))
    (outcome,) = await send_due_digests(db, config, channels, MONDAY_FIRE)
    assert outcome.content is not None and outcome.changes == 1
    text = outcome.content.render("text")
    assert "veteran value" in text
    assert not any(v in text for v in ("newbie value", "ip value", "reverted value"))


async def test_the_quiet_period_holds_alerts_and_drops_what_was_withdrawn_meanwhile(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config = make_config(_json_channel(http_sink, "immediate") + "\n[filters]\nhold_minutes = 60\n")
    (channel,), _ = build_channels(config)
    clock = ManualClock(datetime.now(UTC))
    watcher = AlertWatcher(db, config, channel, clock=clock, on_queued=lambda: None)
    after = await watcher.cursor()
    vandalism = await add_trusted_change(db, user="Vandal", editor=facts("2026-03-02T09:00:00Z", 1),
                                         new="vandalism", file="File:Vase.jpg")  # fmt: skip
    good = await add_trusted_change(
        db, user="Veteran", editor=VETERAN, new="a good edit", file="File:Bowl.jpg"
    )
    # Within the hour nothing goes out, and the cursor stays before the held changes.
    clock.now += timedelta(minutes=59)
    assert not await watcher.has_pending(after)
    assert await watcher.flush(after) == (after, 0)
    # A patroller reverts the vandalism meanwhile: the change is withdrawn, still in the queue.
    await review(db, [vandalism], "withdraw", actor="Commons")
    clock.now += timedelta(minutes=2)
    assert await watcher.has_pending(after)
    cursor, alerted = await watcher.flush(after)
    assert (cursor, alerted) == (good, 1)
    assert await Outbox(db, [channel], clock=clock).deliver_due() == 1
    (post,) = http_sink.ok("/desk")
    assert "a good edit" in post.body["message"] and "vandalism" not in post.body["message"]
    assert "long-standing editor (since 2011, 45,000 edits)" in post.body["message"]
    row = await db.fetchone("SELECT status FROM changes WHERE id = ?", (vandalism,))
    assert row is not None and row["status"] == "withdrawn"  # out of the way, not deleted
    # Later it never goes out either: nothing is left for the channel.
    clock.now += timedelta(days=1)
    assert await watcher.flush(cursor) == (cursor, 0)


async def test_the_notifier_sends_a_held_alert_once_the_quiet_period_is_over(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    config = make_config(_json_channel(http_sink, "immediate") + "\n[filters]\nhold_minutes = 60\n")
    clock = ManualClock(datetime.now(UTC))
    wake = asyncio.Event()
    task = asyncio.create_task(run_notifier(db, config, clock=clock, wake=wake, retry=FAST))
    try:
        await _cursor_read(db)
        withdrawn = await add_trusted_change(
            db, user="Vandal", editor=NEWBIE, new="vandalism", file="File:A.jpg"
        )
        await add_trusted_change(db, user="Veteran", editor=VETERAN, new="kept", file="File:B.jpg")
        wake.set()
        await review(db, [withdrawn], "withdraw", actor="Commons")
        clock.now += timedelta(minutes=61)
        wake.set()
        await wait_until(lambda: len(http_sink.ok("/desk")) == 1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    (post,) = http_sink.ok("/desk")
    assert post.body["title"] == "Commons Watcher: 1 new change on 1 file"
    assert "kept" in post.body["message"] and "vandalism" not in post.body["message"]


async def _cursor_read(db: Database) -> None:
    deadline = time.monotonic() + 15
    while await db.scalar("SELECT count(*) FROM notify_cursors") == 0:
        assert time.monotonic() < deadline, "the notifier never read its cursor"
        await asyncio.sleep(0.02)


def test_the_new_keys_are_checked(make_config: Callable[[str], Config]) -> None:
    config = make_config(
        '[[notify]]\nname = "a"\nurls = ["json://127.0.0.1/x"]\n\n[filters]\nhold_minutes = 30\n'
    )
    assert config.filters.hold_minutes == 30.0
    assert (config.notify[0].min_editor_edits, config.notify[0].exclude_reverted) == (0, False)
    with pytest.raises(ConfigError) as caught:
        make_config(
            '[[notify]]\nname = "a"\nurls = ["json://127.0.0.1/x"]\nmin_editor_edits = -1\n'
            'exclude_reverted = "yes"\n\n[filters]\nhold_minutes = -5\n'
        )
    found = {(p.path, p.message) for p in caught.value.problems}
    assert ("notify[0].min_editor_edits", "must be 0 or more") in found
    assert ("notify[0].exclude_reverted", "must be true or false, not a string ('yes')") in found
    assert ("filters.hold_minutes", "must be 0 or more (0: alerts go out at once)") in found
