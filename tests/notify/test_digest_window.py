"""Issue 17, item 3: `watcher digest` and `watcher digest --send` cover the same window and say which;
`--send --since DATE` sends what `watcher digest --since DATE` shows; a first start composes no digest
for a day before the database began watching."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from tests.support.config import MINIMAL_CONFIG
from tests.support.notify import HttpSink, SmtpSink, add_change, utc
from watcher.cli.main import main
from watcher.config import Config
from watcher.notify.channels import build_channels
from watcher.notify.digest import send_due_digests
from watcher.notify.schedule import DigestTime
from watcher.store import Database
from watcher.store import state as store_state
from watcher.store.db import iso_utc

ZONE = "Europe/Stockholm"


def _shown(moment: datetime, timing: DigestTime) -> str:
    return timing.local(moment).strftime("%Y-%m-%d %H:%M")


def _window(start: datetime, end: datetime, timing: DigestTime) -> str:
    return f"changes queued {_shown(start, timing)} – {_shown(end, timing)} {ZONE}"


def _label(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


class Setup:
    """A config whose digest went out three hours ago (so no test straddles a digest time), a database,
    and the command line on both."""

    def __init__(self, folder: Path, smtp_port: int) -> None:
        local_now = datetime.now(UTC).astimezone(DigestTime.parse("00:00", ZONE).zone)
        digest_at = (local_now - timedelta(hours=3)).strftime("%H:%M")
        self.timing = DigestTime.parse(digest_at, ZONE)
        self.period, self.fire = self.timing.latest_due(datetime.now(UTC))
        self.database = folder / "w.sqlite3"
        self.config = folder / "config.toml"
        self.config.write_text(
            MINIMAL_CONFIG.replace("[watcher]\n", '[watcher]\ndatabase = "w.sqlite3"\n', 1)
            + f"""
[[notify]]
name = "curators"
urls = ["mailto://127.0.0.1:{smtp_port}/?to=anna@museum.example&from=watcher@museum.example"]
mode = "digest"
digest_at = "{digest_at}"
timezone = "{ZONE}"
""",
            encoding="utf-8",
        )

    def run(self, *args: str) -> Result:
        result = CliRunner().invoke(main, [args[0], "-c", str(self.config), *args[1:]])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        return result

    def queue(self, *files: str, at: datetime | None = None, first_start: datetime | None = None) -> None:
        async def body() -> None:
            db = await Database.connect(self.database)
            try:
                if first_start is not None:
                    async with db.transaction() as conn:
                        await store_state.set_state(conn, store_state.FIRST_START, iso_utc(first_start))
                for file in files:
                    await add_change(db, file=file, new=f"text of {file}", queued_at=at)
            finally:
                await db.close()

        asyncio.run(body())


def _changes(text: str) -> list[str]:
    """The files a rendered digest lists, in order (what a curator reads)."""
    return [line for line in text.splitlines() if line.startswith("File:")]


def test_preview_and_send_cover_the_same_window_and_say_which(
    tmp_path: Path, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    app = Setup(tmp_path, port)
    app.queue("File:Vase.jpg", "File:Bowl.jpg", at=app.fire - timedelta(hours=1))  # in the due digest
    app.queue("File:Later.jpg")  # queued now: after the digest time, so in the next one
    window = _window(app.timing.fire_instant(app.period - timedelta(days=1)), app.fire, app.timing)

    preview = app.run("digest")
    assert preview.exit_code == 0, preview.output
    assert preview.stderr.splitlines() == [
        f"curators: the digest for {_label(app.period)}, due since {_shown(app.fire, app.timing)} and not "
        f"sent yet: {window}; `watcher digest --send` sends exactly this"
    ]
    assert _changes(preview.stdout) == ["File:Bowl.jpg (object EXM-1)", "File:Vase.jpg (object EXM-1)"]

    sent = app.run("digest", "--send")
    assert sent.exit_code == 0, sent.output
    assert f"curators: digest for {app.period} composed: 2 change(s), 1 message(s) ({window})" in sent.stderr
    (mail,) = sink.mails
    assert _changes(mail.part("text/plain")) == _changes(preview.stdout)  # what the preview showed went
    assert _changes(sent.stdout) == _changes(preview.stdout)

    # Now the next digest: the preview shows it so far, --send says when it goes and how to send it now.
    following = app.period + timedelta(days=1)
    next_fire = _shown(app.timing.fire_instant(following), app.timing)
    after = app.run("digest")
    (heading,) = after.stderr.splitlines()
    so_far = f"changes queued {_shown(app.fire, app.timing)} – "
    assert heading.startswith(
        f"curators: the next digest, for {_label(following)}, goes out {next_fire}; so far: {so_far}"
    )
    assert _changes(after.stdout) == ["File:Later.jpg (object EXM-1)"]
    again = app.run("digest", "--send")
    assert again.exit_code == 0, again.output
    assert (
        f"curators: the digest for {app.period} was composed before; not again. The next, for "
        f"{_label(following)}, goes out {next_fire} with the 1 change(s) queued so far ({so_far}"
    ) in again.stderr
    assert f"`watcher digest --send --since {iso_utc(app.fire)}` sends them now" in again.stderr
    assert len(sink.mails) == 1


def test_send_since_sends_what_the_preview_since_shows(tmp_path: Path, smtp: tuple[SmtpSink, int]) -> None:
    sink, port = smtp
    app = Setup(tmp_path, port)
    app.queue("File:Old.jpg", at=app.fire - timedelta(days=3))
    app.queue("File:Vase.jpg", at=app.fire - timedelta(hours=1))
    app.queue("File:Later.jpg")
    since = iso_utc(app.fire - timedelta(days=2))

    preview = app.run("digest", "--since", since)
    assert preview.exit_code == 0, preview.output
    start = f"changes queued {_shown(app.fire - timedelta(days=2), app.timing)} – "
    (heading,) = preview.stderr.splitlines()
    assert heading.startswith(f"curators: {start}") and f"--send --since {since}` sends these now" in heading
    shown = _changes(preview.stdout)
    assert shown == ["File:Later.jpg (object EXM-1)", "File:Vase.jpg (object EXM-1)"]

    sent = app.run("digest", "--send", "--since", since)
    assert sent.exit_code == 0, sent.output
    assert "curators: extra digest composed: 2 change(s), 1 message(s) (" + start in sent.stderr
    (mail,) = sink.mails
    assert _changes(mail.part("text/plain")) == shown
    # An extra digest leaves the schedule alone: the due one still goes, with its own window.
    scheduled = app.run("digest", "--send")
    assert f"curators: digest for {app.period} composed: 1 change(s), 1 message(s)" in scheduled.stderr
    assert _changes(sink.mails[1].part("text/plain")) == ["File:Vase.jpg (object EXM-1)"]


def test_on_install_day_nothing_is_due_and_the_preview_shows_the_first_digest(
    tmp_path: Path, smtp: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp
    app = Setup(tmp_path, port)
    # The daemon's first start was an hour ago, after today's digest time; `watcher history` queued since.
    app.queue("File:Vase.jpg", "File:Bowl.jpg", first_start=datetime.now(UTC) - timedelta(hours=1))
    following = app.period + timedelta(days=1)
    next_fire = _shown(app.timing.fire_instant(following), app.timing)
    so_far = f"changes queued {_shown(app.fire, app.timing)} – "

    preview = app.run("digest")
    (heading,) = preview.stderr.splitlines()
    assert heading.startswith(
        f"curators: the first digest, for {_label(following)}, goes out {next_fire}; so far: {so_far}"
    )
    assert len(_changes(preview.stdout)) == 2

    sent = app.run("digest", "--send")
    assert sent.exit_code == 0, sent.output
    assert (
        f"curators: no digest is due yet. The first, for {_label(following)}, goes out {next_fire} with the "
        f"2 change(s) queued so far ({so_far}"
    ) in sent.stderr
    assert "composed:" not in sent.stderr and sink.mails == []
    hint = f"`watcher digest --send --since {iso_utc(app.fire)}` sends them now"
    assert hint in sent.stderr

    now = app.run("digest", "--send", "--since", iso_utc(app.fire))
    assert now.exit_code == 0, now.output
    (mail,) = sink.mails
    assert _changes(mail.part("text/plain")) == _changes(preview.stdout)


async def test_a_first_start_composes_no_digest_for_before_the_database_watched(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    url = http_sink.url("/digest").replace("http://", "json://")
    config = make_config(f'[[notify]]\nname = "daily"\nurls = ["{url}"]\nmode = "digest"\n')
    channels, _ = build_channels(config)
    monday_fire = utc(2026, 3, 2, 6, 30)  # 07:30 in Stockholm
    async with db.transaction() as conn:  # first started at 10:00, after Monday's digest time
        await store_state.set_state(conn, store_state.FIRST_START, "2026-03-02T09:00:00Z")
    await add_change(db, queued_at=utc(2026, 3, 2, 9, 5))
    assert await send_due_digests(db, config, channels, utc(2026, 3, 2, 9, 10)) == []
    assert await db.fetchall("SELECT * FROM notify_digests") == []
    (first,) = await send_due_digests(db, config, channels, monday_fire + timedelta(days=1))
    assert (first.period, first.changes, first.messages) == (date(2026, 3, 3), 1, 1)
    assert first.window == "changes queued 2026-03-02 07:30 – 2026-03-03 07:30 Europe/Stockholm"


async def test_history_before_the_first_start_counts_as_watching(
    db: Database, make_config: Callable[[str], Config], http_sink: HttpSink
) -> None:
    """`watcher history` on install day, before the daemon: its first change is when watching began."""
    url = http_sink.url("/digest").replace("http://", "json://")
    config = make_config(f'[[notify]]\nname = "daily"\nurls = ["{url}"]\nmode = "digest"\n')
    channels, _ = build_channels(config)
    await add_change(db, source="history", queued_at=utc(2026, 3, 2, 8, 0))  # 09:00 in Stockholm
    assert await send_due_digests(db, config, channels, utc(2026, 3, 2, 12, 0)) == []
    (first,) = await send_due_digests(db, config, channels, utc(2026, 3, 3, 6, 30))
    assert (first.period, first.changes) == (date(2026, 3, 3), 1)
